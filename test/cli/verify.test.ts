import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { createTestPki, issueAttestation } from '../../src/forge/index.js';
import { pemToDer } from '../../src/trust/roots.js';
import { toBase64, toHex, utf8 } from '../../src/util/bytes.js';
import { controlCharacters } from '../support/cli.js';
import { CAUTION, cli, NITRO } from './verify-support.js';

const ANJUNA = 'valid/anjuna_2021-03-17_prod.cbor';
const manifest = JSON.parse(readFileSync(new URL('manifest.json', NITRO), 'utf8')) as Array<
  Record<string, string>
>;
const anjuna = manifest.find((m) => m.file === ANJUNA)!;
const evidence = JSON.parse(readFileSync(new URL('evidence-v0-vector.json', CAUTION), 'utf8'));
const cautionDir = new URL('.', CAUTION).pathname;

// One temporary directory for the file, removed afterwards.
const work = mkdtempSync(join(tmpdir(), 'ev-verify-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('enclave-verify verify', () => {
  test('a real document at its own time: verdict first, module, time source, PCR table, chain', async () => {
    const r = await cli(['verify', ANJUNA, '--at', 'document', '--pcr', `0=${anjuna.pcr0}`]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('VERIFIED: genuine AWS Nitro attestation document, expected PCRs match');
    expect(r.stdout).toContain('module      i-078824548edcf6519-enc01784234ec227b58');
    expect(r.stdout).toContain("checked at  2021-03-17T22:01:55.685Z (the document's own timestamp");
    expect(r.stdout).toContain(`   0 match  ${anjuna.pcr0}`);
    // Runs of unused zero PCRs collapse to one line, its text in the value column.
    expect(r.stdout).toContain('\n   4        8a4d049b');
    expect(r.stdout).toContain('\n   5-15     (all zero)\n');
    expect(r.stdout).toContain('  root         CN=aws.nitro-enclaves, OU=AWS, O=Amazon, C=US');
    expect(r.stdout).toMatch(/ok {3}chain\.validity/);
  });

  test('a rejection says whether the fields are authentic: signed (policy failed) or NOT verified', async () => {
    const pcr = await cli(['verify', ANJUNA, '--at', 'document', '--pcr', `0=${'ab'.repeat(48)}`]);
    expect(pcr.code).toBe(1);
    expect(pcr.stdout.split('\n').slice(0, 3)).toEqual([
      'REJECTED ERR_PCR_MISMATCH: PCR0 differs from the expected values: the enclave does not run the expected image (compare the PCR table; rebuild or update the expectation)',
      '',
      '(chain and signature verify, so the fields below are as the enclave signed them; the checks marked FAIL are not met)',
    ]);
    const expired = await cli(['verify', ANJUNA, '--pcr', `0=${anjuna.pcr0}`]);
    expect(expired.code).toBe(1);
    expect(expired.stdout.split('\n')[2]).toBe(
      '(the fields below are decoded as sent; the document was NOT verified)',
    );
  });

  test('control characters in a forged field cannot add lines or escapes to the text report', async () => {
    const dir = mkdtempSync(join(work, 'case-'));
    const pki = await createTestPki();
    const moduleId = 'i-1\u001b[2J\u001b[HVERIFIED: fake\nsecond line';
    writeFileSync(join(dir, 'doc.b64'), toBase64(await issueAttestation(pki, { moduleId })));
    const r = await cli(['verify', 'doc.b64', '--any-pcrs'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(controlCharacters(r.stdout)).toEqual([]);
    expect(r.stdout).toContain('\nmodule      i-1 [2J [HVERIFIED: fake second line\n');
    expect(r.stdout.split('\n').filter((l) => l.startsWith('VERIFIED'))).toEqual([]);
  });

  test('--json prints exactly one object with ok, document and checks', async () => {
    const r = await cli(['verify', ANJUNA, '--at', 'document', '--any-pcrs', '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    expect(j.code).toBeUndefined();
    expect(j.timeSource).toBe('document');
    expect(j.document.moduleId).toBe(anjuna.module_id);
    expect(j.document.pcrs['1']).toBe(anjuna.pcr1);
    expect(j.checks.map((c: { name: string }) => c.name)).toEqual([
      'parse',
      'chain.path',
      'chain.constraints',
      'chain.signatures',
      'chain.validity',
      'signature',
      'debug',
      'freshness',
    ]);
    expect(j.chain[4].sha256).toBe('641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b');
  });

  test('default time is now: an old document is rejected with ERR_CERT_EXPIRED, exit 1', async () => {
    const r = await cli(['verify', ANJUNA, '--pcr', `0=${anjuna.pcr0}`, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect([j.ok, j.code, j.timeSource]).toEqual([false, 'ERR_CERT_EXPIRED', 'now']);
    expect(j.document.moduleId).toBe(anjuna.module_id);
    expect(j.checks.at(-1)).toMatchObject({ name: 'chain.validity', ok: false, code: 'ERR_CERT_EXPIRED' });
    const text = await cli(['verify', ANJUNA, '--any-pcrs']);
    expect(text.stdout.split('\n')[0]).toMatch(/^REJECTED ERR_CERT_EXPIRED: certificate .* is expired at /);
  });

  test('the Caution evidence JSON verifies with its nonce and fails with another (ERR_NONCE_MISMATCH)', async () => {
    const ok = await cli(
      [
        'verify',
        'evidence-v0-vector.json',
        '--nonce',
        `base64:${evidence.nonce}`,
        '--at',
        evidence.observed_at,
        '--any-pcrs',
      ],
      {
        cwd: cautionDir,
      },
    );
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('user data   {"verifying_key":[');
    const bad = await cli(
      [
        'verify',
        'evidence-v0-vector.json',
        '--nonce',
        '00'.repeat(32),
        '--at',
        'document',
        '--any-pcrs',
        '--json',
      ],
      {
        cwd: cautionDir,
      },
    );
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).code).toBe('ERR_NONCE_MISMATCH');
  });

  test('stdin (-) with base64 and hex input', async () => {
    const raw = readFileSync(new URL(ANJUNA, NITRO));
    for (const stdin of [toBase64(raw), toHex(raw)]) {
      const r = await cli(['verify', '-', '--at', 'document', '--pcr', `1=${anjuna.pcr1}`, '--json'], {
        stdin,
      });
      expect(JSON.parse(r.stdout).ok).toBe(true);
    }
  });

  test('PCR mismatch: exit 1, the table shows the expected value', async () => {
    const r = await cli(['verify', ANJUNA, '--at', 'document', '--pcr', `2=${'ab'.repeat(48)}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^REJECTED ERR_PCR_MISMATCH: PCR2 differs/);
    expect(r.stdout).toContain(`   2 DIFFER ${anjuna.pcr2}\n     expected  ${'ab'.repeat(48)}`);
  });

  test('--expect-pcrs with a canary config: --target picks the target, without it the ids are listed', async () => {
    const none = await cli(
      ['verify', 'evidence-v0-vector.json', '--at', 'document', '--expect-pcrs', 'canary.json'],
      {
        cwd: cautionDir,
      },
    );
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('ERR_EXPECTED_PCRS_FORMAT');
    expect(none.stderr).toContain('caddy-poc, xwing-poc, x25519-poc');
    const chosen = await cli(
      [
        'verify',
        'evidence-v0-vector.json',
        '--at',
        'document',
        '--expect-pcrs',
        'canary.json',
        '--target',
        'xwing-poc',
        '--json',
      ],
      { cwd: cautionDir },
    );
    expect(JSON.parse(chosen.stdout).code).toBe('ERR_PCR_MISMATCH');
  });

  test('debug documents need --allow-debug', async () => {
    const f = 'valid/evervault_2022-10-12_debug.cbor';
    expect((await cli(['verify', f, '--at', 'document', '--any-pcrs'])).code).toBe(1);
    const r = await cli(['verify', f, '--at', 'document', '--allow-debug', '--any-pcrs']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toContain('DEBUG enclave, allowed');
    expect(r.stdout).toContain('user data   "hello, world!" (13 bytes, text)');
  });

  test('--max-age refuses stale documents (ERR_STALE)', async () => {
    const at = new Date(Number(anjuna.timestamp) + 10 * 60_000).toISOString();
    const pcr = ['--pcr', `0=${anjuna.pcr0}`];
    const r = await cli(['verify', ANJUNA, ...pcr, '--at', at, '--max-age', '5m', '--json']);
    expect(JSON.parse(r.stdout).code).toBe('ERR_STALE');
    expect((await cli(['verify', ANJUNA, ...pcr, '--at', at, '--max-age', '15m'])).code).toBe(0);
  });

  test('--root trusts a test PKI; the verdict says the root is not AWS', async () => {
    const dir = mkdtempSync(join(work, 'case-'));
    const pki = await createTestPki();
    writeFileSync(join(dir, 'root.pem'), pki.rootPem);
    writeFileSync(join(dir, 'doc.b64'), toBase64(await issueAttestation(pki, { userData: utf8('hi') })));
    const r = await cli(
      ['verify', 'doc.b64', '--root', 'root.pem', '--user-data', 'text:hi', '--max-age', '1m', '--any-pcrs'],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(
      /^VERIFIED: signed through a chain to a root YOU supplied \(CN=enclave-verify TEST root NOT AWS/,
    );
    const untrusted = await cli(['verify', 'doc.b64', '--any-pcrs', '--json'], { cwd: dir });
    expect(JSON.parse(untrusted.stdout).code).toBe('ERR_CHAIN_UNTRUSTED');
  });

  test('--root takes a DER file too; a file that is no certificate is named, exit 2, no report', async () => {
    const dir = mkdtempSync(join(work, 'case-'));
    const pki = await createTestPki();
    writeFileSync(join(dir, 'root.der'), pemToDer(pki.rootPem)[0]!);
    writeFileSync(join(dir, 'notes.txt'), 'not a certificate\n');
    writeFileSync(join(dir, 'doc.b64'), toBase64(await issueAttestation(pki, {})));
    const r = await cli(['verify', 'doc.b64', '--root', 'root.der', '--max-age', '1m', '--any-pcrs'], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^VERIFIED: signed through a chain to a root YOU supplied/);
    const bad = await cli(['verify', 'doc.b64', '--root', 'notes.txt', '--any-pcrs'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe(
      'enclave-verify: ERR_INPUT_FORMAT: --root notes.txt: a trusted root is neither DER (starting 0x30) nor PEM text\n',
    );
  });

  test.each([
    [['verify', ANJUNA, '--bogus'], 'ERR_USAGE'],
    [['verify'], 'ERR_USAGE'],
    [['verify', ANJUNA, '--at', 'yesterday'], 'ERR_USAGE'],
    [['verify', ANJUNA, '--pcr', '0'], 'ERR_USAGE'],
    [['verify', ANJUNA, '--nonce', 'zz'], 'ERR_USAGE'],
    [['verify', ANJUNA, '--max-age', 'soon'], 'ERR_USAGE'],
    [['verify', ANJUNA, '--target', 'x'], 'ERR_USAGE'],
    [['verify', 'missing.cbor', '--any-pcrs'], 'ERR_IO'],
    [['verify', ANJUNA, '--any-pcrs', '--nonce', 'file:missing.bin'], 'ERR_IO'],
    [['verify', 'manifest.json', '--any-pcrs'], 'ERR_INPUT_FORMAT'],
    [['verify', ANJUNA, '--any-pcrs', '--kind', 'vm'], 'ERR_USAGE'],
  ])('%j exits 2 with %s', async (argv, code) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^enclave-verify: ${code}: `));
    const j = await cli([...argv, '--json']);
    if (code !== 'ERR_USAGE' || !argv.includes('--bogus')) expect(JSON.parse(j.stdout).code).toBe(code);
  });

  test('--help', async () => {
    const r = await cli(['verify', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: enclave-verify verify <file\|->/);
  });
});

describe('enclave-verify inspect', () => {
  test('prints the decoded document marked unverified, with user data decoded and certificates', async () => {
    const r = await cli(['inspect', 'evidence-v0-vector.json'], { cwd: cautionDir });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.unverified).toBe(true);
    expect(j.warning).toMatch(/^NOT VERIFIED/);
    expect(j.document.moduleId).toBe('i-00fc9beee0ec1bddb-enc019b47ec6c3e036e');
    expect(j.document.nonce).toBe('d041b23bce8678bbc7c174bd8494c4f9759386eec963ec69bfd45c1452b10636');
    expect(j.document.userDataDecoded.verifying_key).toHaveLength(32);
    expect(j.certificates).toHaveLength(5);
    expect(j.certificates[4].subject).toBe('CN=aws.nitro-enclaves, OU=AWS, O=Amazon, C=US');
  });

  test('works on documents that fail verification, and refuses malformed ones', async () => {
    const r = await cli(['inspect', 'invalid/neg_oyster_mock_root.cbor']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).certificates[1].subject).toBe('CN=root');
    const bad = await cli(['inspect', '-', '--json'], { stdin: '80' });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).code).toBe('ERR_COSE_MALFORMED');
    expect((await cli(['inspect'])).code).toBe(2);
    expect((await cli(['inspect', '--help'])).stdout).toMatch(/^usage: enclave-verify inspect/);
  });
});
