import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { run } from '../../src/cli/commands/pcr.js';
import { OFFICIAL, runCommand } from './measure-support.js';

const pub = JSON.parse(readFileSync(new URL('../public-vectors.json', OFFICIAL), 'utf8'));
const signed = new URL('signed-p384/', OFFICIAL).pathname;

describe('enclave-verify pcr', () => {
  test('--string: PCR3 and PCR4 examples of the AWS documentation', async () => {
    for (const v of [pub.pcr3_aws_doc_example, pub.pcr4_aws_doc_example]) {
      const r = await runCommand(run, ['--string', v.input_utf8], '/');
      expect(r).toEqual({ code: 0, stdout: `${v.expected}\n`, stderr: '' });
    }
  });
  test('--signing-certificate gives PCR8, nitro-cli format', async () => {
    const r = await runCommand(
      run,
      ['--signing-certificate', 'signing-cert.pem', '--format', 'nitro-cli'],
      signed,
    );
    expect(r.stdout).toBe(
      `{\n  "PCR": "c18636a166bf90d095a683aea583b67085c7b5c7bae761e878f4edc54adebb0780bbb1bbb6041fa711ebfff1b6ca8506"\n}\n`,
    );
  });
  test('--input of a single-ramdisk EIF part list equals PCR0 of kernel||cmdline||ramdisk only for the whole stream', async () => {
    // An empty file: extend(SHA384("")) is the empty-PCR2 constant.
    const r = await runCommand(run, ['--input', '../empty-ramdisk/ramdisk0', '--json'], signed);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      from: 'input',
      PCR: pub.pcr2_no_application_ramdisk.expected,
    });
  });
  test.each([[[]], [['--string', 'a', '--input', 'b']], [['--format', 'x', '--string', 'a']], [['--nope']]])(
    'usage error for %j',
    async (argv) => {
      const r = await runCommand(run, [...argv, '--json'], '/');
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'ERR_USAGE' });
    },
  );
  test('a --signing-certificate that is not a PEM certificate: ERR_INPUT_FORMAT naming it, exit 2', async () => {
    const r = await runCommand(run, ['--signing-certificate', 'kernel'], signed);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'enclave-verify: ERR_INPUT_FORMAT: --signing-certificate kernel: no PEM "CERTIFICATE" block found; give the signer\'s X.509 certificate in PEM\n',
    });
  });
  test('unreadable input', async () => {
    const r = await runCommand(run, ['--input', 'nope', '--json'], signed);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'ERR_IO' });
  });
});
