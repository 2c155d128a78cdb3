/**
 * `checkRevocation` from the runtime-agnostic library, bundled by Vite and run in headless
 * Chromium: a CRL server on another origin that allows CORS gives `good`; one that does not is
 * refused by the browser, and that is reported as `unavailable` (ERR_HTTP), never as good.
 */
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { issueAttestation, testPcrs } from '../../src/forge/attestation.js';
import { issueTestCrl } from '../../src/forge/crl.js';
import { createTestPki } from '../../src/forge/pki.js';
import { toHex } from '../../src/util/bytes.js';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));
// Chromium comes from the shared launcher (system browser or the bundled @sparticuz/chromium);
// until that helper is in the tree this file has no browser to drive and says so.
const LAUNCHER = new URL('../support/browser.ts', import.meta.url);
const HAS_LAUNCHER = existsSync(LAUNCHER);
const AT = new Date('2026-04-01T00:00:00Z');

let page: http.Server;
let crls: http.Server;
let pageOrigin: string;
let crlOrigin: string;
let browser: Browser;
const files = new Map<string, string>();

const listen = async (s: http.Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

const routes = new Map<string, { body: Uint8Array; cors: boolean }>();

beforeAll(async () => {
  if (!HAS_LAUNCHER) return;
  const built = await build({
    configFile: false,
    logLevel: 'error',
    build: {
      minify: false,
      write: false,
      lib: { entry: join(PROJECT, 'src/verify.ts'), formats: ['es'], fileName: 'verify' },
    },
  });
  const outputs = (Array.isArray(built) ? built : [built]) as Array<{
    output: Array<{ type: string; fileName: string; isEntry?: boolean; code?: string }>;
  }>;
  // The entry and the chunks Vite splits off (the revocation checker is loaded on demand).
  const chunks = (outputs[0]?.output ?? []).filter((o) => o.type === 'chunk');
  for (const c of chunks) files.set(`/${c.isEntry ? 'verify.js' : c.fileName}`, c.code ?? '');
  page = http.createServer((req, res) => {
    const code = files.get(req.url ?? '');
    if (code !== undefined) res.writeHead(200, { 'content-type': 'text/javascript' }).end(code);
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>revocation</title>');
  });
  crls = http.createServer((req, res) => {
    const r = routes.get(req.url ?? '');
    if (!r) return void res.writeHead(404).end();
    res.writeHead(200, {
      'content-type': 'application/pkix-crl',
      ...(r.cors ? { 'access-control-allow-origin': '*' } : {}),
    });
    res.end(r.body);
  });
  [pageOrigin, crlOrigin] = await Promise.all([listen(page), listen(crls)]);
  const { launchBrowser } = (await import(/* @vite-ignore */ LAUNCHER.href)) as {
    launchBrowser: () => Promise<Browser>;
  };
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const s of [page, crls]) {
    s?.closeAllConnections();
    await new Promise<void>((r) => (s ? s.close(() => r()) : r()));
  }
});

test.skipIf(!HAS_LAUNCHER)(
  'in Chromium: a CRL served with CORS is good; one refused by CORS is unavailable (ERR_HTTP)',
  async () => {
    const pki = await createTestPki({
      at: AT,
      knobs: {
        regional: { crlDistributionPoints: [`${crlOrigin}/root.crl`] },
        zonal: { crlDistributionPoints: [`${crlOrigin}/regional.crl`] },
      },
    });
    const thisUpdate = new Date(AT.getTime() - 3_600_000);
    routes.set('/root.crl', { body: await issueTestCrl(pki.root, { thisUpdate }), cors: true });
    routes.set('/regional.crl', { body: await issueTestCrl(pki.regional, { thisUpdate }), cors: false });
    const doc = await issueAttestation(pki, { timestamp: AT, pcrs: testPcrs() });
    const tab = await (await browser.newContext()).newPage();
    await tab.goto(pageOrigin);
    const args = {
      doc: Buffer.from(doc).toString('base64'),
      rootPem: pki.rootPem,
      at: AT.toISOString(),
      pcr0: toHex(testPcrs().get(0)!),
    };
    // Source text, not a function: vitest would rewrite a dynamic import inside a function body.
    const result = await tab.evaluate(`(async ({ doc, rootPem, at, pcr0 }) => {
    const lib = await import(location.origin + '/verify.js');
    const bytes = Uint8Array.from(atob(doc), (c) => c.charCodeAt(0));
    const options = { trustedRoots: [rootPem], currentDate: new Date(at), expectedPcrs: { 0: pcr0 } };
    const report = await lib.checkAttestation(bytes, { ...options, checkRevocation: true });
    const required = await lib.checkAttestation(bytes, { ...options, checkRevocation: { require: true } });
    return {
      ok: report.ok,
      statuses: report.revocation.map((s) => [s.status, s.code ?? null]),
      incomplete: report.checks.find((c) => c.name === 'chain.revocation').incomplete === true,
      requiredCode: required.error && required.error.code,
    };
  })(${JSON.stringify(args)})`);
    expect(result).toEqual({
      ok: true,
      statuses: [
        ['not-applicable', null],
        ['not-applicable', null],
        ['unavailable', 'ERR_HTTP'],
        ['good', null],
        ['not-applicable', null],
      ],
      incomplete: true,
      requiredCode: 'ERR_REVOCATION_UNAVAILABLE',
    });
  },
  60_000,
);
