import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { isEnclaveVerifyError } from '../../src/errors.js';
import {
  mergeExpectedPcrs,
  normalizeExpectedPcrs,
  parseExpectedPcrs,
  pcrIndex,
} from '../../src/policy/expected-pcrs.js';
import { toHex } from '../../src/util/bytes.js';
import { codeOf } from '../support/errors.js';

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
