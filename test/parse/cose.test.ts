import { describe, expect, test } from 'vitest';
import { decodeCoseSign1 } from '../../src/parse/cose.js';
import { fromHex, toHex } from '../../src/util/bytes.js';
import { CborTagged, type Encodable, encodeCbor } from '../../src/util/cbor-encode.js';
import { codeOf } from '../support/errors.js';

const ES384 = fromHex('a1013822');
const sig = new Uint8Array(96).fill(7);
const payload = fromHex('a0');
const cose = (items: Encodable[]) => encodeCbor(items);

function coseCode(bytes: Uint8Array): string {
  return codeOf(() => decodeCoseSign1(bytes));
}

describe('COSE_Sign1 envelope', () => {
  test('splits a well-formed envelope into views of the original bytes', () => {
    const bytes = cose([ES384, new Map(), payload, sig]);
    const e = decodeCoseSign1(bytes);
    expect([e.tagged, toHex(e.protectedBytes), toHex(e.payload), e.signature.length]).toEqual([
      false,
      'a1013822',
      'a0',
      96,
    ]);
    expect(e.protectedBytes.buffer).toBe(bytes.buffer);
    expect(decodeCoseSign1(encodeCbor(new CborTagged(18, [ES384, new Map(), payload, sig]))).tagged).toBe(
      true,
    );
  });

  test.each([
    [
      'alg in both headers (RFC 9052: a label in one bucket only)',
      [ES384, new Map([[1, -35]]), payload, sig],
      'ERR_COSE_ALG',
    ],
    ['alg as text', [encodeCbor(new Map([[1, 'ES384']])), new Map(), payload, sig], 'ERR_COSE_ALG'],
    ['alg -36 (ES512)', [encodeCbor(new Map([[1, -36]])), new Map(), payload, sig], 'ERR_COSE_ALG'],
    ['protected header not a map', [encodeCbor([1, -35]), new Map(), payload, sig], 'ERR_COSE_MALFORMED'],
    [
      'protected header with trailing bytes',
      [fromHex('a101382200'), new Map(), payload, sig],
      'ERR_CBOR_MALFORMED',
    ],
    ['crit in the unprotected header', [ES384, new Map([[2, [1]]]), payload, sig], 'ERR_COSE_MALFORMED'],
    ['unprotected header not a map', [ES384, [], payload, sig], 'ERR_COSE_MALFORMED'],
    [
      'protected header as a map instead of bytes',
      [new Map([[1, -35]]), new Map(), payload, sig],
      'ERR_COSE_MALFORMED',
    ],
    ['signature of 95 bytes', [ES384, new Map(), payload, sig.subarray(1)], 'ERR_COSE_MALFORMED'],
    ['signature as text', [ES384, new Map(), payload, 'sig'], 'ERR_COSE_MALFORMED'],
    ['array of 5', [ES384, new Map(), payload, sig, sig], 'ERR_COSE_MALFORMED'],
  ] as const)('refuses %s', (_n, items, code) => {
    expect(coseCode(cose(items as unknown as Encodable[]))).toBe(code);
  });

  test('refuses tag 18 nested in tag 18, and tag 98 (COSE_Sign)', () => {
    const inner = new CborTagged(18, [ES384, new Map(), payload, sig]);
    expect(coseCode(encodeCbor(new CborTagged(18, inner)))).toBe('ERR_COSE_MALFORMED');
    expect(coseCode(encodeCbor(new CborTagged(98, [ES384, new Map(), payload, sig])))).toBe(
      'ERR_COSE_MALFORMED',
    );
  });
});
