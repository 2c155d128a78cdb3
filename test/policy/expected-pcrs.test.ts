import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { verifyDeployment } from '../../src/deployment/verify-deployment.js';
import { isEnclaveVerifyError } from '../../src/errors.js';
import { createTestPki, issueAttestation, testPcrs } from '../../src/forge/index.js';
import {
  type ExpectedPcrsInput,
  mergeExpectedPcrs,
  normalizeExpectedPcrs,
  parseExpectedPcrs,
  pcrIndex,
} from '../../src/policy/expected-pcrs.js';
import { toBase64, toHex } from '../../src/util/bytes.js';
import { verifyAttestation } from '../../src/verify.js';
import { runCli } from '../support/cli.js';
import { codeOf, codeOfAsync } from '../support/errors.js';

const CAUTION = new URL('../../vectors/real/caution/', import.meta.url);
const sample = (f: string) => readFileSync(new URL(f, CAUTION), 'utf8');
const asHex = (m: Map<number, Uint8Array[]>) => Object.fromEntries([...m].map(([i, v]) => [i, v.map(toHex)]));
const A = 'aa'.repeat(48);
const B = 'bb'.repeat(48);
const C = 'cc'.repeat(48);

describe('parseExpectedPcrs', () => {
  test('eif_build .pcrs lines (<hex> PCRn)', () => {
    expect(asHex(parseExpectedPcrs(sample('eif_build-enclave.pcrs')))).toEqual({
      0: ['d4f748865131ffc30929eff73c5d651dc2e6d795d8f47b3ec27208b2d293a6c040fc4db6dc44c02b8e5fc34f65b3d595'],
      1: ['d4f748865131ffc30929eff73c5d651dc2e6d795d8f47b3ec27208b2d293a6c040fc4db6dc44c02b8e5fc34f65b3d595'],
      2: ['21b9efbc184807662e966d34f390821309eeac6802309798826296bf3e8bec7c10edb30948c90ba67310f7b964fc500a'],
    });
  });

  test('caution verify --pcrs lines (PCRn: hex)', () => {
    const m = parseExpectedPcrs(sample('caution-verify-pcrs.txt'));
    expect([...m.keys()]).toEqual([0, 1, 2]);
    expect(toHex(m.get(0)![0]!)).toBe(
      '3c07ec536432532f86b8c735b740f0d67a8b115e4a5e20cc8ecbb4e6a8335fe016bf42693b18e8560e299636afa8dc84',
    );
  });

  test('Caution canary config: the chosen target, an error listing ids otherwise', () => {
    const text = sample('canary.json');
    const m = parseExpectedPcrs(text, { target: 'xwing-poc' });
    expect(toHex(m.get(0)![0]!)).toBe(
      'e1e2ec28d08622cffd8239213abf62889cf6f6730aa591cbc0de4862d4126ee79e0292ffb87fb28e5d0ea243f2f22d53',
    );
    let message = '';
    try {
      parseExpectedPcrs(text);
    } catch (e) {
      message = (e as Error).message;
      expect(isEnclaveVerifyError(e, 'ERR_EXPECTED_PCRS_FORMAT')).toBe(true);
    }
    expect(message).toContain('caddy-poc, xwing-poc, x25519-poc');
    expect(() => parseExpectedPcrs(text, { target: 'nope' })).toThrow(/no target 'nope'.*caddy-poc/);
  });

  test('nitro-cli build-enclave JSON (HashAlgorithm is skipped)', () => {
    const text = JSON.stringify(
      { Measurements: { HashAlgorithm: 'Sha384 { ... }', PCR0: A, PCR1: B, PCR2: C, PCR8: A } },
      null,
      2,
    );
    expect(asHex(parseExpectedPcrs(text))).toEqual({ 0: [A], 1: [B], 2: [C], 8: [A] });
  });

  test('nitro-cli describe-eif JSON', () => {
    const text = JSON.stringify({
      EifVersion: 4,
      Measurements: { HashAlgorithm: 'Sha384 { ... }', PCR0: A, PCR1: B, PCR2: C },
      IsSigned: false,
      CheckCRC: true,
      ImageName: 'x',
      ImageVersion: '1.0',
      Metadata: { BuildTime: 'now' },
    });
    expect(asHex(parseExpectedPcrs(text))).toEqual({ 0: [A], 1: [B], 2: [C] });
  });

  test('plain {"0": hex} map, PCR-named keys, and lists of allowed values', () => {
    expect(asHex(parseExpectedPcrs(JSON.stringify({ 0: A, 2: [B, C] })))).toEqual({ 0: [A], 2: [B, C] });
    expect(asHex(parseExpectedPcrs(JSON.stringify({ PCR1: B.toUpperCase() })))).toEqual({ 1: [B] });
  });

  test('repeated lines add allowed values; comments and blank lines are ignored', () => {
    expect(asHex(parseExpectedPcrs(`# two builds\nPCR0: ${A}\n\nPCR0=${B}\n${C} PCR2\n`))).toEqual({
      0: [A, B],
      2: [C],
    });
  });

  test.each([
    ['empty file', ''],
    ['a bad line', `PCR0 ${A}`],
    ['short hex', 'PCR0: abcd'],
    ['index out of range', `PCR32: ${A}`],
    ['broken JSON', '{"0": '],
    ['JSON without PCRs', '{"name": "x"}'],
    ['non-string JSON value', '{"0": 5}'],
    ['--target on a lines file', 'target'],
  ])('refuses %s with ERR_EXPECTED_PCRS_FORMAT', (name, text) => {
    const run = () =>
      name.startsWith('--target')
        ? parseExpectedPcrs(`PCR0: ${A}`, { target: 'x' })
        : parseExpectedPcrs(text);
    expect(codeOf(run)).toBe('ERR_EXPECTED_PCRS_FORMAT');
  });
});

describe('normalizeExpectedPcrs / mergeExpectedPcrs', () => {
  test('accepts Map or Record, hex with 0x or bytes, single values or lists', () => {
    const m = normalizeExpectedPcrs(
      new Map<number | string, string | Uint8Array | string[]>([
        [2, `0x${C}`],
        ['PCR0', new Uint8Array(48).fill(0xaa)],
        ['1', [A, B]],
      ]),
    );
    expect(asHex(m)).toEqual({ 0: [A], 1: [A, B], 2: [C] });
    expect([...m.keys()]).toEqual([0, 1, 2]);
  });

  test('bad indexes and values are ERR_EXPECTED_PCRS_FORMAT', () => {
    expect(codeOf(() => normalizeExpectedPcrs({ x: A }))).toBe('ERR_EXPECTED_PCRS_FORMAT');
    expect(codeOf(() => normalizeExpectedPcrs({ 0: 'zz' }))).toBe('ERR_EXPECTED_PCRS_FORMAT');
    expect(codeOf(() => normalizeExpectedPcrs({ 0: [] }))).toBe('ERR_EXPECTED_PCRS_FORMAT');
    expect(pcrIndex('pcr31')).toBe(31);
    expect(pcrIndex('32')).toBeUndefined();
  });

  test('merge combines allowed values without duplicates', () => {
    const m = mergeExpectedPcrs(normalizeExpectedPcrs({ 0: A }), normalizeExpectedPcrs({ 0: [A, B], 1: C }));
    expect(asHex(m)).toEqual({ 0: [A, B], 1: [C] });
  });
});

describe('misspelled expected-PCR keys silently dropped (issue 15 finding 5)', () => {
  const message = (f: () => unknown): string => {
    try {
      f();
      return 'accepted';
    } catch (e) {
      if (!isEnclaveVerifyError(e)) throw e;
      return `${e.code}: ${e.message}`;
    }
  };

  test("the review's file is refused, naming the first misspelled key", () => {
    const text = JSON.stringify({ PCR0: A, 'PCR 1': B, PCR_2: C, 'pcr-8': A });
    expect(message(() => parseExpectedPcrs(text))).toBe(
      "ERR_EXPECTED_PCRS_FORMAT: 'PCR 1' looks like a PCR key but names no PCR: write PCR0..PCR31 or 0..31 (no space, '_' or '-'); a misspelled expectation would leave that PCR unchecked",
    );
  });

  test.each([
    'PCR 1',
    'PCR_2',
    'pcr-8',
    'PCR32',
    'pcr',
    'PCRs',
    'PCR1a',
    'expected_pcr0',
    '32',
    '001',
    '1.0',
    '-1',
    '+2',
    ' 4 x',
  ])('a key that looks like a PCR but is none is refused: %j', (key) => {
    for (const wrap of [
      (m: object) => m,
      (m: object) => ({ Measurements: m }),
      (m: object) => ({ targets: [{ id: 't', expected_pcrs: m }] }),
    ]) {
      const text = JSON.stringify(wrap({ 0: A, [key]: B }));
      expect(message(() => parseExpectedPcrs(text))).toMatch(
        /^ERR_EXPECTED_PCRS_FORMAT: '.*' looks like a PCR key but names no PCR/,
      );
    }
    expect(message(() => normalizeExpectedPcrs({ 0: A, [key]: B }))).toMatch(
      /looks like a PCR key but names no PCR/,
    );
  });

  test('keys that are not PCRs are still skipped (nitro-cli HashAlgorithm, canary file extras)', () => {
    const nitro = { Measurements: { HashAlgorithm: 'Sha384 { ... }', PCR0: A, PCR1: B, PCR2: C } };
    expect(asHex(parseExpectedPcrs(JSON.stringify(nitro)))).toEqual({ 0: [A], 1: [B], 2: [C] });
    const canaryFile = { pcr0: A, pcr1: B, pcr2: C, image: 'app:1.0', note: 'from canaryctl' };
    expect(asHex(parseExpectedPcrs(JSON.stringify(canaryFile)))).toEqual({ 0: [A], 1: [B], 2: [C] });
    expect(message(() => normalizeExpectedPcrs({ HashAlgorithm: A }))).toBe(
      "ERR_EXPECTED_PCRS_FORMAT: 'HashAlgorithm' is not a PCR index (0..31, or PCR0..PCR31)",
    );
  });

  test('an empty expectation is refused: in the library and in files', () => {
    const empty =
      'ERR_EXPECTED_PCRS_FORMAT: no expected PCR given: name at least one (e.g. { 0: "<96 hex digits>" }), or leave the expectation out and report that no PCR was checked';
    expect(message(() => normalizeExpectedPcrs({}))).toBe(empty);
    expect(message(() => normalizeExpectedPcrs(new Map()))).toBe(empty);
    for (const text of [
      '{}',
      '{"Measurements": {}}',
      '{"HashAlgorithm": "x"}',
      '{"targets": [{"id": "t", "expected_pcrs": {}}]}',
      '# only a comment',
    ]) {
      expect(message(() => parseExpectedPcrs(text))).toBe(
        'ERR_EXPECTED_PCRS_FORMAT: the expected-PCR file names no PCR',
      );
    }
  });
});

describe('misspelled or empty expectations through the library and the CLI (issue 15 finding 5)', () => {
  test('verifyAttestation and verifyDeployment refuse {} and misspelled keys before checking anything', async () => {
    const pki = await createTestPki();
    const doc = await issueAttestation(pki);
    const base = { trustedRoots: [pki.rootPem], currentDate: 'document' as const };
    expect(
      await codeOfAsync(verifyAttestation(doc, { ...base, expectedPcrs: { 0: toHex(testPcrs().get(0)!) } })),
    ).toBe('accepted');
    const refused: ExpectedPcrsInput[] = [{}, new Map(), { PCR0: toHex(testPcrs().get(0)!), 'PCR 1': B }];
    for (const expectedPcrs of refused) {
      expect(await codeOfAsync(verifyAttestation(doc, { ...base, expectedPcrs }))).toBe(
        'ERR_EXPECTED_PCRS_FORMAT',
      );
      let requests = 0;
      const transport = async () => {
        requests++;
        throw new Error('no request expected');
      };
      expect(
        await codeOfAsync(verifyDeployment('https://enclave.example', { expectedPcrs, transport })),
      ).toBe('ERR_EXPECTED_PCRS_FORMAT');
      expect(requests).toBe(0);
    }
  });

  test('verify --expect-pcrs with the review\'s file exits 2 instead of "expected PCRs match"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ev-pcr-keys-'));
    const pki = await createTestPki();
    writeFileSync(join(dir, 'doc.b64'), toBase64(await issueAttestation(pki)));
    writeFileSync(join(dir, 'root.pem'), pki.rootPem);
    const pcr0 = toHex(testPcrs().get(0)!);
    writeFileSync(join(dir, 'pcrs.json'), JSON.stringify({ PCR0: pcr0, 'PCR 1': B, PCR_2: C, 'pcr-8': A }));
    const r = await runCli(
      ['verify', 'doc.b64', '--root', 'root.pem', '--at', 'document', '--expect-pcrs', 'pcrs.json'],
      {
        cwd: dir,
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^enclave-verify: ERR_EXPECTED_PCRS_FORMAT: 'PCR 1' looks like a PCR key but names no PCR/,
    );
    expect(r.stdout).toBe('');
    rmSync(dir, { recursive: true, force: true });
  });
});
