import fc from 'fast-check';
import { expect, test } from 'vitest';
import { sha256Sync } from '../../src/trust/fingerprint.js';
import { toHex, utf8 } from '../../src/util/bytes.js';
import { sha256 } from '../../src/util/digest.js';

test('known answers (FIPS 180-4 examples)', () => {
  expect(toHex(sha256Sync(new Uint8Array()))).toBe(
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  );
  expect(toHex(sha256Sync(utf8('abc')))).toBe(
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  );
  expect(toHex(sha256Sync(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  );
});

test('agrees with WebCrypto on every length around block boundaries and random inputs', async () => {
  for (let n = 0; n < 200; n++) {
    const b = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
    expect(toHex(sha256Sync(b))).toBe(toHex(await sha256(b)));
  }
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 2048 }),
      async (b) => toHex(sha256Sync(b)) === toHex(await sha256(b)),
    ),
    { numRuns: 200 },
  );
});
