import fc from 'fast-check';
import { beforeAll, expect, test } from 'vitest';
import { createTestPki, issueAttestation, type TestPki } from '../../src/forge/index.js';
import { ChainCache } from '../../src/trust/cache.js';
import { toHex } from '../../src/util/bytes.js';
import { verifyAttestation } from '../../src/verify.js';

// Generated documents with every allowed shape of the payload: what was signed is what is read back.
let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki({ at: new Date('2025-03-01T00:00:00Z') });
});

const pcrValue = fc.constantFrom(32, 48, 64).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));
const optional = (min: number) =>
  fc.option(fc.uint8Array({ minLength: min, maxLength: 1024 }), { nil: undefined });

test('random valid payloads verify and decode to exactly the signed values', async () => {
  const cache = new ChainCache();
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        pcrs: fc.dictionary(fc.integer({ min: 0, max: 31 }).map(String), pcrValue, {
          minKeys: 1,
          maxKeys: 32,
        }),
        moduleId: fc.string({ minLength: 1, maxLength: 60 }),
        publicKey: optional(1),
        userData: optional(0),
        nonce: optional(0),
        tagged: fc.boolean(),
        indefinite: fc.boolean(),
        nulls: fc.boolean(),
        offsetMs: fc.integer({ min: 0, max: 3 * 3_600_000 }),
      }),
      async (g) => {
        // Keep PCR0..2 non-zero so the document is not a debug one.
        for (const i of ['0', '1', '2']) if (g.pcrs[i]?.every((b) => b === 0)) g.pcrs[i]![0] = 1;
        const timestamp = pki.leaf.notBefore.getTime() + g.offsetMs;
        const fields = {
          moduleId: g.moduleId,
          timestamp,
          pcrs: g.pcrs,
          publicKey: g.publicKey,
          userData: g.userData,
          nonce: g.nonce,
        };
        const bytes = await issueAttestation(pki, fields, {
          tagged: g.tagged,
          indefinitePayload: g.indefinite,
          nullOptionals: g.nulls,
        });
        const r = await verifyAttestation(bytes, {
          trustedRoots: [pki.rootPem],
          currentDate: 'document',
          allowDebug: true,
          cache,
        });
        const d = r.document;
        expect(d.moduleId).toBe(g.moduleId);
        expect(d.timestampMs).toBe(timestamp);
        expect(Object.fromEntries([...d.pcrs].map(([i, v]) => [String(i), toHex(v)]))).toEqual(
          Object.fromEntries(Object.entries(g.pcrs).map(([i, v]) => [i, toHex(v)])),
        );
        expect(d.publicKey && toHex(d.publicKey)).toBe(g.publicKey && toHex(g.publicKey));
        expect(d.userData && toHex(d.userData)).toBe(g.userData && toHex(g.userData));
        expect(d.nonce && toHex(d.nonce)).toBe(g.nonce && toHex(g.nonce));
        expect(r.tagged).toBe(g.tagged);
      },
    ),
    { numRuns: 60 },
  );
});
