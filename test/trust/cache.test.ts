import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ChainCache } from '../../src/trust/cache.js';
import { verifyAttestation } from '../../src/verify.js';
import { codeOfAsync as codeOf } from '../support/errors.js';

const NITRO = new URL('../../vectors/real/nitro/', import.meta.url);
const read = (f: string) => new Uint8Array(readFileSync(new URL(f, NITRO)));
const anjuna = read('valid/anjuna_2021-03-17_prod.cbor');
const ANJUNA_TS = 1616018515685;

describe('ChainCache', () => {
  test('remembers certificates by bytes and verified links', async () => {
    const cache = new ChainCache();
    const r1 = await verifyAttestation(anjuna, { currentDate: 'document', cache });
    // leaf + the 4 bundle certificates (the embedded root is not stored in the cache)
    expect(cache.size).toBe(5);
    const leaf = cache.entry(r1.document.certificate);
    expect(leaf.verifiedIssuers.size).toBe(1);
    const r2 = await verifyAttestation(anjuna, { currentDate: 'document', cache });
    expect(cache.size).toBe(5);
    expect(cache.entry(r2.document.certificate)).toBe(leaf);
    expect(r2.chain).toEqual(r1.chain);
  });

  test('still checks validity at each call time', async () => {
    const cache = new ChainCache();
    await verifyAttestation(anjuna, { currentDate: 'document', cache });
    expect(await codeOf(verifyAttestation(anjuna, { cache }))).toBe('ERR_CERT_EXPIRED');
    expect(
      await codeOf(verifyAttestation(anjuna, { cache, currentDate: new Date(ANJUNA_TS - 3_600_000) })),
    ).toBe('ERR_CERT_EXPIRED');
    await verifyAttestation(anjuna, { currentDate: new Date(ANJUNA_TS + 60_000), cache });
  });

  test('a cached chain never vouches for a different document signature', async () => {
    const cache = new ChainCache();
    await verifyAttestation(anjuna, { currentDate: 'document', cache });
    const tampered = anjuna.slice();
    tampered[tampered.length - 1]! ^= 1;
    expect(await codeOf(verifyAttestation(tampered, { currentDate: 'document', cache }))).toBe(
      'ERR_SIGNATURE_INVALID',
    );
  });

  test('a link that failed is not remembered as verified', async () => {
    const cache = new ChainCache();
    const bad = read('invalid/neg_eternis_bad_signature.cbor');
    expect(await codeOf(verifyAttestation(bad, { currentDate: 'document', cache, allowDebug: true }))).toBe(
      'ERR_SIGNATURE_INVALID',
    );
    expect(await codeOf(verifyAttestation(bad, { currentDate: 'document', cache, allowDebug: true }))).toBe(
      'ERR_SIGNATURE_INVALID',
    );
  });

  test('is bounded: the oldest certificates are dropped', async () => {
    const cache = new ChainCache({ maxCertificates: 3 });
    await verifyAttestation(anjuna, { currentDate: 'document', cache });
    expect(cache.size).toBe(3);
    await verifyAttestation(anjuna, { currentDate: 'document', cache });
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
