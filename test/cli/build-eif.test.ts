import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { run } from '../../src/cli/commands/build-eif.js';
import { measurementsRecord } from '../../src/measure/format.js';
import { measureEifFile } from '../../src/measure/node/measure-file.js';
import { OFFICIAL, OFFICIAL_CASES, runCommand } from './measure-support.js';

const cases = OFFICIAL_CASES;
const out = mkdtempSync(join(tmpdir(), 'build-eif-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The argv of an eif_build command line from expected.json (quotes respected). */
function argvOf(command: string): string[] {
  const words = [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  return words.slice(1);
}

describe('enclave-verify build-eif', () => {
  for (const c of cases.filter((x) => !x.pcrs.PCR8)) {
    test(`${c.case}: byte-identical to eif_build 0.3.1`, async () => {
      const output = join(out, `${c.case}.eif`);
      const argv = argvOf(c.command).map((a) => (a === 'out.eif' ? output : a));
      const r = await runCommand(run, argv, new URL(`${c.case}/`, OFFICIAL).pathname);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`Output file: ${output}\n${JSON.stringify({ Measurements: c.pcrs }, null, 2)}\n`);
      expect(createHash('sha256').update(readFileSync(output)).digest('hex')).toBe(c.eif_sha256);
    });
  }

  test('signed-p384: same PCRs incl. PCR8, signature verifies as describe-eif checks it', async () => {
    const c = cases.find((x) => x.case === 'signed-p384')!;
    const output = join(out, 'signed.eif');
    const argv = argvOf(c.command).map((a) => (a === 'out.eif' ? output : a));
    const r = await runCommand(run, [...argv, '--json'], new URL(`${c.case}/`, OFFICIAL).pathname);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    // The signature section's length varies by a few bytes: each r/s byte is a CBOR uint (1 or 2 bytes).
    expect(Math.abs(j.size - readFileSync(new URL(`${c.case}/out.eif`, OFFICIAL)).length)).toBeLessThan(40);
    const m = await measureEifFile(output);
    expect(measurementsRecord(m.pcrs)).toEqual(c.pcrs);
    expect(m.signature?.signatureCheck).toBe(true);
    expect(m.crc.ok).toBe(true);
    // Everything before the signature section is identical to the official file.
    const official = readFileSync(new URL(`${c.case}/out.eif`, OFFICIAL));
    const mine = readFileSync(output);
    expect(mine.subarray(548, 9945).equals(official.subarray(548, 9945))).toBe(true);
  });

  test('a --signing-certificate that is not a PEM certificate: ERR_INPUT_FORMAT, exit 2, nothing written', async () => {
    const dir = new URL('signed-p384/', OFFICIAL).pathname;
    const output = join(out, 'not-written.eif');
    const argv = ['--kernel', 'kernel', '--cmdline', 'x', '--ramdisk', 'ramdisk0', '--output', output];
    const r = await runCommand(
      run,
      [...argv, '--signing-certificate', 'kernel', '--private-key', 'signing-key.pem', '--json'],
      dir,
    );
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      code: 'ERR_INPUT_FORMAT',
      message:
        '--signing-certificate kernel: no PEM "CERTIFICATE" block found; give the signer\'s X.509 certificate in PEM',
    });
    expect(existsSync(output)).toBe(false);
  });

  test('a private key that does not match the certificate is refused', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const other = join(out, 'other-key.pem');
    writeFileSync(
      other,
      generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'sec1', format: 'pem' }),
    );
    const dir = new URL('signed-p384/', OFFICIAL).pathname;
    const r = await runCommand(
      run,
      [
        '--kernel',
        'kernel',
        '--cmdline',
        'x',
        '--ramdisk',
        'ramdisk0',
        '--output',
        join(out, 'x.eif'),
        '--signing-certificate',
        'signing-cert.pem',
        '--private-key',
        other,
        '--json',
      ],
      dir,
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'ERR_USAGE' });
    expect(r.code).toBe(2);
  });

  test.each([
    [['--kernel', 'kernel', '--cmdline', 'x', '--output', 'o.eif']],
    [
      [
        '--kernel',
        'kernel',
        '--cmdline',
        'x',
        '--ramdisk',
        'ramdisk0',
        '--output',
        'o.eif',
        '--arch',
        'riscv',
      ],
    ],
    [
      [
        '--kernel',
        'kernel',
        '--cmdline',
        'x',
        '--ramdisk',
        'ramdisk0',
        '--output',
        'o.eif',
        '--private-key',
        'signing-key.pem',
      ],
    ],
    [['--frobnicate']],
  ])('usage error for %j', async (argv) => {
    const r = await runCommand(run, [...argv, '--json'], new URL('signed-p384/', OFFICIAL).pathname);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'ERR_USAGE' });
  });
});
