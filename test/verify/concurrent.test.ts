// Issue 14 part 2: the five signature checks of a document run at once, while the report keeps
// today's order, its first-failure code, and every check.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { createTestPki, issueAttestation } from '../../src/forge/index.js';
import { ChainCache } from '../../src/trust/cache.js';
import { checkAttestation } from '../../src/verify.js';

const AT = new Date('2025-01-01T00:00:00Z');
const anjuna = new Uint8Array(
  readFileSync(new URL('../../vectors/real/nitro/valid/anjuna_2021-03-17_prod.cbor', import.meta.url)),
);

afterEach(() => vi.restoreAllMocks());

describe('concurrent signature checks', () => {
  test('all five ECDSA verifications of a cold document are in flight together', async () => {
    const real = crypto.subtle.verify.bind(crypto.subtle);
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    vi.spyOn(crypto.subtle, 'verify').mockImplementation(async (...args: Parameters<typeof real>) => {
      calls++;
      most = Math.max(most, ++inFlight);
      try {
        return await real(...args);
      } finally {
        inFlight--;
      }
    });
    const r = await checkAttestation(anjuna, { currentDate: 'document' });
    expect(r.ok).toBe(true);
    expect(calls).toBe(5);
    expect(most).toBe(5);
  });

  test('a bad link and a bad COSE signature: the report stops at chain.signatures, as before', async () => {
    const pki = await createTestPki({ at: AT, knobs: { leaf: { wrongSigner: true } } });
    const bytes = await issueAttestation(
      pki,
      {},
      { signature: (s) => s.map((b, i) => (i === 5 ? b ^ 1 : b)) },
    );
    const r = await checkAttestation(bytes, { trustedRoots: [pki.rootPem], currentDate: 'document' });
    expect(r.error?.code).toBe('ERR_CHAIN_INVALID');
    expect(r.checks.map((c) => `${c.name}:${c.ok}`)).toEqual([
      'parse:true',
      'chain.path:true',
      'chain.constraints:true',
      'chain.signatures:false',
    ]);
    expect(r.checks[3]!.detail).toMatch(/^certificate '.*enc0000000000000000.* is not validly signed by/);
  });

  test('two bad links: the one nearest the leaf is reported, whichever finishes first', async () => {
    const pki = await createTestPki({
      at: AT,
      knobs: { regional: { wrongSigner: true }, leaf: { wrongSigner: true } },
    });
    const bytes = await issueAttestation(pki);
    for (let run = 0; run < 3; run++) {
      const r = await checkAttestation(bytes, { trustedRoots: [pki.rootPem], currentDate: 'document' });
      expect(r.error?.code).toBe('ERR_CHAIN_INVALID');
      expect(r.error?.message).toMatch(/enc0000000000000000.* is not validly signed/);
    }
    // Only the root link bad: ERR_CHAIN_UNTRUSTED, as before.
    const rootOnly = await createTestPki({ at: AT, knobs: { regional: { wrongSigner: true } } });
    const r = await checkAttestation(await issueAttestation(rootOnly), {
      trustedRoots: [rootOnly.rootPem],
      currentDate: 'document',
    });
    expect(r.error?.code).toBe('ERR_CHAIN_UNTRUSTED');
  });

  test('a bad COSE signature with a good chain: every chain check passes first, then signature fails', async () => {
    const pki = await createTestPki({ at: AT });
    const bytes = await issueAttestation(
      pki,
      {},
      { signature: (s) => s.map((b, i) => (i === 5 ? b ^ 1 : b)) },
    );
    const r = await checkAttestation(bytes, { trustedRoots: [pki.rootPem], currentDate: 'document' });
    expect(r.error?.code).toBe('ERR_SIGNATURE_INVALID');
    expect(r.checks.map((c) => `${c.name}:${c.ok}`)).toEqual([
      'parse:true',
      'chain.path:true',
      'chain.constraints:true',
      'chain.signatures:true',
      'chain.validity:true',
      'signature:false',
    ]);
  });

  test('concurrent documents sharing a ChainCache check each link once', async () => {
    const real = crypto.subtle.verify.bind(crypto.subtle);
    let calls = 0;
    vi.spyOn(crypto.subtle, 'verify').mockImplementation((...args: Parameters<typeof real>) => {
      calls++;
      return real(...args);
    });
    const cache = new ChainCache();
    const reports = await Promise.all(
      Array.from({ length: 8 }, () => checkAttestation(anjuna, { currentDate: 'document', cache })),
    );
    expect(reports.every((r) => r.ok)).toBe(true);
    expect(calls).toBe(4 + 8); // 4 links once, 8 COSE signatures
  });
});
