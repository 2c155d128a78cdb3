import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { isEnclaveVerifyError } from '../../src/errors.js';
import { ChainCache } from '../../src/trust/cache.js';
import { fromBase64 } from '../../src/util/bytes.js';
import { type VerifyOptions, verifyAttestation } from '../../src/verify.js';

// Flip every byte of a real document, one position at a time: no variant may be accepted.
// A ChainCache keeps this fast: unchanged certificates are verified once, not 4,000 times.
const NITRO = new URL('../../vectors/real/nitro/', import.meta.url);
const CAUTION = new URL('../../vectors/real/caution/', import.meta.url);

async function everyFlipRejected(bytes: Uint8Array, mask: number, options: VerifyOptions, stride = 1) {
  const cache = new ChainCache({ maxCertificates: 100_000 });
  await verifyAttestation(bytes, { ...options, cache }); // the original is accepted
  const accepted: number[] = [];
  const codes = new Map<string, number>();
  for (let i = 0; i < bytes.length; i += stride) {
    const m = bytes.slice();
    m[i]! ^= mask;
    try {
      await verifyAttestation(m, { ...options, cache });
      accepted.push(i);
    } catch (e) {
      if (!isEnclaveVerifyError(e)) throw e;
      codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
    }
  }
  return { accepted, codes };
}

test('every single-byte flip of a real document (all 4,394 positions) is rejected', async () => {
  const bytes = new Uint8Array(readFileSync(new URL('valid/anjuna_2021-03-17_prod.cbor', NITRO)));
  const { accepted, codes } = await everyFlipRejected(bytes, 0xff, { currentDate: 'document' });
  expect(accepted).toEqual([]);
  expect([...codes.values()].reduce((a, b) => a + b, 0)).toBe(4394);
  expect(codes.get('ERR_SIGNATURE_INVALID')).toBeGreaterThan(0);
  expect(codes.get('ERR_CHAIN_INVALID')).toBeGreaterThan(0);
});

test('single-bit flips at every third byte of the Caution document (indefinite-length map) are rejected', async () => {
  const evidence = JSON.parse(readFileSync(new URL('evidence-v0-vector.json', CAUTION), 'utf8'));
  const bytes = fromBase64(evidence.document);
  const { accepted } = await everyFlipRejected(
    bytes,
    0x01,
    { currentDate: 'document', nonce: fromBase64(evidence.nonce) },
    3,
  );
  expect(accepted).toEqual([]);
});
