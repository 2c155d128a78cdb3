// Hostile-input figures for the attestation verifier: at least 20,000 mutated documents per
// `npm test` run (real AWS documents and the project's test PKI), none accepted, none throwing
// anything but EnclaveVerifyError, each answered within a time bound, memory bounded.
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, issueAttestation } from '../../src/forge/index.js';
import { ChainCache } from '../../src/trust/cache.js';
import { createRng, findFields, mutate } from '../../src/vectors/mutate.js';
import { type VerifyOptions, verifyAttestation } from '../../src/verify.js';
import { budget, memory, report, SEED, sameSignedContent, scaled, shared, watchedFuzz } from './support.js';

interface Base {
  name: string;
  bytes: Uint8Array;
  options: VerifyOptions;
}

const PER_BASE = scaled(4000);
const TIME_LIMIT_MS = 3000;
const bases: Base[] = [];
// One cache for the whole campaign, as a busy verifier would hold: unchanged certificates are
// not re-verified, so mutants cost what their changed bytes cost. Validity is still checked.
const cache = new ChainCache({ maxCertificates: 256 });

beforeAll(async () => {
  for (const name of [
    'valid/anjuna_2021-03-17_prod',
    'valid/caution_2025-12-23_bootproof',
    'valid/evervault_2022-10-13_nonce256',
    'valid/oyster_2025-04-29_pcr16',
  ]) {
    bases.push({
      name: `real:${name.slice(6)}`,
      bytes: shared(`nitro/${name}.cbor`),
      options: { currentDate: 'document', cache },
    });
  }
  // A real NitroTPM document (SPEC 1.5): mutants of its nitrotpm_pcrs map must never pass either.
  bases.push({
    name: 'real:nitrotpm/vaportpm_2026-02-02',
    bytes: shared('nitrotpm/vaportpm_2026-02-02.cbor'),
    options: { currentDate: 'document', cache },
  });
  const pki = await createTestPki({ at: new Date('2025-06-01T00:00:00Z'), label: 'fuzz' });
  const doc = await issueAttestation(
    pki,
    {
      nonce: new Uint8Array(32).fill(7),
      userData: new TextEncoder().encode('{"k":1}'),
      publicKey: new Uint8Array(65).fill(4),
    },
    { tagged: true },
  );
  bases.push({
    name: 'forge:tagged+optionals',
    bytes: doc,
    options: { currentDate: 'document', trustedRoots: [pki.rootPem], cache },
  });
  // Every base must verify as it is: otherwise "no mutant accepted" would prove nothing.
  for (const b of bases) await verifyAttestation(b.bytes, b.options);
}, budget(60_000));

describe('mutated attestation documents', () => {
  it(
    `rejects ${6 * PER_BASE} mutants cleanly, quickly and in bounded memory`,
    async () => {
      let total = 0;
      let peakRss = 0;
      let peakHeap = 0;
      let maxMs = 0;
      let ms = 0;
      const byCode: Record<string, number> = {};
      for (const [k, base] of bases.entries()) {
        const fields = findFields(base.bytes);
        const stats = await watchedFuzz({
          name: `attestation ${base.name}`,
          seed: SEED + k,
          count: PER_BASE,
          generate: (i) => {
            const m = mutate(base.bytes, createRng(SEED + k, i), { fields });
            return { bytes: m.bytes, how: m.ops.join('; ') };
          },
          check: (bytes) => verifyAttestation(bytes, base.options),
          legitimate: (input) => sameSignedContent(base.bytes, input.bytes),
          timeLimitMs: TIME_LIMIT_MS,
          memory,
          sampleEvery: 50,
        });
        report(stats);
        expect(stats.findings.accepted).toEqual([]);
        expect(stats.findings.uncaught).toEqual([]);
        expect(stats.findings.hangs).toEqual([]);
        expect(stats.accepted + stats.uncaught + stats.hangs).toBe(0);
        expect(stats.count).toBe(PER_BASE);
        total += stats.count;
        peakRss = Math.max(peakRss, stats.peakRss);
        peakHeap = Math.max(peakHeap, stats.peakHeap);
        maxMs = Math.max(maxMs, stats.maxMs);
        ms += stats.totalMs;
        for (const [c, n] of Object.entries(stats.byCode)) byCode[c] = (byCode[c] ?? 0) + n;
      }
      console.log(
        `[fuzz] attestation TOTAL: ${total} mutants, accepted=0 uncaught=0 hangs=0, ${(ms / 1000).toFixed(1)} s, ` +
          `max per-input ${maxMs.toFixed(1)} ms (bound ${TIME_LIMIT_MS} ms), peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MB, ` +
          `peak heap ${(peakHeap / 2 ** 20).toFixed(0)} MB; codes ${JSON.stringify(byCode)}`,
      );
      expect(total).toBeGreaterThanOrEqual(scaled(20_000));
      expect(maxMs).toBeLessThan(TIME_LIMIT_MS);
      expect(peakHeap).toBeLessThan(256 * 2 ** 20);
      expect(peakRss).toBeLessThan(512 * 2 ** 20);
    },
    budget(240_000),
  );
});
