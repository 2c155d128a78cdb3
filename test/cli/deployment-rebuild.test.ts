/**
 * `deployment URL --rebuild RECIPE`: a minimal loopback HTTPS attestation server signing with the
 * forge PKI, whose PCRs are the ones `rebuild` computed from the recipe's sources. Passes with
 * that recipe, fails with ERR_PCR_MISMATCH when one overlay byte differs, and the audit record's
 * re-check command rebuilds again from the recipe file.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDemoTlsCertificate } from '../../src/deployment/demo/tls-certificate.js';
import { createTestPki, issueAttestation } from '../../src/forge/index.js';
import { fromHex } from '../../src/util/bytes.js';
import { runCli } from '../support/cli.js';
import { sha256File, writeRecipeInputs, writeTamperedOverlay } from './rebuild-recipe-support.js';

let dir: string;
let server: https.Server;
let origin: string;
let pcrs: Record<string, string>;
let rootfsSha: string;

const cli = (argv: string[]) => runCli(argv, { cwd: dir });
/** `deployment <origin> --root root.pem --ca tls.pem ...extra` against the test server. */
const deploymentCheck = (...extra: string[]) =>
  cli(['deployment', origin, '--root', 'root.pem', '--ca', 'tls.pem', ...extra]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ev-deployment-rebuild-'));
  writeRecipeInputs(dir);
  writeTamperedOverlay(dir, 'enclaveos-b.tar');
  await writeFile(
    join(dir, 'recipe-b.json'),
    JSON.stringify({ recipe: 'caution', app: 'app.tar', overlays: ['enclaveos-b.tar'], kernel: 'bzImage' }),
  );
  const built = await cli(['rebuild', '--recipe-file', 'recipe.json', '--out', 'built', '--json']);
  expect(built.code, built.stdout + built.stderr).toBe(0);
  ({ pcrs } = JSON.parse(built.stdout));
  rootfsSha = sha256File(join(dir, 'built/rootfs.cpio.gz'));

  const tls = await createDemoTlsCertificate();
  const certfp = createHash('sha256').update(tls.certDer).digest('hex');
  const pki = await createTestPki({ label: 'rebuild' });
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
        userData: new Uint8Array(
          Buffer.from(JSON.stringify({ tls: { mode: 'tls', domain: '127.0.0.1', certfp } })),
        ),
        pcrs: { 0: fromHex(pcrs.PCR0!), 1: fromHex(pcrs.PCR1!), 2: fromHex(pcrs.PCR2!) },
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ document: Buffer.from(doc).toString('base64') }));
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

describe('deployment --rebuild RECIPE', () => {
  test('passes; the JSON says rebuilt from sources and pins every input by SHA-256', async () => {
    const r = await deploymentCheck('--rebuild', 'recipe.json', '--json');
    expect(r.code, r.stdout).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    expect(j.tlsBinding.status).toBe('passed');
    expect(j.measuredFrom).toHaveLength(1);
    const m = j.measuredFrom[0];
    expect(m).toMatchObject({ flag: '--rebuild', rebuiltFromSources: true, pcrs });
    expect(m.inputs.map((i: { role: string; sha256: string }) => [i.role, i.sha256])).toEqual([
      ['recipe', sha256File(join(dir, 'recipe.json'))],
      ['app', sha256File(join(dir, 'app.tar'))],
      ['overlay', sha256File(join(dir, 'enclaveos.tar'))],
      ['kernel', sha256File(join(dir, 'bzImage'))],
    ]);
    expect(m.rootfs.sha256).toBe(rootfsSha);
    expect(j.expectations).toContain(
      `--rebuild ${join(dir, 'recipe.json')}: expected PCRs rebuilt from sources (recipe caution):`,
    );
    expect(j.expectations).toContain(
      `overlay ${join(dir, 'enclaveos.tar')} (SHA-256 ${sha256File(join(dir, 'enclaveos.tar'))}, 10240 bytes)`,
    );
  });

  test('one overlay byte differs: exit 1, ERR_PCR_MISMATCH', async () => {
    const r = await deploymentCheck('--rebuild', 'recipe-b.json', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'ERR_PCR_MISMATCH' });
  });

  test('a nitro-cli recipe (image only) is dispatched to its recipe: PCR2 compared, PCR0/PCR1 not recomputed', async () => {
    const vectors = join(import.meta.dirname, '../../vectors/real/nitro-cli/basic');
    await writeFile(join(dir, 'nitro.tar'), await readFile(join(vectors, 'image.docker.tar')));
    await writeFile(join(dir, 'nitro.json'), JSON.stringify({ recipe: 'nitro-cli', image: 'nitro.tar' }));
    const expected = JSON.parse(await readFile(join(vectors, 'expected.json'), 'utf8'));
    // The server attests Caution's PCRs, whose PCR2 is the empty constant: the rebuilt PCR2 differs.
    const r = await deploymentCheck('--rebuild', 'nitro.json', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ ok: false, code: 'ERR_PCR_MISMATCH' });
    expect(JSON.stringify(j)).toContain(expected.pcr2);
    expect(JSON.stringify(j)).toContain('PCR0 and PCR1 were not recomputed');
  });

  test('a bad recipe is exit 2 before any request', async () => {
    await writeFile(
      join(dir, 'bad.json'),
      JSON.stringify({ recipe: 'caution', app: 'app.tar', kernal: 'bzImage' }),
    );
    const r = await deploymentCheck('--rebuild', 'bad.json', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'ERR_USAGE' });
  });

  test('--report: the record lists the rebuilt inputs and its re-check command rebuilds from the recipe', async () => {
    const r = await deploymentCheck('--rebuild', 'recipe.json', '--report', 'audit.md');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('expected PCRs rebuilt from sources (recipe caution):');
    const md = await readFile(join(dir, 'audit.md'), 'utf8');
    expect(md).toContain(`- rebuilt rootfs.cpio.gz (SHA-256 ${rootfsSha}, `);
    expect(md).toContain(`- app ${join(dir, 'app.tar')} (SHA-256 ${sha256File(join(dir, 'app.tar'))}, `);
    const command = /\n(enclave-verify verify document\.b64 [^\n]+)\n/.exec(md)?.[1] ?? '';
    expect(command).toContain(` --rebuild ${join(dir, 'recipe.json')} --root ${join(dir, 'root.pem')}`);
    expect(command).not.toContain('--pcr');
    // Re-check offline exactly as the record says: the document verifies against a fresh rebuild.
    await writeFile(join(dir, 'document.b64'), /```base64\n([\s\S]*?)\n```/.exec(md)?.[1] ?? '');
    const later = await cli(command.split(' ').slice(1));
    expect(later.code, later.stdout).toBe(0);
    expect(later.stdout).toContain('expected PCRs rebuilt from sources');
  });
});
