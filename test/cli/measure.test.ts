import { describe, expect, test } from 'vitest';
import { run } from '../../src/cli/commands/measure.js';
import { type Case, OFFICIAL, OFFICIAL_CASES, runCommand } from './measure-support.js';

const cases = OFFICIAL_CASES;
const byName = (n: string) => cases.find((c) => c.case === n)!;
const dirOf = (c: Case) => new URL(`${c.case}/`, OFFICIAL).pathname;

describe('enclave-verify measure', () => {
  test('nitro-cli format of every official EIF equals eif_build output', async () => {
    for (const c of cases) {
      const r = await runCommand(run, [c.eif, '--format', 'nitro-cli'], dirOf(c));
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${JSON.stringify({ Measurements: c.pcrs }, null, 2)}\n`);
    }
  });

  test('pcrs format', async () => {
    const c = byName('nitro-two-ramdisks');
    const r = await runCommand(run, ['out.eif', '--format', 'pcrs'], dirOf(c));
    expect(r.stdout).toBe(`${c.pcrs.PCR0} PCR0\n${c.pcrs.PCR1} PCR1\n${c.pcrs.PCR2} PCR2\n`);
  });

  test('describe-eif of the signed image', async () => {
    const c = byName('signed-p384');
    const r = await runCommand(run, ['out.eif', '--format', 'describe-eif'], dirOf(c));
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(Object.keys(d)).toEqual([
      'EifVersion',
      'Measurements',
      'IsSigned',
      'SigningCertificate',
      'CheckCRC',
      'SignatureCheck',
      'ImageName',
      'ImageVersion',
      'Metadata',
    ]);
    expect(d).toMatchObject({
      EifVersion: 4,
      Measurements: c.pcrs,
      IsSigned: true,
      CheckCRC: true,
      SignatureCheck: true,
      ImageName: 'kernel',
      ImageVersion: '1.0',
    });
    expect(d.SigningCertificate.IssuerName).toEqual({
      commonName: 'enclave-verify test signer',
      organizationName: 'test only',
    });
    expect(d.Metadata).toEqual({
      BuildTime: '2025-01-01T00:00:00+00:00',
      BuildTool: 'eif_build',
      BuildToolVersion: '0.3.1',
      OperatingSystem: 'OS',
      KernelVersion: 'kernel',
      DockerInfo: null,
    });
  });

  test('describe-eif flattens custom metadata into Metadata', async () => {
    const r = await runCommand(
      run,
      ['out.eif', '--format', 'describe-eif'],
      dirOf(byName('three-ramdisks-named')),
    );
    const d = JSON.parse(r.stdout);
    expect([d.ImageName, d.ImageVersion, d.IsSigned, 'SignatureCheck' in d]).toEqual([
      'demo-app',
      'demo-app',
      false,
      false,
    ]);
    expect(d.Metadata).toMatchObject({ alpha: { a: [1, 'x'], b: 2 }, commit: 'abc123', zeta: 1 });
  });

  test('--json prints exactly one object with sections and PCRs', async () => {
    const c = byName('empty-ramdisk');
    const r = await runCommand(run, ['out.eif', '--json'], dirOf(c));
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      ok: true,
      source: 'eif',
      size: 2385,
      version: 4,
      arch: 'x86_64',
      cmdline: 'x',
    });
    expect(j.crc).toEqual({ stored: '8211f04b', computed: '8211f04b', ok: true });
    expect(j.sections.map((s: { kind: string; size: number }) => `${s.kind}:${s.size}`)).toEqual([
      'kernel:1024',
      'cmdline:1',
      'metadata:240',
      'ramdisk:0',
      'ramdisk:512',
    ]);
    expect(j.pcrs).toEqual({ PCR0: c.pcrs.PCR0, PCR1: c.pcrs.PCR1, PCR2: c.pcrs.PCR2 });
  });

  test('human format lists sections and PCRs', async () => {
    const r = await runCommand(run, ['out.eif'], dirOf(byName('aarch64')));
    expect(r.stdout).toMatch(/version 4, aarch64, CRC ok/);
    expect(r.stdout).toMatch(/section {2}3 ramdisk +3000 bytes at 9044/);
    expect(r.stdout).toMatch(/^PCR0 f7559609/m);
  });

  test('from parts, with the signing certificate: same PCRs as the signed EIF, incl. PCR8', async () => {
    const c = byName('signed-p384');
    const r = await runCommand(
      run,
      [
        '--kernel',
        'kernel',
        '--cmdline',
        c.cmdline,
        '--ramdisk',
        'ramdisk0',
        '--signing-certificate',
        'signing-cert.pem',
        '--format',
        'nitro-cli',
      ],
      dirOf(c),
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).Measurements).toEqual(c.pcrs);
  });

  test('from parts, a --signing-certificate that is not a PEM certificate is an input error (exit 2)', async () => {
    const c = byName('signed-p384');
    const argv = ['--kernel', 'kernel', '--cmdline', c.cmdline, '--ramdisk', 'ramdisk0'];
    const r = await runCommand(run, [...argv, '--signing-certificate', 'ramdisk0', '--json'], dirOf(c));
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'ERR_INPUT_FORMAT', class: 'input' });
    expect(JSON.parse(r.stdout).message).toMatch(/^--signing-certificate ramdisk0: /);
  });

  test('from parts --json reports sizes', async () => {
    const c = byName('three-ramdisks-named');
    const r = await runCommand(
      run,
      [
        '--kernel',
        'kernel',
        '--cmdline',
        c.cmdline,
        '--ramdisk',
        'ramdisk0',
        '--ramdisk',
        'ramdisk1',
        '--ramdisk',
        'ramdisk2',
        '--json',
      ],
      dirOf(c),
    );
    const j = JSON.parse(r.stdout);
    expect(j.parts.map((p: { size: number }) => p.size)).toEqual([4096, 13, 1, 4095, 4097]);
    expect(j.pcrs.PCR2).toBe(c.pcrs.PCR2);
  });

  test.each([
    [['--bogus'], 'ERR_USAGE'],
    [[], 'ERR_USAGE'],
    [['a.eif', 'b.eif'], 'ERR_USAGE'],
    [['out.eif', '--format', 'xml'], 'ERR_USAGE'],
    [['--kernel', 'kernel', '--cmdline', 'x'], 'ERR_USAGE'],
    [
      ['--kernel', 'kernel', '--cmdline', 'x', '--ramdisk', 'ramdisk0', '--format', 'describe-eif'],
      'ERR_USAGE',
    ],
    [['missing.eif'], 'ERR_IO'],
    [['kernel'], 'ERR_EIF_MAGIC'],
  ])('%j fails with exit 2 or 1 and %s', async (argv, code) => {
    const r = await runCommand(run, [...argv, '--json'], dirOf(byName('empty-ramdisk')));
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code });
    expect(r.code).toBe(code === 'ERR_EIF_MAGIC' ? 1 : 2);
  });

  test('--help', async () => {
    const r = await runCommand(run, ['--help'], '/');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: enclave-verify measure/);
  });
});
