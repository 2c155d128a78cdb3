import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CborMap, CborTag, decodeCbor } from '../../src/parse/cbor.js';
import { fromHex } from '../../src/util/bytes.js';
import { CborEntries, CborIndefiniteArray, CborRaw, encodeCbor } from '../../src/util/cbor-encode.js';
import { codeOf } from '../support/errors.js';

describe('strict CBOR decoder', () => {
  test('decodes the ES384 protected header', () => {
    const m = decodeCbor(fromHex('a1013822'));
    expect(m).toBeInstanceOf(CborMap);
    expect((m as CborMap).get(1)).toBe(-35);
  });

  test('integers of every width, and uint64 beyond 2^53 as bigint', () => {
    expect(decodeCbor(fromHex('17'))).toBe(23);
    expect(decodeCbor(fromHex('1818'))).toBe(24);
    expect(decodeCbor(fromHex('190100'))).toBe(256);
    expect(decodeCbor(fromHex('1a00010000'))).toBe(65536);
    expect(decodeCbor(fromHex('1b0000019b4c2cce2b'))).toBe(1766509563435);
    expect(decodeCbor(fromHex('1bffffffffffffffff'))).toBe(2n ** 64n - 1n);
    expect(decodeCbor(fromHex('3bffffffffffffffff'))).toBe(-(2n ** 64n));
    expect(decodeCbor(fromHex('20'))).toBe(-1);
  });

  test('byte strings are views of the input (the signature needs the original bytes)', () => {
    const input = fromHex('43010203');
    const v = decodeCbor(input) as Uint8Array;
    expect(v.buffer).toBe(input.buffer);
    expect(v.byteOffset).toBe(1);
  });

  test('indefinite-length maps and arrays are accepted', () => {
    const m = decodeCbor(
      encodeCbor(
        new CborEntries(
          [
            ['a', 1],
            ['b', new CborIndefiniteArray([1, 2])],
          ],
          true,
        ),
      ),
    );
    expect((m as CborMap).indefinite).toBe(true);
    expect((m as CborMap).get('b')).toEqual([1, 2]);
  });

  test('tags are kept for the COSE layer to judge', () => {
    const t = decodeCbor(fromHex('d28401020304'));
    expect(t).toBeInstanceOf(CborTag);
    expect((t as CborTag).tag).toBe(18);
  });

  test.each([
    ['duplicate text key', 'a2616101616102'],
    ['duplicate integer key', 'a201010102'],
    ['duplicate key in an indefinite map', 'bf0101010 2ff'.replace(' ', '')],
    ['trailing bytes', 'a0 00'.replace(' ', '')],
    ['truncated uint32', '1a0001'],
    ['string longer than the input', '5a7fffffff00'],
    ['array count larger than the input', '9bffffffffffffffff'],
    ['map count larger than the input', 'b9ffff'],
    ['indefinite byte string', '5f4101ff'],
    ['indefinite text string', '7f6161ff'],
    ['reserved additional information', '1c'],
    ['half float', 'f93c00'],
    ['double float', 'fb3ff0000000000000'],
    ['undefined', 'f7'],
    ['simple value 16', 'f0'],
    ['lone break', 'ff'],
    ['break in a definite array', '82 01 ff'.replaceAll(' ', '')],
    ['invalid UTF-8 text', '62c328'],
    ['array as map key', 'a1800102'],
    ['bytes as map key', 'a1410101'],
    ['null as map key', 'a1f601'],
    ['indefinite integer', '1f'],
    ['indefinite tag', 'df01'],
    ['empty input', ''],
  ])('refuses %s', (_name, hex) => {
    expect(codeOf(() => decodeCbor(fromHex(hex)))).toBe('ERR_CBOR_MALFORMED');
  });

  test('nesting is refused past the limit, before going deeper', () => {
    const deep = (n: number) => new Uint8Array([...new Array(n).fill(0x81), 0x00]);
    expect(codeOf(() => decodeCbor(deep(6), { maxDepth: 6 }))).toBe('accepted');
    expect(codeOf(() => decodeCbor(deep(7), { maxDepth: 6 }))).toBe('ERR_CBOR_MALFORMED');
    // A million levels fail fast without a stack overflow.
    expect(codeOf(() => decodeCbor(deep(1_000_000), { maxDepth: 6 }))).toBe('ERR_CBOR_MALFORMED');
  });

  test('non-minimal integer encodings are accepted (CBOR does not require them)', () => {
    expect(decodeCbor(encodeCbor(new CborRaw(fromHex('1800'))))).toBe(0);
  });

  test('arbitrary bytes never crash the decoder: a value or ERR_CBOR_MALFORMED', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const code = codeOf(() => decodeCbor(bytes));
        return code === 'accepted' || code === 'ERR_CBOR_MALFORMED';
      }),
      { numRuns: 3000 },
    );
  });
});
