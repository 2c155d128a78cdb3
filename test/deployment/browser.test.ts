/**
 * `verifyDeployment` from the runtime-agnostic library, bundled by Vite and run in real headless
 * Chromium against the demo enclave on another loopback origin: the CORS preflight passes, the
 * document verifies with the demo root and PCRs, and the TLS binding is reported as `unchecked`
 * (a page cannot see the connection's certificate), never `passed`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type DemoEnclave, startDemoEnclave } from '../../src/deployment/demo/enclave.js';
import { toHex } from '../../src/util/bytes.js';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));

let demo: DemoEnclave;
let page: http.Server;
let pageOrigin: string;
let context: BrowserContext;
let userDataDir: string;
let bundle = '';

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
    output: Array<{ type: string; code?: string }>;
  }>;
  bundle = outputs[0]?.output.find((o) => o.type === 'chunk')?.code ?? '';
  page = http.createServer((req, res) => {
    if (req.url === '/deployment.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>deployment</title>');
    }
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  userDataDir = mkdtempSync(join(tmpdir(), 'ev-deploy-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
    ],
    // Stands in for a user who installed the demo's CA; only this test browser profile is affected.
    ignoreHTTPSErrors: true,
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await demo?.close();
  page?.closeAllConnections();
  await new Promise<void>((resolve) => (page ? page.close(() => resolve()) : resolve()));
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

test('the bundle has no Node built-ins', () => {
  expect(bundle.length).toBeGreaterThan(1000);
  expect(bundle).not.toMatch(/from ['"]node:/);
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
