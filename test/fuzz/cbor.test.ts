// Property-based tests of the parser and verifier on random input: raw bytes, random CBOR,
// COSE-shaped documents with random payload fields (sometimes with a genuine certificate chain),
// deep nesting and huge declared lengths. Every input must be refused with an EnclaveVerifyError.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { EnclaveVerifyError } from '../../src/errors.js';
import { CborEntries, CborTagged, type Encodable, encodeCbor } from '../../src/forge/index.js';
import { decodeAttestation } from '../../src/parse/document.js';
import { ChainCache } from '../../src/trust/cache.js';
import { createRng, randomCbor } from '../../src/vectors/mutate.js';
import { verifyAttestation } from '../../src/verify.js';
import { budget, SEED, scaled, shared } from './support.js';

const cache = new ChainCache({ maxCertificates: 64 });
let real: { certificate: Uint8Array; cabundle: Uint8Array[]; timestampMs: number };

beforeAll(() => {
  const doc = decodeAttestation(shared('nitro/valid/anjuna_2021-03-17_prod.cbor'));
  real = { certificate: doc.certificate, cabundle: doc.cabundle, timestampMs: doc.timestampMs };
});

/** 'rejected:<code>' for an EnclaveVerifyError, 'accepted', or the unexpected error itself. */
async function outcome(bytes: Uint8Array, at?: Date): Promise<string> {
  try {
    await verifyAttestation(bytes, {
      currentDate: at ?? new Date('2021-03-17T22:30:00Z'),
      allowDebug: true,
      cache,
    });
    return 'accepted';
  } catch (e) {
    if (e instanceof EnclaveVerifyError) return `rejected:${e.code}`;
    throw e;
  }
}

function decodeOutcome(bytes: Uint8Array): string {
  try {
    decodeAttestation(bytes);
    return 'decoded';
  } catch (e) {
    if (e instanceof EnclaveVerifyError) return `rejected:${e.code}`;
    throw e;
  }
}

const cborValue: fc.Arbitrary<Encodable> = fc.letrec<{ value: Encodable }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer(),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    fc.string({ maxLength: 40 }),
    fc.uint8Array({ maxLength: 120 }),
    fc.constantFrom<Encodable>(null, true, false),
    fc.array(tie('value'), { maxLength: 4 }),
    fc
      .array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 })
      .map((e) => new CborEntries(e as Array<[Encodable, Encodable]>)),
  ),
})).value;

const bytesOf = (...lengths: number[]) =>
  fc.constantFrom(...lengths).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));
const field = (good: fc.Arbitrary<Encodable>) =>
  fc.oneof({ weight: 30, arbitrary: good }, { weight: 1, arbitrary: cborValue });

function payloadArbitrary(): fc.Arbitrary<Encodable> {
  const validPcrs = fc
    .array(fc.tuple(fc.integer({ min: 0, max: 31 }), bytesOf(48)), { minLength: 1, maxLength: 17 })
    .map((e) => new CborEntries(e as Array<[Encodable, Encodable]>));
  const oddPcrs = fc
    .array(fc.tuple(fc.integer({ min: -1, max: 33 }), bytesOf(48, 32, 64, 0, 47)), { maxLength: 18 })
    .map((e) => new CborEntries(e as Array<[Encodable, Encodable]>));
  const pcrs = fc.oneof({ weight: 8, arbitrary: validPcrs }, { weight: 1, arbitrary: oddPcrs });
  const optional = fc.oneof(
    { weight: 4, arbitrary: fc.constant<Encodable>(null) },
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 1024 }) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1025, maxLength: 1100 }) },
  );
  return fc
    .record(
      {
        module_id: field(
          fc.oneof(fc.constant('i-0123456789abcdef0-enc0123456789abcdef'), fc.string({ maxLength: 8 })),
        ),
        digest: field(fc.constantFrom('SHA384', 'SHA256', '')),
        timestamp: field(
          fc.oneof(
            fc.constant(BigInt(Date.parse('2021-03-17T22:01:55Z'))),
            fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          ),
        ),
        pcrs: field(pcrs),
        certificate: field(
          fc.oneof(
            fc.constant(null).map(() => real.certificate as Encodable),
            fc.uint8Array({ maxLength: 1100 }),
          ),
        ),
        cabundle: field(
          fc.oneof(
            fc.constant(null).map(() => real.cabundle as Encodable),
            fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }),
          ),
        ),
        public_key: field(optional),
        user_data: field(optional),
        nonce: field(optional),
      },
      { requiredKeys: ['module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle'] },
    )
    .chain((rec) =>
      fc
        .tuple(
          fc.boolean(),
          fc.integer({ min: 0, max: 9 }),
          fc.oneof(
            { weight: 3, arbitrary: fc.constant(Object.keys(rec)) },
            fc.shuffledSubarray(Object.keys(rec)),
          ),
        )
        .map(([indef, dupRoll, keys]) => {
          const dup = dupRoll === 0;
          const entries: Array<[Encodable, Encodable]> = keys.map((k) => [
            k,
            rec[k as keyof typeof rec] as Encodable,
          ]);
          if (dup && entries.length) entries.push(entries[0]!);
          return new CborEntries(entries, indef);
        }),
    );
}

function coseArbitrary(): fc.Arbitrary<Uint8Array> {
  const protectedHeader = fc.oneof(
    { depthSize: 'small' },
    { weight: 12, arbitrary: fc.constant(Uint8Array.of(0xa1, 0x01, 0x38, 0x22)) },
    { weight: 1, arbitrary: cborValue.map((v) => encodeCbor(v)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 8 }) },
  );
  const unprotected = fc.oneof(
    { weight: 12, arbitrary: fc.constant<Encodable>(new Map()) },
    { weight: 1, arbitrary: cborValue },
  );
  return fc
    .tuple(
      protectedHeader,
      unprotected,
      payloadArbitrary(),
      // Mostly well-formed envelopes, so that most inputs reach the payload and trust checks.
      fc.noBias(
        fc.oneof({ weight: 20, arbitrary: bytesOf(96) }, { weight: 1, arbitrary: bytesOf(0, 95, 104) }),
      ),
      fc.noBias(fc.integer({ min: 0, max: 39 })),
    )
    .map(([p, u, payload, sig, shape]) => {
      const items: Encodable[] = [p, u, encodeCbor(payload), sig];
      if (shape === 0) items.pop();
      if (shape === 1) items.push(null);
      const envelope: Encodable =
        shape === 2 ? new CborTagged(18, items) : shape === 3 ? new CborTagged(98, items) : items;
      return encodeCbor(envelope);
    });
}

describe('random input to the attestation parser and verifier', () => {
  const RUNS = scaled(1500);

  it(
    `refuses ${RUNS} random byte strings`,
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 6000 }), async (bytes) => {
          expect(await outcome(bytes)).toMatch(/^rejected:ERR_/);
        }),
        { numRuns: RUNS, seed: SEED },
      );
    },
    budget(60_000),
  );

  it(
    `refuses ${RUNS} random CBOR items, and decodes none of them as a document`,
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          fc.nat({ max: 600 }),
          async (seed, size) => {
            const bytes = randomCbor(createRng(seed), size);
            expect(decodeOutcome(bytes)).toMatch(/^rejected:ERR_/);
            expect(await outcome(bytes)).toMatch(/^rejected:ERR_/);
          },
        ),
        { numRuns: RUNS, seed: SEED + 1 },
      );
    },
    budget(60_000),
  );

  it(
    `refuses ${RUNS * 2} COSE-shaped documents with random payload fields and unsigned content`,
    async () => {
      const seen = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(coseArbitrary(), async (bytes) => {
          const o = await outcome(bytes);
          seen.set(o, (seen.get(o) ?? 0) + 1);
          expect(o).toMatch(/^rejected:ERR_/);
        }),
        { numRuns: RUNS * 2, seed: SEED + 2 },
      );
      console.log(`[fuzz] COSE-shaped random documents: ${JSON.stringify(Object.fromEntries(seen))}`);
      // The generator must reach the deep checks, not only the parser.
      expect(seen.get('rejected:ERR_SIGNATURE_INVALID') ?? 0).toBeGreaterThan(0);
      expect(seen.get('rejected:ERR_DOCUMENT_INVALID') ?? 0).toBeGreaterThan(0);
    },
    budget(120_000),
  );

  it('refuses deep nesting and huge declared lengths quickly, with the parser codes', async () => {
    const nest = (unit: number[], n: number, tail = [0x00]) =>
      Uint8Array.from([...Array(n).fill(unit).flat(), ...tail]);
    const cases: [string, Uint8Array, string][] = [
      ['100,000 nested arrays', nest([0x81], 100_000), 'rejected:ERR_INPUT_TOO_LARGE'],
      ['10,000 nested arrays', nest([0x81], 10_000), 'rejected:ERR_CBOR_MALFORMED'],
      [
        '1,000 indefinite arrays',
        nest([0x9f], 1000, [0x00, ...Array(1000).fill(0xff)]),
        'rejected:ERR_CBOR_MALFORMED',
      ],
      ['1,000 nested maps', nest([0xa1, 0x00], 1000), 'rejected:ERR_CBOR_MALFORMED'],
      ['1,000 nested tags', nest([0xd2], 1000), 'rejected:ERR_CBOR_MALFORMED'],
      ['array of 2^64-1 items', Uint8Array.of(0x9b, ...Array(8).fill(0xff)), 'rejected:ERR_CBOR_MALFORMED'],
      [
        'byte string of 2^63 bytes',
        Uint8Array.of(0x84, 0x5b, 0x80, ...Array(7).fill(0)),
        'rejected:ERR_CBOR_MALFORMED',
      ],
      ['map of 2^32 entries', Uint8Array.of(0xba, 0xff, 0xff, 0xff, 0xff), 'rejected:ERR_CBOR_MALFORMED'],
      ['text of 2^31 bytes', Uint8Array.of(0x7a, 0x80, 0, 0, 0), 'rejected:ERR_CBOR_MALFORMED'],
    ];
    for (const [what, bytes, want] of cases) {
      const t0 = performance.now();
      const got = await outcome(bytes);
      const ms = performance.now() - t0;
      expect(`${what}: ${got}`).toBe(`${what}: ${want}`);
      expect(ms, what).toBeLessThan(500);
    }
  });
});
