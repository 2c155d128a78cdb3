// deployment --rebuild: the served (unsigned) manifest compared with /manifest.json of the
// rebuilt ramdisk, which the rebuilt PCRs cover.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDemoTlsCertificate } from '../../src/deployment/demo/tls-certificate.js';
import { createTestPki, issueAttestation } from '../../src/forge/index.js';
import { readCpioMember } from '../../src/rebuild/node/cpio-member.js';
import { fromHex } from '../../src/util/bytes.js';
import { MANIFEST, writeRecipeInputs } from '../cli/rebuild-recipe-support.js';
import { runCli } from '../support/cli.js';

let dir: string;
let server: https.Server;
let origin: string;
let served: unknown = JSON.parse(MANIFEST);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ev-canary-manifest-'));
  writeRecipeInputs(dir);
  const built = await runCli(['rebuild', '--recipe-file', 'recipe.json', '--out', 'built', '--json'], {
    cwd: dir,
  });
  expect(built.code, built.stderr).toBe(0);
  const { pcrs } = JSON.parse(built.stdout) as { pcrs: Record<string, string> };
  const tls = await createDemoTlsCertificate();
  const pki = await createTestPki({ label: 'manifest' });
  await writeFile(join(dir, 'root.pem'), pki.rootPem);
  await writeFile(join(dir, 'tls.pem'), tls.certPem);
  server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c;
    });
    req.on('end', async () => {
      const doc = await issueAttestation(pki, {
        nonce: new Uint8Array(Buffer.from(JSON.parse(body).nonce, 'base64')),
        pcrs: { 0: fromHex(pcrs.PCR0!), 1: fromHex(pcrs.PCR1!), 2: fromHex(pcrs.PCR2!) },
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ document: Buffer.from(doc).toString('base64'), manifest: served }));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((done) => server.close(() => done()));
  await rm(dir, { recursive: true, force: true });
});

const check = (...extra: string[]) =>
  runCli(
    ['deployment', origin, '--root', 'root.pem', '--ca', 'tls.pem', '--rebuild', 'recipe.json', ...extra],
    { cwd: dir },
  );

describe('manifest authenticated by the rebuild', () => {
  test('the cpio member reader finds /manifest.json in the rebuilt ramdisk', () => {
    expect(
      new TextDecoder().decode(readCpioMember(join(dir, 'built/rootfs.cpio'), 'manifest.json', 1024)),
    ).toBe(MANIFEST);
    expect(readCpioMember(join(dir, 'built/rootfs.cpio'), 'no-such-file', 1024)).toBeUndefined();
  });

  test('equal manifest: authenticated by the rebuilt PCRs', async () => {
    served = JSON.parse(MANIFEST);
    const r = await check('--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).manifestAuthentication).toEqual({
      status: 'authenticated',
      summary: 'manifest authenticated by the rebuilt PCRs (equal to /manifest.json of the rebuilt ramdisk)',
      differences: [],
    });
    const text = await check();
    expect(text.stdout).toContain('\nmanifest authenticated by the rebuilt PCRs');
  });

  test('a served manifest that differs shows the differing fields', async () => {
    served = { app_source: 'v2', extra: '\u001b[2J' };
    const r = await check('--json');
    const m = JSON.parse(r.stdout).manifestAuthentication;
    expect(m.status).toBe('differs');
    expect(m.differences).toEqual([
      { path: 'app_source', served: '"v2"', rebuilt: '"v1"' },
      { path: 'extra', served: '"\\u001b[2J"', rebuilt: null },
    ]);
    const text = await check();
    expect(text.stdout).toContain('manifest DIFFERS from the rebuilt /manifest.json (app_source, extra)');
    expect(text.stdout).not.toContain('\u001b');
  });

  test('no manifest served', async () => {
    served = undefined;
    const r = await check('--json');
    expect(JSON.parse(r.stdout).manifestAuthentication.status).toBe('not-served');
  });
});
