// Issue 14 part 1: our strict CBOR decoder against cbor-x on the same bytes. Whatever we decode,
// cbor-x decodes to the same value; whatever cbor-x refuses as malformed, we refuse. Inputs:
// fast-check values of the subset we accept (maps with text keys, byte and text strings, arrays,
// integers up to 64 bits, null/true/false, nested to our depth limit, definite or indefinite),
// and mutants of real documents (FUZZ_SEED, FUZZ_SCALE), whose payloads are compared too.
import { readdirSync, readFileSync } from 'node:fs';
import { Decoder } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { isEnclaveVerifyError } from '../../src/errors.js';
import { CborMap, CborTag, type CborValue, decodeCbor } from '../../src/parse/cbor.js';
import { MAX_CBOR_DEPTH } from '../../src/parse/limits.js';
import { CborEntries, CborIndefiniteArray, type Encodable, encodeCbor } from '../../src/util/cbor-encode.js';
import { createRng, findFields, mutate } from '../../src/vectors/mutate.js';
import { hex } from '../support/der-edit.js';
import { budget, SEED, scaled } from './support.js';

// cbor-x 1.6 has no option for the integer type when decoding: integers encoded in 8 bytes come
// back as bigint, shorter ones as number, and normCborx turns both into bigint.
const cborx = new Decoder({ mapsAsObjects: false, useRecords: false });
const REAL = new URL('../../vectors/real/', import.meta.url);
const MUTANTS = scaled(10_000);

// One comparable form for both decoders: integers as bigint, bytes as hex, maps as entry lists in
// wire order, tags as [tag, value].
type Norm =
  | string
  | bigint
  | boolean
  | null
  | Norm[]
  | { map: Array<[Norm, Norm]> }
  | { tag: bigint; value: Norm };
function normOurs(v: CborValue): Norm {
  if (typeof v === 'number') return BigInt(v);
  if (v instanceof Uint8Array) return `h:${hex(v)}`;
  if (typeof v === 'string') return `s:${v}`;
  if (Array.isArray(v)) return v.map(normOurs);
  if (v instanceof CborMap) return { map: v.entries.map(([k, x]) => [normOurs(k), normOurs(x)]) };
  if (v instanceof CborTag) return { tag: BigInt(v.tag), value: normOurs(v.value) };
  return v;
}
function normCborx(v: unknown): Norm {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : `float:${v}`;
  if (typeof v === 'bigint' || typeof v === 'boolean' || v === null) return v;
  if (typeof v === 'string') return `s:${v}`;
  if (v instanceof Uint8Array) return `h:${hex(v)}`;
  if (Array.isArray(v)) return v.map(normCborx);
  if (v instanceof Map) return { map: [...v.entries()].map(([k, x]) => [normCborx(k), normCborx(x)]) };
  if (v && typeof v === 'object' && 'tag' in v && 'value' in v)
    return { tag: BigInt((v as { tag: number }).tag), value: normCborx((v as { value: unknown }).value) };
  return `other:${Object.prototype.toString.call(v)}`;
}
const show = (n: Norm) => JSON.stringify(n, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));

// True when the value holds a tag other than 18. cbor-x turns tags it knows into JS types (0/1
// dates, 2/3 bignums, 258 sets, 64.. typed arrays...) and may refuse their content; our decoder
// keeps every tag as data, the COSE layer accepts only 18 and the payload rules refuse tagged
// fields. Pinned: such inputs are counted apart, not compared.
function hasForeignTag(v: CborValue): boolean {
  if (v instanceof CborTag) return v.tag !== 18 || hasForeignTag(v.value);
  if (Array.isArray(v)) return v.some(hasForeignTag);
  if (v instanceof CborMap) return v.entries.some(([k, x]) => hasForeignTag(k) || hasForeignTag(x));
  return false;
}

interface Tally {
  agreed: number;
  refusedByBoth: number;
  refusedByUsOnly: number;
  pinnedTags: number;
  disagreements: string[];
}
const fresh = (): Tally => ({
  agreed: 0,
  refusedByBoth: 0,
  refusedByUsOnly: 0,
  pinnedTags: 0,
  disagreements: [],
});

function judge(bytes: Uint8Array, label: string, t: Tally, maxDepth = 8): CborValue | undefined {
  let ours: CborValue | undefined;
  let ourError: string | undefined;
  try {
    ours = decodeCbor(bytes, { maxDepth });
  } catch (e) {
    if (!isEnclaveVerifyError(e) || e.code !== 'ERR_CBOR_MALFORMED') throw e;
    ourError = e.message;
  }
  let theirs: unknown;
  let theirError: string | undefined;
  try {
    theirs = cborx.decode(bytes);
  } catch (e) {
    theirError = (e as Error).message;
  }
  if (ourError !== undefined) {
    if (theirError !== undefined) t.refusedByBoth++;
    else t.refusedByUsOnly++;
    return undefined;
  }
  if (hasForeignTag(ours!)) {
    t.pinnedTags++;
    return ours;
  }
  if (theirError !== undefined) t.disagreements.push(`${label}: we decode, cbor-x refuses (${theirError})`);
  else if (show(normOurs(ours!)) !== show(normCborx(theirs))) {
    t.disagreements.push(
      `${label}: values differ: ours ${show(normOurs(ours!)).slice(0, 200)} vs cbor-x ${show(normCborx(theirs)).slice(0, 200)}`,
    );
  } else t.agreed++;
  return ours;
}

const line = (name: string, t: Tally, extra = '') =>
  `${name}${extra}: ${t.agreed} agreed, ${t.refusedByBoth} refused by both, ${t.refusedByUsOnly} refused by us only ` +
  `(duplicate keys, trailing bytes, floats, indefinite strings, depth...), ${t.pinnedTags} with tags cbor-x interprets (not compared), ` +
  `disagreements ${t.disagreements.length}`;

// Values of the subset, with every encoding choice our decoder accepts.
const subset: fc.Arbitrary<Encodable> = fc.letrec<{ value: Encodable }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 7 },
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
    fc.integer(),
    fc.string({ maxLength: 24 }),
    fc.string({ maxLength: 8 }).map((s) => `\uFEFF${s}`),
    fc.uint8Array({ maxLength: 64 }),
    fc.constantFrom<Encodable>(null, true, false),
    fc
      .tuple(fc.array(tie('value'), { maxLength: 4 }), fc.boolean())
      .map(([items, indefinite]) => (indefinite ? new CborIndefiniteArray(items) : items)),
    fc
      .tuple(
        fc.uniqueArray(fc.tuple(fc.string({ maxLength: 12 }), tie('value')), {
          selector: (e) => e[0],
          maxLength: 4,
        }),
        fc.boolean(),
      )
      .map(([entries, indefinite]) => new CborEntries(entries, indefinite)),
  ),
})).value;

function realDocuments(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const sub of ['nitro/valid/', 'nitro/invalid/', 'nitrotpm/']) {
    for (const f of readdirSync(new URL(sub, REAL))
      .filter((n) => n.endsWith('.cbor'))
      .sort()) {
      out.push(new Uint8Array(readFileSync(new URL(sub + f, REAL))));
    }
  }
  return out;
}

// The payload byte string of a decoded COSE_Sign1 (tagged or not), when there is one.
function payloadOf(v: CborValue | undefined): Uint8Array | undefined {
  const arr = v instanceof CborTag ? v.value : v;
  return Array.isArray(arr) && arr[2] instanceof Uint8Array ? arr[2] : undefined;
}

describe('differential CBOR: ours vs cbor-x', () => {
  test('generated values of the subset decode to the same value in both', () => {
    const t = fresh();
    let n = 0;
    fc.assert(
      fc.property(subset, (value) => {
        judge(encodeCbor(value), `generated #${n++}`, t);
        return true;
      }),
      { seed: SEED, numRuns: scaled(2_000) },
    );
    console.log(line('cbor differential, generated values', t, ` (fast-check seed ${SEED})`));
    expect(t.disagreements.slice(0, 10)).toEqual([]);
    expect(t.agreed).toBeGreaterThan(scaled(2_000) * 0.9);
  });

  test(
    `${MUTANTS} mutated real documents (seed ${SEED}), envelope and payload: no disagreement`,
    () => {
      const docs = realDocuments();
      const fields = docs.map((d) => findFields(d));
      const envelope = fresh();
      const payload = fresh();
      for (const [k, d] of docs.entries()) {
        judge(d, `real document ${k}`, envelope);
        judge(payloadOf(decodeCbor(d))!, `real payload ${k}`, payload, MAX_CBOR_DEPTH);
      }
      expect(envelope.agreed + payload.agreed).toBe(2 * docs.length);
      for (let i = 0; i < MUTANTS; i++) {
        const k = i % docs.length;
        const m = mutate(docs[k]!, createRng(SEED, i), { fields: fields[k]! });
        const label = `seed ${SEED} input ${i} (document ${k}; ${m.ops.join('; ')})`;
        const p = payloadOf(judge(m.bytes, label, envelope));
        if (p) judge(p, `${label} payload`, payload, MAX_CBOR_DEPTH);
      }
      console.log(
        line('cbor differential, mutated documents', envelope, ` (seed ${SEED}, ${MUTANTS} inputs)`),
      );
      console.log(line('cbor differential, their payloads', payload));
      expect(envelope.disagreements.slice(0, 10)).toEqual([]);
      expect(payload.disagreements.slice(0, 10)).toEqual([]);
      expect(payload.agreed).toBeGreaterThan(MUTANTS / 10);
    },
    budget(90_000),
  );
});
