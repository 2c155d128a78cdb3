import { describe, expect, it } from 'vitest';
import { EnclaveVerifyError } from '../../src/errors.js';
import {
  bytesEqual,
  concatBytes,
  decodeUtf8,
  fromBase64,
  fromHex,
  toBase64,
  toHex,
} from '../../src/util/bytes.js';
import { sha256, sha384 } from '../../src/util/digest.js';

describe('hex', () => {
  it('round-trips every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(fromHex(toHex(all))).toEqual(all);
    expect(toHex(new Uint8Array([0, 15, 255]))).toBe('000fff');
  });
  it('rejects odd length and non-hex with ERR_INPUT_FORMAT naming the value', () => {
    for (const bad of ['abc', 'zz', '0x00']) {
      const e = (() => {
        try {
          fromHex(bad, 'PCR0');
        } catch (err) {
          return err;
        }
      })() as EnclaveVerifyError;
      expect(e).toBeInstanceOf(EnclaveVerifyError);
      expect(e.code).toBe('ERR_INPUT_FORMAT');
      expect(e.message).toContain('PCR0');
    }
  });
});

describe('base64', () => {
  it('matches the RFC 4648 test vectors', () => {
    const cases: [string, string][] = [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, b64] of cases) {
      expect(toBase64(new TextEncoder().encode(plain))).toBe(b64);
      expect(decodeUtf8(fromBase64(b64))).toBe(plain);
    }
  });
  it('accepts url-safe alphabet, missing padding and whitespace', () => {
    expect(fromBase64('-_8\n')).toEqual(new Uint8Array([0xfb, 0xff]));
  });
  it('rejects foreign characters and impossible lengths', () => {
    expect(() => fromBase64('ab$d')).toThrow(/unexpected character at position 2/);
    expect(() => fromBase64('abcde')).toThrow(/truncated/);
  });
});

describe('bytes and digests', () => {
  it('compares and concatenates', () => {
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(bytesEqual(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false);
    expect(concatBytes(new Uint8Array([1]), new Uint8Array(), new Uint8Array([2, 3]))).toEqual(
      new Uint8Array([1, 2, 3]),
    );
  });
  it('hashes the empty string to the published constants', async () => {
    expect(toHex(await sha256(new Uint8Array()))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(toHex(await sha384(new Uint8Array()))).toBe(
      '38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b',
    );
  });
  it('rejects invalid UTF-8 strictly', () => {
    expect(decodeUtf8(new Uint8Array([0xc3]))).toBeUndefined();
  });
});
