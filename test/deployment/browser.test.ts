import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type DemoEnclave, startDemoEnclave } from '../../src/deployment/demo/enclave.js';
import { toHex } from '../../src/util/bytes.js';
import { launchBrowser } from '../support/browser.js';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));

let demo: DemoEnclave;
let page: http.Server;
let pageOrigin: string;
let browser: Browser;
let context: BrowserContext;
let bundle = '';
let others = new Map<string, string>();

beforeAll(async () => {
  const [built, started] = await Promise.all([
    build({
      configFile: false,
      logLevel: 'error',
      build: {
        minify: false,
        write: false,
        lib: {
          entry: join(PROJECT, 'src/deployment/verify-deployment.ts'),
          formats: ['es'],
          fileName: 'deployment',
        },
      },
    }),
    startDemoEnclave(),
  ]);
  demo = started;
  const outputs = (Array.isArray(built) ? built : [built]) as Array<{
    output: Array<{ type: string; fileName: string; isEntry?: boolean; code?: string }>;
  }>;
  // The entry, and the chunks Vite splits off (e.g. the revocation checker, loaded on demand).
  const chunks = (outputs[0]?.output ?? []).filter((o) => o.type === 'chunk');
  bundle = chunks.find((o) => o.isEntry)?.code ?? '';
  others = new Map(chunks.filter((o) => !o.isEntry).map((o) => [`/${o.fileName}`, o.code ?? '']));
  page = http.createServer((req, res) => {
    if (req.url === '/deployment.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    } else if (others.has(req.url ?? '')) {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(others.get(req.url ?? ''));
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>deployment</title>');
    }
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  browser = await launchBrowser();
  context = await browser.newContext({
    // Stands in for a user who installed the demo's CA; only this test browser profile is affected.
    ignoreHTTPSErrors: true,
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await demo?.close();
  page?.closeAllConnections();
  await new Promise<void>((resolve) => (page ? page.close(() => resolve()) : resolve()));
});

test('the bundle has no Node built-ins', () => {
  expect(bundle.length).toBeGreaterThan(1000);
  expect(bundle).not.toMatch(/from ['"]node:/);
  for (const code of others.values()) expect(code).not.toMatch(/from ['"]node:/);
});

test('in Chromium, across origins: verified, TLS binding unchecked (not passed)', async () => {
  const tab = await context.newPage();
  await tab.goto(pageOrigin);
  const args = {
    origin: demo.origin,
    rootPem: demo.rootPem,
    pcrs: { 0: toHex(demo.image.pcrs.pcr0), 1: toHex(demo.image.pcrs.pcr1), 2: toHex(demo.image.pcrs.pcr2) },
  };
  // Source text, not a function: vitest would rewrite a dynamic import inside a function body.
  const result = await tab.evaluate(`(async ({ origin, rootPem, pcrs }) => {
    const lib = await import(location.origin + '/deployment.js');
    const ok = await lib.verifyDeployment(origin, { trustedRoots: [rootPem], expectedPcrs: pcrs, timeoutMs: 10000 });
    const wrong = await lib.probeDeployment(origin, { trustedRoots: [rootPem], expectedPcrs: { 0: 'ab'.repeat(48) } });
    return {
      tls: ok.tlsBinding.status,
      domain: ok.tlsBinding.claim && ok.tlsBinding.claim.domain,
      pcrMatches: ok.verification.pcrs.filter((r) => r.match).map((r) => r.index),
      nonceLength: ok.nonce.length,
      wrongCode: wrong.error && wrong.error.code,
    };
  })(${JSON.stringify(args)})`);
  expect(result).toEqual({
    tls: 'unchecked',
    domain: '127.0.0.1',
    pcrMatches: [0, 1, 2],
    nonceLength: 32,
    wrongCode: 'ERR_PCR_MISMATCH',
  });
  expect(demo.issued).toBe(2);
});
