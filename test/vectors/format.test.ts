import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EnclaveVerifyError } from '../../src/errors.js';
import { caseFiles, globToRegExp, parseVectorFile, VECTOR_FORMAT } from '../../src/vectors/format.js';

const src = new URL('file:///suite/attestation/cases.json');
const file = (cases: unknown[], extra: Record<string, unknown> = {}) => ({
  format: VECTOR_FORMAT,
  ...extra,
  cases,
});
const okCase = {
  id: 'attestation/x/ok',
  kind: 'attestation',
  description: 'a valid document',
  input: { file: 'docs/ok.cbor' },
  options: { trustedRoots: ['root.pem'], at: 'document', expectedPcrs: { '0': ['aa', 'bb'] }, nonce: '00ff' },
  expect: { result: 'accept', pcrs: { '0': 'aa' } },
};

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as EnclaveVerifyError).code;
  }
  return undefined;
}

describe('vector format', () => {
  it('parses a case file and resolves paths against the file or its base', () => {
    const parsed = parseVectorFile(file([okCase]), src);
    expect(parsed.type).toBe('cases');
    if (parsed.type !== 'cases') return;
    const c = parsed.cases[0]!;
    expect(c.kind).toBe('attestation');
    expect(caseFiles(c).map((u) => u.pathname)).toEqual([
      '/suite/attestation/docs/ok.cbor',
      '/suite/attestation/root.pem',
    ]);
    // a suite whose inputs live beside it (a corpus fetched separately) and may be absent
    const outside = parseVectorFile(file([okCase], { base: '../../corpus/data', optional: true }), src);
    if (outside.type !== 'cases') throw new Error('cases expected');
    expect(outside.optional).toBe(true);
    expect(caseFiles(outside.cases[0]!)[0]!.pathname).toBe('/corpus/data/docs/ok.cbor');
  });

  it('parses a suite index', () => {
    const parsed = parseVectorFile(
      { format: VECTOR_FORMAT, include: ['a/cases.json'] },
      new URL('file:///s/suite.json'),
    );
    expect(parsed).toEqual({ type: 'index', include: [new URL('file:///s/a/cases.json')] });
  });

  it('rejects typos, unknown codes, mismatched classes, bad hex and bad ids with ERR_INPUT_FORMAT', () => {
    const variants: unknown[] = [
      { ...okCase, expct: {} },
      { ...okCase, expect: { result: 'reject', code: 'ERR_NOPE', class: 'trust' } },
      { ...okCase, expect: { result: 'reject', code: 'ERR_STALE', class: 'trust' } },
      { ...okCase, options: { nonce: 'ABC' } },
      { ...okCase, options: { at: 'yesterday' } },
      { ...okCase, options: { expectedPcrs: { '32': 'aa' } } },
      { ...okCase, id: '../escape' },
      { ...okCase, kind: 'pdf' },
      { ...okCase, expect: { result: 'maybe' } },
      { ...okCase, input: { recipe: 'caution' } },
    ];
    for (const v of variants)
      expect(
        codeOf(() => parseVectorFile(file([v]), src)),
        JSON.stringify(v),
      ).toBe('ERR_INPUT_FORMAT');
    expect(codeOf(() => parseVectorFile({ format: 'other/1', cases: [] }, src))).toBe('ERR_INPUT_FORMAT');
  });

  it('accepts a reject expectation whose class matches its code', () => {
    const parsed = parseVectorFile(
      file([{ ...okCase, expect: { result: 'reject', code: 'ERR_CHAIN_UNTRUSTED', class: 'trust' } }]),
      src,
    );
    if (parsed.type !== 'cases') throw new Error('cases expected');
    expect(parsed.cases[0]!.expect).toEqual({
      result: 'reject',
      code: 'ERR_CHAIN_UNTRUSTED',
      class: 'trust',
    });
  });

  it('matches ids with globs', () => {
    expect(globToRegExp('attestation/*').test('attestation/a')).toBe(true);
    expect(globToRegExp('attestation/*').test('attestation/a/b')).toBe(false);
    expect(globToRegExp('attestation/**').test('attestation/a/b')).toBe(true);
    expect(globToRegExp('*/real/*').test('attestation/real/x.y')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});

describe('vector format properties', () => {
  it('refuses any malformed JSON value with ERR_INPUT_FORMAT, never another error', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (cases, extra) => {
        for (const v of [
          cases,
          { format: VECTOR_FORMAT, cases: [cases] },
          { format: VECTOR_FORMAT, cases: [{ ...okCase, options: extra }] },
        ]) {
          try {
            parseVectorFile(v, src);
          } catch (e) {
            expect((e as EnclaveVerifyError).code).toBe('ERR_INPUT_FORMAT');
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
