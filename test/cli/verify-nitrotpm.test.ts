// `verify` and `inspect` on NitroTPM documents (issue 16 part 1), and the secure default of
// `verify` (part 4): no run without an expectation unless --any-pcrs.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { cli, NITRO } from './verify-support.js';

const TPM = new URL('../nitrotpm/', NITRO);
const tpmDir = new URL('.', TPM).pathname;
const manifest = JSON.parse(readFileSync(new URL('manifest.json', TPM), 'utf8')) as Array<{
  name: string;
  file: string;
  module_id: string;
  nitrotpm_pcrs: Record<string, string>;
}>;
const doc = manifest[0]!;
const pcr = (i: number) => `${i}=${doc.nitrotpm_pcrs[String(i)]}`;
const run = (argv: string[]) => cli(argv, { cwd: tpmDir });
const ANJUNA = 'valid/anjuna_2021-03-17_prod.cbor';

describe('verify on NitroTPM documents', () => {
  test('the text report names the kind and labels the PCRs as NitroTPM PCRs', async () => {
    const r = await run(['verify', doc.file, '--at', 'document', '--pcr', pcr(4), '--pcr', pcr(7)]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(
      'VERIFIED: genuine AWS NitroTPM attestation document of an EC2 instance, expected PCRs match',
    );
    expect(lines).toContain(
      'kind        nitrotpm: EC2 instance NitroTPM (payload field nitrotpm_pcrs, TPM PCRs)',
    );
    expect(lines).toContain(`module      ${doc.module_id}`);
    expect(lines).toContain('debug       n/a (NitroTPM documents have no debug mode)');
    expect(lines).toContain(
      'NitroTPM PCRs (nitrotpm_pcrs: TPM PCR0..23, SHA-384; expected values below a mismatch)',
    );
    expect(lines).toContain(`   4 match  ${doc.nitrotpm_pcrs['4']}`);
    expect(lines).toContain(`  17        ${'ff'.repeat(48)}`);
    expect(r.stdout).toMatch(/\n {2}ok {3}debug +NitroTPM document: no debug mode exists/);
  });

  test('--json: kind, the PCR field, and all 24 PCRs exact', async () => {
    const r = await run(['verify', doc.file, '--at', 'document', '--pcr', pcr(4), '--json']);
    const j = JSON.parse(r.stdout);
    expect([r.code, j.ok, j.kind, j.pcrsChecked]).toEqual([0, true, 'nitrotpm', true]);
    expect([j.document.kind, j.document.pcrsField]).toEqual(['nitrotpm', 'nitrotpm_pcrs']);
    expect(j.document.pcrs).toEqual(doc.nitrotpm_pcrs);
    expect(j.pcrs).toHaveLength(24);
  });

  test('--kind requires one kind: nitrotpm passes, enclave is ERR_KIND_MISMATCH (exit 1)', async () => {
    const ok = await run(['verify', doc.file, '--at', 'document', '--pcr', pcr(4), '--kind', 'nitrotpm']);
    expect(ok.code).toBe(0);
    const bad = await run([
      'verify',
      doc.file,
      '--at',
      'document',
      '--pcr',
      pcr(4),
      '--kind',
      'enclave',
      '--json',
    ]);
    const j = JSON.parse(bad.stdout);
    expect([bad.code, j.code, j.kind]).toEqual([1, 'ERR_KIND_MISMATCH', 'nitrotpm']);
    expect(j.checks.find((c: { name: string }) => c.name === 'kind')).toMatchObject({
      ok: false,
      code: 'ERR_KIND_MISMATCH',
    });
    const enclave = await cli(['verify', ANJUNA, '--at', 'document', '--any-pcrs', '--kind', 'nitrotpm']);
    expect([enclave.code, enclave.stdout.split('\n')[0]?.slice(0, 35)]).toEqual([
      1,
      'REJECTED ERR_KIND_MISMATCH: the doc',
    ]);
  });

  test('an expected PCR still at its reset value is a mismatch, and the report says why', async () => {
    const r = await run([
      'verify',
      doc.file,
      '--at',
      'document',
      '--pcr',
      pcr(4),
      '--pcr',
      `12=${'00'.repeat(48)}`,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe(
      'REJECTED ERR_PCR_MISMATCH: PCR12 (all zero: nothing measured, so it cannot confirm any expectation) differs from the expected values: the instance did not boot the expected software (compare the PCR table with the values of the AMI build, e.g. from nitro-tpm-pcr-compute)',
    );
    expect(r.stdout).toContain(
      `  12 DIFFER ${'00'.repeat(48)}\n     expected  ${'00'.repeat(48)}\n     (reset value: nothing was measured into this PCR, so no expectation can match it)\n`,
    );
  });

  test('inspect says which kind it decoded', async () => {
    const r = await run(['inspect', doc.file]);
    const j = JSON.parse(r.stdout);
    expect([r.code, j.unverified, j.document.kind, j.document.pcrsField]).toEqual([
      0,
      true,
      'nitrotpm',
      'nitrotpm_pcrs',
    ]);
    expect(j.document.pcrs['23']).toBe(doc.nitrotpm_pcrs['23']);
    const enclave = JSON.parse((await cli(['inspect', ANJUNA])).stdout);
    expect([enclave.document.kind, enclave.document.pcrsField]).toEqual(['enclave', 'pcrs']);
  });
});

describe('verify without an expectation (secure default)', () => {
  const MESSAGE =
    'no expected PCRs given: without them verify proves only that the document is genuine, not which code runs. Say what you expect with --pcr, --expect-pcrs, --eif, --kernel/--cmdline/--ramdisk, --rebuild, or pass --any-pcrs to check genuineness only; see `enclave-verify verify --help`';

  test('stops with ERR_USAGE (exit 2) naming the expectation flags and --any-pcrs, before reading anything', async () => {
    const r = await cli(['verify', ANJUNA, '--at', 'document']);
    expect([r.code, r.stdout, r.stderr]).toEqual([2, '', `enclave-verify: ERR_USAGE: ${MESSAGE}\n`]);
    // Even a missing file is not read: the choice comes first.
    const missing = await cli(['verify', 'no-such.cbor', '--json']);
    expect([missing.code, JSON.parse(missing.stdout).code]).toEqual([2, 'ERR_USAGE']);
    expect(JSON.parse(missing.stdout).message).toBe(MESSAGE);
  });

  test('--any-pcrs verifies genuineness only, and the report keeps saying so', async () => {
    const r = await cli(['verify', ANJUNA, '--at', 'document', '--any-pcrs']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(
      'VERIFIED: genuine AWS Nitro attestation document, no PCRs expected: only genuineness is checked, NOT which code runs',
    );
    const j = JSON.parse((await cli(['verify', ANJUNA, '--at', 'document', '--any-pcrs', '--json'])).stdout);
    expect([j.ok, j.pcrsChecked, j.kind]).toEqual([true, false, 'enclave']);
    expect(j.checks.map((c: { name: string }) => c.name)).not.toContain('pcrs');
  });

  test('--any-pcrs with an expectation is a contradiction (ERR_USAGE); measuring flags count as expectations', async () => {
    const both = await cli(['verify', ANJUNA, '--any-pcrs', '--pcr', `0=${'ab'.repeat(48)}`]);
    expect([both.code, both.stderr]).toEqual([
      2,
      'enclave-verify: ERR_USAGE: --any-pcrs says no PCRs are expected, but --pcr gives expected PCRs: drop one of them; see `enclave-verify verify --help`\n',
    ]);
    // --cmdline alone is an incomplete expectation: the parts reader names what is missing.
    const parts = await cli(['verify', ANJUNA, '--cmdline', 'console=ttyS0']);
    expect([parts.code, parts.stderr]).toEqual([
      2,
      'enclave-verify: ERR_USAGE: measuring expected PCRs from parts needs --kernel, --cmdline and at least one --ramdisk (see enclave-verify verify --help)\n',
    ]);
  });
});
