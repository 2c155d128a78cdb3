import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, issueAttestation } from '../../src/forge/index.js';
import { formatPcrsLines } from '../../src/measure/format.js';
import { pcrsFromParts } from '../../src/measure/pcr.js';
import { CAUTION_CMDLINE } from '../../src/rebuild/caution.js';
import { toHex } from '../../src/util/bytes.js';
import { BUILD_INPUTS, cautionReference } from '../rebuild/fixtures.js';
import { goldenBook } from '../rebuild/golden.js';
import { sh, tempDir } from '../rebuild/oracle.js';
import { controlCharacters, runCli } from '../support/cli.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const golden = goldenBook('caution');

/** `enclave-verify ...args` in `cwd`, through the real dispatcher. */
async function cli(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  const r = await runCli(args, { cwd });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

/** `rebuild --recipe caution --app app.tar` with these overlays, the start of most runs here. */
const cautionRebuild = (...overlays: string[]) => [
  'rebuild',
  '--recipe',
  'caution',
  '--app',
  'app.tar',
  ...overlays.flatMap((o) => ['--overlay', o]),
];

describe('enclave-verify rebuild / ramdisk against the real pipeline', () => {
  let dir: string;
  let cleanup: () => void;
  let kernel: Uint8Array;
  let refGz: Uint8Array;
  let refCpio: Uint8Array;
  beforeAll(async () => {
    ({ dir, cleanup } = tempDir('ev-cli-rebuild-'));
    sh(BUILD_INPUTS, dir);
    // ref.cpio(.gz): the real tools' output (live or, without them, proven equal to it by hash)
    ({ cpio: refCpio, gz: refGz } = await cautionReference(dir, golden));
    kernel = new Uint8Array(createHash('sha512').update('kernel').digest());
    writeFileSync(`${dir}/bzImage`, kernel);
    // expected PCRs computed from the reference tools' ramdisk, not from our output
    writeFileSync(
      `${dir}/expected.pcrs`,
      formatPcrsLines(pcrsFromParts({ kernel, cmdline: CAUTION_CMDLINE, ramdisks: [refGz] })),
    );
  });
  afterAll(() => cleanup());

  it('rebuilds rootfs.cpio, rootfs.cpio.gz and enclave.eif whose PCRs match the reference', async () => {
    const r = await cli(
      [
        ...cautionRebuild('ov1.tar', 'ov2.tar'),
        '--kernel',
        'bzImage',
        '--out',
        'out',
        '--build-time',
        '2025-01-01T00:00:00+00:00',
        '--expect-pcrs',
        'expected.pcrs',
        '--reference',
        'ref.cpio.gz',
        '--json',
      ],
      dir,
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.ok).toBe(true);
    expect(j.appFormat).toBe('export');
    expect(sha(readFileSync(`${dir}/out/rootfs.cpio`))).toBe(sha(refCpio));
    expect(sha(readFileSync(`${dir}/out/rootfs.cpio.gz`))).toBe(sha(refGz));
    const expected = pcrsFromParts({ kernel, cmdline: CAUTION_CMDLINE, ramdisks: [refGz] });
    expect(j.pcrs).toEqual({
      PCR0: toHex(expected.pcr0),
      PCR1: toHex(expected.pcr1),
      PCR2: toHex(expected.pcr2),
    });
    expect(j.pcrs.PCR0).toBe(j.pcrs.PCR1);
    expect(j.expected.checks.map((c: { ok: boolean }) => c.ok)).toEqual([true, true, true]);
    expect(j.reference).toMatchObject({ cpioIdentical: true, gzIdentical: true });
    expect(readFileSync(`${dir}/out/enclave.eif`).subarray(0, 4).toString()).toBe('.eif');
  });

  it('reports the differing entries and exits 1 when the reference differs', async () => {
    sh('printf x >> ov2/manifest.json && tar --format=ustar -C ov2 -cf ov2b.tar manifest.json', dir);
    const r = await cli(
      [...cautionRebuild('ov1.tar', 'ov2b.tar'), '--out', 'out2', '--reference', 'ref.cpio.gz'],
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain('cpio DIFFERS');
    expect(r.out).toMatch(/~ manifest\.json: size 19 vs 18, sha256 /);
    expect(r.out).toContain('- run.sh (only in the reference)');
    expect(r.out).toContain('~ usr/bin/app: size 19 vs 7');
  });

  // plain: the extracted tree is archived as it is (the caution recipe would re-normalise the
  // overlay modes 0750/0640 the reference keeps)
  it('round trip: ramdisk extract of the real tools archive, rebuilt, is identical', async () => {
    const x = await cli(['ramdisk', 'extract', 'ref.cpio.gz', '--out', 'extracted'], dir);
    expect(x.code).toBe(0);
    const t = await cli(['ramdisk', 'extract', 'ref.cpio.gz', '--out', 'extracted.tar'], dir);
    expect(t.code).toBe(0);
    for (const [app, fmt] of [
      ['extracted', 'dir'],
      ['extracted.tar', 'export'],
    ] as const) {
      const out = `rt-${fmt}`;
      const r = await cli(
        ['rebuild', '--recipe', 'plain', '--app', app, '--out', out, '--reference', 'ref.cpio.gz', '--json'],
        dir,
      );
      expect(r.code, r.out + r.err).toBe(0);
      expect(JSON.parse(r.out).appFormat).toBe(fmt);
      expect(sha(readFileSync(`${dir}/${out}/rootfs.cpio`))).toBe(sha(refCpio));
      expect(sha(readFileSync(`${dir}/${out}/rootfs.cpio.gz`))).toBe(sha(refGz));
    }
  });

  it('ramdisk ls lists entries with hashes, link targets and hard-link carriers', async () => {
    const r = await cli(['ramdisk', 'ls', 'out/rootfs.cpio.gz', '--json'], dir);
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.out).ramdisks[0].entries as Record<string, unknown>[];
    expect(entries[0]).toMatchObject({ path: '.', type: 'dir', mode: '0755', uid: 0, gid: 0, index: 0 });
    expect(entries.find((e) => e.path === 'bin')).toMatchObject({
      type: 'symlink',
      target: 'usr/bin',
      mode: '0777',
    });
    const init = entries.find((e) => e.path === 'init');
    expect(init).toMatchObject({ size: 15, sha256: sha(new TextEncoder().encode('#!/bin/sh\ninit\n')) });
    const osr = entries.filter((e) => e.path === 'etc/os-release' || e.path === 'usr/lib/os-release');
    expect(osr.map((e) => e.dataIn)).toEqual(['usr/lib/os-release', 'usr/lib/os-release']);
    const human = await cli(['ramdisk', 'ls', 'out/rootfs.cpio'], dir);
    expect(human.out).toMatch(/^symlink 0777 0:0 +7 -\s+bin -> usr\/bin$/m);
  });

  it('compares with the PCRs of an attestation document and lists the EIF ramdisk', async () => {
    const expected = pcrsFromParts({ kernel, cmdline: CAUTION_CMDLINE, ramdisks: [refGz] });
    const pki = await createTestPki();
    const good = await issueAttestation(pki, {
      pcrs: { 0: expected.pcr0, 1: expected.pcr1, 2: expected.pcr2 },
    });
    const bad = await issueAttestation(pki, {
      pcrs: { 0: new Uint8Array(48).fill(7), 1: expected.pcr1, 2: expected.pcr2 },
    });
    writeFileSync(`${dir}/good.cbor`, good);
    writeFileSync(`${dir}/bad.cbor`, bad);
    const args = cautionRebuild('ov1.tar', 'ov2.tar');
    const ok = await cli([...args, '--kernel', 'bzImage', '--out', 'out-doc', '--expect', 'good.cbor'], dir);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain('PCR0 matches');
    const ko = await cli([...args, '--kernel', 'bzImage', '--out', 'out-doc2', '--expect', 'bad.cbor'], dir);
    expect(ko.code).toBe(1);
    expect(ko.out).toContain(`PCR0 DIFFERS: expected ${'07'.repeat(48)}`);
    expect(ko.err).toContain('ERR_PCR_MISMATCH');
    const fromEif = await cli(['ramdisk', 'ls', 'out-doc/enclave.eif', '--json'], dir);
    const fromGz = await cli(['ramdisk', 'ls', 'ref.cpio.gz', '--json'], dir);
    expect(JSON.parse(fromEif.out).ramdisks[0].entries).toEqual(JSON.parse(fromGz.out).ramdisks[0].entries);
    const diff = await cli(['ramdisk', 'diff', 'out-doc/enclave.eif', 'ref.cpio'], dir);
    expect([diff.code, diff.out]).toEqual([0, 'identical\n']);
  });

  it('--expect-pcrs takes a canary config with --target; without it, fails before rebuilding', async () => {
    const expected = pcrsFromParts({ kernel, cmdline: CAUTION_CMDLINE, ramdisks: [refGz] });
    const canary = (pcr0: string) => ({
      id: pcr0 === toHex(expected.pcr0) ? 'this' : 'other',
      expected_pcrs: { '0': pcr0 },
    });
    writeFileSync(
      `${dir}/canary.json`,
      JSON.stringify({ version: 0, targets: [canary(toHex(expected.pcr0)), canary('ab'.repeat(48))] }),
    );
    const base = cautionRebuild('ov1.tar', 'ov2.tar');
    const args = [...base, '--kernel', 'bzImage', '--expect-pcrs', 'canary.json', '--json'];
    const none = await cli([...args, '--out', 'canary-none'], dir);
    expect(none.code).toBe(2);
    expect(JSON.parse(none.out)).toMatchObject({ ok: false, code: 'ERR_EXPECTED_PCRS_FORMAT' });
    expect(existsSync(`${dir}/canary-none`)).toBe(false);
    const match = await cli([...args, '--target', 'this', '--out', 'canary-this'], dir);
    expect(match.code).toBe(0);
    expect(JSON.parse(match.out).expected).toEqual({
      source: 'canary.json (target this)',
      checks: [{ pcr: 0, expected: [toHex(expected.pcr0)], actual: toHex(expected.pcr0), ok: true }],
    });
    const other = await cli([...args, '--target', 'other', '--out', 'canary-other'], dir);
    expect(other.code).toBe(1);
    expect((await cli([...base, '--target', 'this', '--out', 'x'], dir)).err).toMatch(
      /^enclave-verify: ERR_USAGE: --target needs --expect-pcrs FILE/,
    );
  });

  it('a run without --kernel removes the enclave.eif an earlier run left in the same --out', async () => {
    const base = [...cautionRebuild('ov1.tar'), '--out', 'same'];
    expect((await cli([...base, '--kernel', 'bzImage'], dir)).code).toBe(0);
    expect(existsSync(`${dir}/same/enclave.eif`)).toBe(true);
    const again = await cli([...base, '--json'], dir);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out).eif).toBeUndefined();
    expect(existsSync(`${dir}/same/enclave.eif`)).toBe(false);
    expect(existsSync(`${dir}/same/rootfs.cpio.gz`)).toBe(true);
  });

  it('ramdisk ls and rebuild print member names without control characters', async () => {
    sh(
      `mkdir -p ctl/bin && : > "ctl/bin/$(printf 'a\\033[2Jb\\nVERIFIED')" && tar -C ctl -cf ctl.tar .`,
      dir,
    );
    const rebuilt = await cli(['rebuild', '--recipe', 'plain', '--app', 'ctl.tar', '--out', 'ctl-out'], dir);
    expect(rebuilt.code).toBe(0);
    const ls = await cli(['ramdisk', 'ls', 'ctl-out/rootfs.cpio'], dir);
    expect(ls.code).toBe(0);
    expect(controlCharacters(ls.out)).toEqual([]);
    expect(ls.out).toMatch(/ bin\/a \[2Jb VERIFIED\n/);
    expect(ls.out.split('\n').filter((l) => l.startsWith('VERIFIED'))).toEqual([]);
  });

  it('refuses bad usage and unsafe archives with the right codes', async () => {
    const help = await cli(['rebuild', '--help'], dir);
    expect([help.code, help.out.startsWith('usage: enclave-verify rebuild')]).toEqual([0, true]);
    const rhelp = await cli(['ramdisk', '--help'], dir);
    expect([rhelp.code, rhelp.out.startsWith('usage: enclave-verify ramdisk')]).toEqual([0, true]);
    expect((await cli(['ramdisk', 'frobnicate', 'x'], dir)).code).toBe(2);
    expect((await cli(['rebuild', '--app', 'app.tar', '--out', 'x'], dir)).code).toBe(2);
    expect((await cli(['rebuild', '--recipe', 'caution', '--bogus'], dir)).code).toBe(2);
    sh("printf 'x' > evil && tar --absolute-names -cf abs.tar /etc/hostname", dir);
    const abs = await cli(
      ['rebuild', '--recipe', 'caution', '--app', 'abs.tar', '--out', 'o3', '--json'],
      dir,
    );
    expect(JSON.parse(abs.out)).toMatchObject({ ok: false, code: 'ERR_ARCHIVE_UNSAFE' });
    expect(abs.code).toBe(1);
    writeFileSync(
      `${dir}/garbage.cpio`,
      'not a cpio archive at all, but long enough to hold a newc header ....'.repeat(3),
    );
    const bad = await cli(['ramdisk', 'ls', 'garbage.cpio', '--json'], dir);
    expect(JSON.parse(bad.out)).toMatchObject({ ok: false, code: 'ERR_ARCHIVE_MALFORMED' });
  });
});
