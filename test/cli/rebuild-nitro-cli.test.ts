// `rebuild --recipe nitro-cli`, its recipe files in `verify --rebuild`, and the library entry,
// on the nitro-cli vectors (ramdisks and PCRs made by linuxkit over Docker 20.10).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, issueAttestation } from '../../src/forge/index.js';
import { rebuildNitroCli } from '../../src/node.js';
import { fromHex, toBase64 } from '../../src/util/bytes.js';
import { runCli } from '../support/cli.js';

const V = join(import.meta.dirname, '../../vectors/real/nitro-cli');
const expected = JSON.parse(readFileSync(join(V, 'links-modes/expected.json'), 'utf8'));
let dir: string;
const cli = (argv: string[]) => runCli(argv, { cwd: dir });
const PARTS = ['--kernel', 'b/kernel', '--cmdline', 'b/cmdline', '--init', 'b/init', '--nsm', 'b/nsm.ko'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ev-nitro-cli-'));
  mkdirSync(join(dir, 'b'));
  for (const f of ['kernel', 'cmdline', 'init', 'nsm.ko'])
    copyFileSync(join(V, 'bootstrap', f), join(dir, 'b', f));
  copyFileSync(join(V, 'links-modes/image.docker.tar'), join(dir, 'app.docker.tar'));
  mkdirSync(join(dir, 'oci'));
  execFileSync('tar', ['-xf', join(V, 'links-modes/image.oci.tar'), '-C', join(dir, 'oci')]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('enclave-verify rebuild --recipe nitro-cli', () => {
  it('rebuilds the customer ramdisk and PCR2 from an OCI layout directory alone, saying why PCR0/PCR1 are absent', async () => {
    const r = await cli(['rebuild', '--recipe', 'nitro-cli', '--image', 'oci', '--out', 'o1', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.customer).toMatchObject({
      sha256: expected.customer_ramdisk_sha256,
      size: expected.customer_ramdisk_size,
    });
    expect(j.pcrs).toEqual({ PCR2: expected.pcr2 });
    expect(j.notComputed).toMatch(/^PCR0 and PCR1 were not computed/);
    expect(j.bootstrap).toBeUndefined();
    expect(j.recipeJson).toEqual({ recipe: 'nitro-cli', image: '../oci' });
  });

  it('with the blobs prints nitro-cli build-enclave Measurements and eif_build .pcrs lines', async () => {
    const n = await cli([
      'rebuild',
      '--recipe',
      'nitro-cli',
      '--image',
      'app.docker.tar',
      ...PARTS,
      '--out',
      'o2',
      '--format',
      'nitro-cli',
    ]);
    expect(n.code).toBe(0);
    expect(JSON.parse(n.stdout)).toEqual({
      Measurements: {
        HashAlgorithm: 'Sha384 { ... }',
        PCR0: expected.pcr0,
        PCR1: expected.pcr1,
        PCR2: expected.pcr2,
      },
    });
    expect(n.stdout).toMatch(/^\{\n {2}"Measurements": \{\n {4}"HashAlgorithm"/);
    const p = await cli([
      'rebuild',
      '--recipe',
      'nitro-cli',
      '--image',
      'app.docker.tar',
      ...PARTS,
      '--out',
      'o2',
      '--format',
      'pcrs',
    ]);
    expect(p.stdout).toBe(`${expected.pcr0} PCR0\n${expected.pcr1} PCR1\n${expected.pcr2} PCR2\n`);
    const m = await cli(['measure', 'o2/enclave.eif', '--format', 'pcrs']);
    expect(m.stdout).toBe(p.stdout);
  });

  it('--expect-pcrs compares only the PCRs it computed and says which were not compared', async () => {
    const file = { PCR0: expected.pcr0, PCR1: expected.pcr1, PCR2: expected.pcr2 };
    writeFileSync(
      join(dir, 'good.json'),
      JSON.stringify({ Measurements: { HashAlgorithm: 'Sha384 { ... }', ...file } }),
    );
    const ok = await cli([
      'rebuild',
      '--recipe',
      'nitro-cli',
      '--image',
      'app.docker.tar',
      '--out',
      'o3',
      '--expect-pcrs',
      'good.json',
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('expected PCRs (good.json), compared: PCR2:\n  PCR2 matches\n');
    expect(ok.stdout).toContain('not compared (not computed without the blobs): PCR0, PCR1\n');
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({ Measurements: { ...file, PCR2: 'ab'.repeat(48) } }),
    );
    const bad = await cli([
      'rebuild',
      '--recipe',
      'nitro-cli',
      '--image',
      'app.docker.tar',
      '--out',
      'o3',
      '--expect-pcrs',
      'bad.json',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      'enclave-verify: ERR_PCR_MISMATCH: the rebuilt PCRs differ from the expected ones\n',
    );
  });

  it('rebuilds an exported root file system with --cmd/--env, and warns about parents Docker would create', async () => {
    execFileSync(
      'sh',
      [
        '-c',
        'mkdir -p rootfs/usr/bin && printf x > rootfs/usr/bin/app && tar --owner=0 --group=0 --mtime=@1700000000 -C rootfs -cf export.tar usr/bin/app',
      ],
      { cwd: dir },
    );
    const r = await cli([
      'rebuild',
      '--recipe',
      'nitro-cli',
      '--image',
      'export.tar',
      '--cmd',
      '/usr/bin/app',
      '--cmd',
      'a b',
      '--env',
      'X=1',
      '--implicit-mtime',
      '1700000001',
      '--out',
      'o4',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect([j.imageFormat, j.cmd, j.env]).toEqual(['export', '/usr/bin/app\na b\n', 'X=1\n']);
    expect(j.implicitEntries).toEqual(['rootfs/usr/', 'rootfs/usr/bin/']);
    expect(j.warnings[0]).toMatch(
      /rootfs\/usr\/, rootfs\/usr\/bin\/ got mtime 1700000001 \(--implicit-mtime\)/,
    );
    const noCmd = await cli(['rebuild', '--recipe', 'nitro-cli', '--image', 'export.tar', '--out', 'o4']);
    expect(noCmd.code).toBe(2);
    expect(noCmd.stderr).toMatch(
      /^enclave-verify: ERR_USAGE: an exported root file system has no image config/,
    );
  });

  it('verify --rebuild with an image-only nitro-cli recipe checks PCR2 and says PCR0/PCR1 were not recomputed', async () => {
    writeFileSync(join(dir, 'recipe.json'), JSON.stringify({ recipe: 'nitro-cli', image: 'app.docker.tar' }));
    const pki = await createTestPki();
    writeFileSync(join(dir, 'root.pem'), pki.rootPem);
    const pcrs = { 0: fromHex('11'.repeat(48)), 1: fromHex('22'.repeat(48)), 2: fromHex(expected.pcr2) };
    writeFileSync(join(dir, 'doc.b64'), toBase64(await issueAttestation(pki, { pcrs })));
    const v = await cli([
      'verify',
      'doc.b64',
      '--root',
      'root.pem',
      '--rebuild',
      'recipe.json',
      '--at',
      'document',
      '--json',
    ]);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
    const m = JSON.parse(v.stdout).measuredFrom[0];
    expect(m).toMatchObject({ recipe: 'nitro-cli', pcrs: { PCR2: expected.pcr2 } });
    expect(m.notRecomputed).toBe(
      'PCR0 and PCR1 were not recomputed (the recipe names no blobs); only PCR2 is checked',
    );
    expect(m.ramdisks).toEqual([
      {
        name: 'customer-initrd.img',
        sha256: expected.customer_ramdisk_sha256,
        size: expected.customer_ramdisk_size,
        entries: 56,
      },
    ]);
    const other = { ...pcrs, 2: fromHex('33'.repeat(48)) };
    writeFileSync(join(dir, 'other.b64'), toBase64(await issueAttestation(pki, { pcrs: other })));
    const w = await cli([
      'verify',
      'other.b64',
      '--root',
      'root.pem',
      '--rebuild',
      'recipe.json',
      '--at',
      'document',
    ]);
    expect(w.code).toBe(1);
    expect(w.stderr + w.stdout).toContain('ERR_PCR_MISMATCH');
  });

  it('--expect compares with an attestation document (decoded, not verified)', async () => {
    const pki = await createTestPki();
    const pcrs = { 0: fromHex(expected.pcr0), 1: fromHex(expected.pcr1), 2: fromHex(expected.pcr2) };
    writeFileSync(join(dir, 'match.b64'), toBase64(await issueAttestation(pki, { pcrs })));
    const r = await cli([
      'rebuild',
      '--recipe',
      'nitro-cli',
      '--image',
      'app.docker.tar',
      ...PARTS,
      '--out',
      'o7',
      '--expect',
      'match.b64',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'compared: PCR0, PCR1, PCR2:\n  PCR0 matches\n  PCR1 matches\n  PCR2 matches\n',
    );
    const off = { ...pcrs, 1: fromHex('44'.repeat(48)) };
    writeFileSync(join(dir, 'off.b64'), toBase64(await issueAttestation(pki, { pcrs: off })));
    const bad = await cli([
      'rebuild',
      '--recipe',
      'nitro-cli',
      '--image',
      'app.docker.tar',
      ...PARTS,
      '--out',
      'o7',
      '--expect',
      'off.b64',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`  PCR1 DIFFERS: expected ${'44'.repeat(48)}\n`);
  });

  it('rebuild --recipe-file takes the nitro-cli recipe and its blobs', async () => {
    writeFileSync(
      join(dir, 'full.json'),
      JSON.stringify({
        recipe: 'nitro-cli',
        image: 'app.docker.tar',
        kernel: 'b/kernel',
        cmdline: 'b/cmdline',
        init: 'b/init',
        nsm: 'b/nsm.ko',
      }),
    );
    const r = await cli(['rebuild', '--recipe-file', 'full.json', '--out', 'o5', '--format', 'pcrs']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${expected.pcr0} PCR0\n${expected.pcr1} PCR1\n${expected.pcr2} PCR2\n`);
    writeFileSync(
      join(dir, 'half.json'),
      JSON.stringify({ recipe: 'nitro-cli', image: 'app.docker.tar', kernel: 'b/kernel' }),
    );
    const h = await cli(['rebuild', '--recipe-file', 'half.json', '--out', 'o5']);
    expect(h.code).toBe(2);
    expect(h.stderr).toMatch(
      /ERR_USAGE: recipe .*half\.json: the parts "kernel", "cmdline", "init" and "nsm" go together/,
    );
  });

  it('rebuildNitroCli is exported from enclave-verify/node', async () => {
    const r = await rebuildNitroCli({
      image: join(dir, 'app.docker.tar'),
      blobs: undefined,
      outDir: join(dir, 'o6'),
    });
    expect([r.customer.sha256, r.pcrs.PCR2, r.pcrs.PCR0]).toEqual([
      expected.customer_ramdisk_sha256,
      expected.pcr2,
      undefined,
    ]);
  });
});
