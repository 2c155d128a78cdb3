/**
 * Seedable mutation engines for hostile-input testing: pure functions over `Uint8Array`,
 * driven by an explicit random generator so that any failing input can be reproduced from
 * `(seed, index)` alone. Structure-aware operators find CBOR heads and DER lengths (also
 * inside byte strings, where COSE nests the payload and the certificates) and corrupt exactly
 * the fields parsers trust most: lengths, nesting and types.
 */

/** A small deterministic generator (sfc32): fast, and the same on every runtime. */
export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  u32(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** True with probability p. */
  chance(p: number): boolean;
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
}

/**
 * A generator seeded by `seed` and a stream number (e.g. the input index), so that input `i`
 * of a run can be regenerated without replaying the inputs before it.
 *
 * @example
 * ```ts
 * const rng = createRng(42, 7);
 * rng.int(10); // always the same for (42, 7)
 * ```
 */
export function createRng(seed: number, stream = 0): Rng {
  let a = seed >>> 0;
  let b = (stream * 0x9e3779b9) >>> 0;
  let c = (seed ^ 0x85ebca6b ^ (stream << 7)) >>> 0;
  let d = 1;
  const u32 = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 15; i++) u32();
  const int = (n: number) => {
    if (n <= 0) return 0;
    if (n <= 0x1_0000_0000) return Math.floor((u32() / 0x1_0000_0000) * n);
    return Math.floor(((u32() * 0x1_0000_0000 + u32()) / 2 ** 64) * n);
  };
  return {
    u32,
    int,
    pick: <T>(items: readonly T[]) => items[int(items.length)]!,
    chance: (p: number) => u32() / 0x1_0000_0000 < p,
    bytes: (n: number) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = u32() & 0xff;
      return out;
    },
  };
}

/** A length-bearing head found in the input: a CBOR item head or a DER tag-length. */
export interface Field {
  /** `cbor`: CBOR head; `der`: ASN.1 DER tag + length. */
  type: 'cbor' | 'der';
  /** Offset of the head's first byte. */
  offset: number;
  /** Bytes of the head (initial byte + argument, or tag + length octets). */
  headLength: number;
  /** CBOR major type (0..7), or the DER tag byte. */
  major: number;
  /** The decoded argument (CBOR) or content length (DER). */
  value: number;
}

const MAX_FIELDS = 4096;

function cborHeadAt(
  b: Uint8Array,
  p: number,
): { major: number; ai: number; len: number; value: number } | undefined {
  if (p >= b.length) return undefined;
  const ib = b[p]!;
  const major = ib >> 5;
  const ai = ib & 31;
  if (ai < 24) return { major, ai, len: 1, value: ai };
  if (ai === 31) return major >= 2 && major <= 5 ? { major, ai, len: 1, value: -1 } : undefined;
  if (ai > 27) return undefined;
  const n = 1 << (ai - 24);
  if (p + 1 + n > b.length) return undefined;
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + b[p + 1 + i]!;
  return { major, ai, len: 1 + n, value: v };
}

/** Walk one CBOR item; returns the offset after it, or -1 when malformed. */
function walkCbor(b: Uint8Array, p: number, end: number, out: Field[], depth: number): number {
  if (depth > 64 || out.length >= MAX_FIELDS) return -1;
  const h = cborHeadAt(b, p);
  if (!h || p + h.len > end) return -1;
  out.push({ type: 'cbor', offset: p, headLength: h.len, major: h.major, value: h.value });
  let q = p + h.len;
  switch (h.major) {
    case 0:
    case 1:
      return q;
    case 2:
    case 3: {
      if (h.ai === 31) {
        while (q < end && b[q] !== 0xff) {
          q = walkCbor(b, q, end, out, depth + 1);
          if (q < 0) return -1;
        }
        return q < end ? q + 1 : -1;
      }
      if (q + h.value > end) return -1;
      if (h.major === 2 && h.value > 0) scanNested(b, q, q + h.value, out, depth + 1);
      return q + h.value;
    }
    case 4:
    case 5: {
      const items = h.major === 5 ? 2 : 1;
      if (h.ai === 31) {
        while (q < end && b[q] !== 0xff) {
          q = walkCbor(b, q, end, out, depth + 1);
          if (q < 0) return -1;
        }
        return q < end ? q + 1 : -1;
      }
      for (let i = 0; i < h.value * items; i++) {
        q = walkCbor(b, q, end, out, depth + 1);
        if (q < 0) return -1;
      }
      return q;
    }
    case 6:
      return walkCbor(b, q, end, out, depth + 1);
    default:
      return q;
  }
}

/** Walk DER TLVs in [p, end); constructed types are descended into. */
function walkDer(b: Uint8Array, p: number, end: number, out: Field[], depth: number): boolean {
  while (p < end) {
    if (depth > 32 || out.length >= MAX_FIELDS) return false;
    const tag = b[p]!;
    if ((tag & 0x1f) === 0x1f || p + 2 > end) return false;
    let len = b[p + 1]!;
    let head = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || p + 2 + n > end) return false;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[p + 2 + i]!;
      head += n;
    }
    if (p + head + len > end) return false;
    out.push({ type: 'der', offset: p, headLength: head, major: tag, value: len });
    if (tag & 0x20) walkDer(b, p + head, p + head + len, out, depth + 1);
    p += head + len;
  }
  return true;
}

/** Byte-string content may itself be CBOR (COSE payload, protected header) or DER (certificates). */
function scanNested(b: Uint8Array, p: number, end: number, out: Field[], depth: number): void {
  const first = b[p]!;
  if (first === 0x30) {
    const mark = out.length;
    if (!walkDer(b, p, end, out, depth)) out.length = mark;
    return;
  }
  const major = first >> 5;
  if (major === 4 || major === 5) {
    const mark = out.length;
    if (walkCbor(b, p, end, out, depth) !== end) out.length = mark;
  }
}

/**
 * Every CBOR head and DER tag-length in `bytes`, descending into byte strings that hold CBOR
 * or DER. Stops quietly at the first malformed spot (it maps, it does not validate).
 *
 * @example
 * ```ts
 * findFields(new Uint8Array([0x82, 0x01, 0x41, 0x00])).map((f) => f.offset); // [0, 1, 2]
 * ```
 */
export function findFields(bytes: Uint8Array): Field[] {
  const out: Field[] = [];
  let p = 0;
  if (bytes[0] === 0x30) {
    walkDer(bytes, 0, bytes.length, out, 0);
    return out;
  }
  while (p >= 0 && p < bytes.length && out.length < MAX_FIELDS) p = walkCbor(bytes, p, bytes.length, out, 0);
  return out;
}

/** One mutant and how it was made (for reproducing a failure by hand). */
export interface Mutant {
  bytes: Uint8Array;
  ops: string[];
}

function splice(b: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length - remove + insert.length);
  out.set(b.subarray(0, at), 0);
  out.set(insert, at);
  out.set(b.subarray(at + remove), at + insert.length);
  return out;
}

function beBytes(value: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let v = value;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Bytes that mean something to CBOR and DER parsers: breaks, indefinite heads, 8-byte lengths. */
const INTERESTING = [
  0x00, 0x01, 0x7f, 0x80, 0xff, 0x1f, 0x3f, 0x5f, 0x7f, 0x9f, 0xbf, 0x5b, 0x9b, 0xbb, 0xd2, 0xf6, 0xf7,
];

/** A structure-blind or structure-aware edit of `b`. */
type Operator = (b: Uint8Array, rng: Rng, fields: Field[]) => Mutant | undefined;

const blind: Record<string, Operator> = {
  flipBit(b, rng) {
    const at = rng.int(b.length);
    const bit = rng.int(8);
    const out = b.slice();
    out[at]! ^= 1 << bit;
    return { bytes: out, ops: [`flip bit ${bit} at ${at}`] };
  },
  setByte(b, rng) {
    const at = rng.int(b.length);
    const out = b.slice();
    let v = rng.chance(0.5) ? rng.pick(INTERESTING) : rng.int(256);
    if (v === out[at]) v ^= 0xff;
    out[at] = v;
    return { bytes: out, ops: [`set byte ${at} to 0x${v.toString(16)}`] };
  },
  truncate(b, rng) {
    const len = rng.chance(0.3) ? b.length - 1 - rng.int(Math.min(16, b.length)) : rng.int(b.length);
    return { bytes: b.slice(0, len), ops: [`truncate to ${len}`] };
  },
  insert(b, rng) {
    const at = rng.int(b.length + 1);
    const ins = rng.chance(0.5) ? Uint8Array.of(rng.pick(INTERESTING)) : rng.bytes(1 + rng.int(16));
    return { bytes: splice(b, at, 0, ins), ops: [`insert ${ins.length} bytes at ${at}`] };
  },
  remove(b, rng) {
    const at = rng.int(b.length);
    const n = 1 + rng.int(Math.min(32, b.length - at));
    return { bytes: splice(b, at, n, new Uint8Array(0)), ops: [`delete ${n} bytes at ${at}`] };
  },
  duplicate(b, rng) {
    const from = rng.int(b.length);
    const n = 1 + rng.int(Math.min(64, b.length - from));
    const to = rng.int(b.length + 1);
    return {
      bytes: splice(b, to, 0, b.slice(from, from + n)),
      ops: [`copy ${n} bytes from ${from} to ${to}`],
    };
  },
  append(b, rng) {
    const ins = rng.chance(0.5)
      ? Uint8Array.of(rng.pick([0x00, 0xff, 0xf6, 0xa0, 0x80]))
      : rng.bytes(1 + rng.int(8));
    return { bytes: splice(b, b.length, 0, ins), ops: [`append ${ins.length} bytes`] };
  },
};

const structured: Record<string, Operator> = {
  /** Change a length/argument within its encoded width: off by one, zero, maximum, random. */
  lengthField(b, rng, fields) {
    if (fields.length === 0) return undefined;
    const f = rng.pick(fields);
    const out = b.slice();
    const argStart = f.type === 'cbor' ? f.offset + 1 : f.offset + (f.headLength === 2 ? 1 : 2);
    const argLen = f.type === 'cbor' ? f.headLength - 1 : f.headLength === 2 ? 1 : f.headLength - 2;
    if (argLen === 0) {
      // CBOR argument packed in the initial byte: rewrite the low 5 bits.
      const ai = rng.pick([0, 1, 23, 24, 27, 28, 31, (f.value + 1) & 31, (f.value + 31) & 31]);
      out[f.offset] = (out[f.offset]! & 0xe0) | ai;
      return { bytes: out, ops: [`${f.type} head at ${f.offset}: argument -> ai ${ai}`] };
    }
    const max = 2n ** BigInt(8 * argLen) - 1n;
    const cur = BigInt(f.value);
    const choice = rng.int(6);
    const v =
      choice === 0
        ? cur + 1n
        : choice === 1
          ? cur > 0n
            ? cur - 1n
            : 1n
          : choice === 2
            ? 0n
            : choice === 3
              ? max
              : choice === 4
                ? max / 2n
                : BigInt(rng.u32()) & max;
    out.set(beBytes(v, argLen), argStart);
    return { bytes: out, ops: [`${f.type} length at ${f.offset}: ${f.value} -> ${v}`] };
  },
  /** Re-encode a head with an 8-byte argument declaring a huge length. */
  hugeLength(b, rng, fields) {
    const cands = fields.filter((f) => f.type === 'cbor' && f.major >= 2 && f.major <= 5);
    if (cands.length === 0) return undefined;
    const f = rng.pick(cands);
    const huge = rng.pick([2n ** 64n - 1n, 2n ** 63n, 2n ** 32n, 2n ** 31n - 1n, 0x10000000n]);
    const head = new Uint8Array(9);
    head[0] = (f.major << 5) | 27;
    head.set(beBytes(huge, 8), 1);
    return {
      bytes: splice(b, f.offset, f.headLength, head),
      ops: [`cbor head at ${f.offset}: length ${huge}`],
    };
  },
  /** Make a definite-length string/array/map indefinite (without adding a break). */
  indefinite(b, rng, fields) {
    const cands = fields.filter((f) => f.type === 'cbor' && f.major >= 2 && f.major <= 5 && f.value >= 0);
    if (cands.length === 0) return undefined;
    const f = rng.pick(cands);
    const add = rng.chance(0.5);
    const head = Uint8Array.of((f.major << 5) | 31);
    const out = splice(b, f.offset, f.headLength, head);
    return {
      bytes: add ? splice(out, out.length, 0, Uint8Array.of(0xff)) : out,
      ops: [`cbor head at ${f.offset}: indefinite${add ? ' + break at end' : ''}`],
    };
  },
  /** Change the major type of a CBOR head (wrong types). */
  majorType(b, rng, fields) {
    const cands = fields.filter((f) => f.type === 'cbor');
    if (cands.length === 0) return undefined;
    const f = rng.pick(cands);
    const major = (f.major + 1 + rng.int(7)) & 7;
    const out = b.slice();
    out[f.offset] = (major << 5) | (out[f.offset]! & 31);
    return { bytes: out, ops: [`cbor head at ${f.offset}: major ${f.major} -> ${major}`] };
  },
  /** Wrap an item in deep nesting: arrays of one, or tags. */
  deepNesting(b, rng, fields) {
    const cands = fields.filter((f) => f.type === 'cbor');
    const at = cands.length ? rng.pick(cands).offset : 0;
    const depth = rng.pick([65, 200, 1000, 10_000, 100_000]);
    const unit = rng.pick([0x81, 0x9f, 0xc6, 0xa1]);
    const fill = new Uint8Array(unit === 0xa1 ? depth * 2 : depth);
    if (unit === 0xa1) for (let i = 0; i < depth; i++) fill.set([0xa1, 0x00], 2 * i);
    else fill.fill(unit);
    return { bytes: splice(b, at, 0, fill), ops: [`nest ${depth} x 0x${unit.toString(16)} at ${at}`] };
  },
  /** Duplicate a map entry by copying the key/value pair after it (duplicate keys). */
  duplicateItem(b, rng, fields) {
    const cands = fields.filter((f) => f.type === 'cbor' && f.major === 5 && f.value > 0 && f.value < 23);
    if (cands.length === 0) return undefined;
    const f = rng.pick(cands);
    // Copy the first entry (key + value) of the map right after its head, bump the count.
    const sub: Field[] = [];
    const afterKey = walkCbor(b, f.offset + f.headLength, b.length, sub, 0);
    const afterValue = afterKey < 0 ? -1 : walkCbor(b, afterKey, b.length, sub, 0);
    if (afterValue < 0) return undefined;
    const entry = b.slice(f.offset + f.headLength, afterValue);
    let out = splice(b, afterValue, 0, entry);
    out[f.offset] = (5 << 5) | (f.value + 1);
    if (rng.chance(0.3))
      out = splice(
        out,
        afterValue,
        entry.length,
        entry.map((x, i) => (i === entry.length - 1 ? x ^ 1 : x)),
      );
    return { bytes: out, ops: [`map at ${f.offset}: duplicate first entry`] };
  },
  /** Wrap the whole input in a tag (18 is legal for COSE_Sign1; others are not). */
  tag(b, rng) {
    const t = rng.pick([0xd2, 0xd1, 0xd8, 0xc0, 0xd9]);
    const head =
      t === 0xd8 ? Uint8Array.of(0xd8, 98) : t === 0xd9 ? Uint8Array.of(0xd9, 0xd9, 0xf7) : Uint8Array.of(t);
    return {
      bytes: splice(b, 0, 0, head),
      ops: [`prefix tag head ${[...head].map((x) => x.toString(16)).join(' ')}`],
    };
  },
};

/** Weights of the operators in {@link mutate}: structure-aware ones dominate. */
const WEIGHTS: [string, number][] = [
  ['flipBit', 14],
  ['setByte', 14],
  ['truncate', 8],
  ['insert', 6],
  ['remove', 6],
  ['duplicate', 4],
  ['append', 3],
  ['lengthField', 20],
  ['hugeLength', 8],
  ['indefinite', 5],
  ['majorType', 6],
  ['deepNesting', 2],
  ['duplicateItem', 3],
  ['tag', 1],
];
const TOTAL = WEIGHTS.reduce((s, [, w]) => s + w, 0);
const OPS: Record<string, Operator> = { ...blind, ...structured };

/**
 * One mutant of `original`: 1 to `maxOps` operators chosen by weight (usually one). Never
 * returns bytes equal to the original. `fields` (from {@link findFields}) may be passed in to
 * avoid re-scanning the same original for every mutant.
 *
 * @example
 * ```ts
 * const fields = findFields(doc);
 * for (let i = 0; i < 1000; i++) {
 *   const m = mutate(doc, createRng(1, i), { fields });
 *   await verifyAttestation(m.bytes, opts).then(() => { throw new Error(m.ops.join('; ')); }, () => {});
 * }
 * ```
 */
export function mutate(
  original: Uint8Array,
  rng: Rng,
  options: { fields?: Field[]; maxOps?: number } = {},
): Mutant {
  const fields = options.fields ?? findFields(original);
  const rounds = 1 + (rng.chance(0.2) ? rng.int(options.maxOps ?? 3) : 0);
  let cur = original;
  const ops: string[] = [];
  for (let attempt = 0; attempt < 32 && (ops.length < rounds || sameBytes(cur, original)); attempt++) {
    let r = rng.int(TOTAL);
    let name = WEIGHTS[0]![0];
    for (const [n, w] of WEIGHTS) {
      if (r < w) {
        name = n;
        break;
      }
      r -= w;
    }
    if (cur.length === 0 && name !== 'insert' && name !== 'append') continue;
    // Field offsets refer to the original; after the first edit only blind operators apply.
    const op = OPS[name]!;
    const m =
      cur === original || !(name in structured) ? op(cur, rng, cur === original ? fields : []) : undefined;
    if (!m) continue;
    cur = m.bytes;
    ops.push(...m.ops);
  }
  if (sameBytes(cur, original)) {
    cur = original.slice(0, Math.max(0, original.length - 1));
    ops.push(`truncate to ${cur.length}`);
  }
  return { bytes: cur, ops };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Random, mostly well-formed CBOR of bounded size: what a careless or hostile peer might send
 * instead of an attestation document. Depth and item counts are capped by `budget`.
 *
 * @example
 * ```ts
 * const bytes = randomCbor(createRng(3), 200);
 * ```
 */
export function randomCbor(rng: Rng, budget = 256): Uint8Array {
  const parts: number[] = [];
  let left = budget;
  const head = (major: number, value: number) => {
    if (value < 24) parts.push((major << 5) | value);
    else if (value < 0x100) parts.push((major << 5) | 24, value);
    else if (value < 0x10000) parts.push((major << 5) | 25, value >> 8, value & 0xff);
    else
      parts.push(
        (major << 5) | 26,
        (value >>> 24) & 0xff,
        (value >> 16) & 0xff,
        (value >> 8) & 0xff,
        value & 0xff,
      );
  };
  const item = (depth: number): void => {
    left--;
    const kind = left <= 0 || depth > 6 ? rng.int(4) : rng.int(10);
    switch (kind) {
      case 0:
        head(0, rng.chance(0.5) ? rng.int(24) : rng.u32());
        return;
      case 1:
        head(1, rng.int(1000));
        return;
      case 2: {
        const n = rng.pick([0, 1, 32, 48, 64, 96, rng.int(300)]);
        head(2, n);
        for (let i = 0; i < n; i++) parts.push(rng.int(256));
        return;
      }
      case 3: {
        const s = rng.pick([
          'module_id',
          'digest',
          'SHA384',
          'timestamp',
          'pcrs',
          'nitrotpm_pcrs',
          'certificate',
          'cabundle',
          'nonce',
          'x',
        ]);
        head(3, s.length);
        for (const ch of s) parts.push(ch.charCodeAt(0));
        return;
      }
      case 4:
      case 5: {
        const n = rng.int(5);
        head(4, n);
        for (let i = 0; i < n; i++) item(depth + 1);
        return;
      }
      case 6:
      case 7: {
        const n = rng.int(5);
        head(5, n);
        for (let i = 0; i < 2 * n; i++) item(depth + 1);
        return;
      }
      case 8:
        head(6, rng.pick([18, 24, 0, 1, 55799]));
        item(depth + 1);
        return;
      default:
        parts.push(rng.pick([0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfb, 0xff, 0x1f, 0x5f, 0x9f, 0xbf]));
    }
  };
  item(0);
  return Uint8Array.from(parts);
}

/** A named fixed-width big-endian field of an EIF. */
interface EifField {
  name: string;
  offset: number;
  width: 2 | 4 | 8;
}

const EIF_HEADER = 548;
const EIF_CRC_AT = 544;

/**
 * The header fields and section-header fields of an EIF (SPEC 2.1), located by walking the
 * sections sequentially from offset 548. Stops at the first section that does not fit.
 *
 * @example
 * ```ts
 * eifFields(eif).find((f) => f.name === 'num_sections'); // { name, offset: 26, width: 2 }
 * ```
 */
export function eifFields(eif: Uint8Array): EifField[] {
  const out: EifField[] = [
    { name: 'magic', offset: 0, width: 4 },
    { name: 'version', offset: 4, width: 2 },
    { name: 'flags', offset: 6, width: 2 },
    { name: 'default_mem', offset: 8, width: 8 },
    { name: 'default_cpus', offset: 16, width: 8 },
    { name: 'reserved', offset: 24, width: 2 },
    { name: 'num_sections', offset: 26, width: 2 },
    { name: 'unused', offset: 540, width: 4 },
    { name: 'crc32', offset: 544, width: 4 },
  ];
  const view = new DataView(eif.buffer, eif.byteOffset, eif.byteLength);
  const count = eif.length >= 28 ? Math.min(32, view.getUint16(26)) : 0;
  // Used table entries, plus the first unused one (must stay zero).
  for (let i = 0; i < Math.min(32, count + 1); i++) {
    out.push({ name: `section_offsets[${i}]`, offset: 28 + 8 * i, width: 8 });
    out.push({ name: `section_sizes[${i}]`, offset: 284 + 8 * i, width: 8 });
  }
  let p = EIF_HEADER;
  for (let i = 0; i < 32 && p + 12 <= eif.length; i++) {
    out.push({ name: `section ${i} type`, offset: p, width: 2 });
    out.push({ name: `section ${i} flags`, offset: p + 2, width: 2 });
    out.push({ name: `section ${i} size`, offset: p + 4, width: 8 });
    const hi = view.getUint32(p + 4);
    const lo = view.getUint32(p + 8);
    const next = p + 12 + hi * 2 ** 32 + lo;
    if (next > eif.length) break;
    p = next;
  }
  return out;
}

function readField(b: Uint8Array, f: EifField): bigint {
  let v = 0n;
  for (let i = 0; i < f.width; i++) v = (v << 8n) | BigInt(b[f.offset + i] ?? 0);
  return v;
}

/** Write `crc32(file[0:544] ++ file[548:])` into the header, as a writer would. */
function repairEifCrc(b: Uint8Array, crc32: (bytes: Uint8Array, seed?: number) => number): void {
  if (b.length < EIF_HEADER) return;
  const crc = crc32(b.subarray(EIF_HEADER), crc32(b.subarray(0, EIF_CRC_AT)));
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(EIF_CRC_AT, crc);
}

/**
 * A mutant of an EIF's header, section table or section headers. Values are chosen to hit
 * the layout checks: zero, one, all-ones, off by one, the file size, 2^63, another entry's
 * value, swapped entries, truncation at section boundaries. With `crc32`, the header CRC is
 * recomputed afterwards so the mutant reaches the structural checks instead of failing the CRC.
 *
 * @example
 * ```ts
 * const m = mutateEifHeader(eif, createRng(1, i), { fields, crc32 });
 * await measureEifBytes(m.bytes); // must throw ERR_EIF_* unless only unmeasured fields changed
 * ```
 */
export function mutateEifHeader(
  eif: Uint8Array,
  rng: Rng,
  options: { fields?: EifField[]; crc32?: (bytes: Uint8Array, seed?: number) => number } = {},
): Mutant & { fields: string[] } {
  const fields = options.fields ?? eifFields(eif);
  const out = eif.slice();
  const ops: string[] = [];
  const touched: string[] = [];
  let bytes: Uint8Array = out;
  const rounds = rng.chance(0.25) ? 2 : 1;
  for (let r = 0; r < rounds; r++) {
    const choice = rng.int(10);
    if (choice <= 5) {
      const f = rng.pick(fields);
      const cur = readField(out, f);
      const max = (1n << BigInt(8 * f.width)) - 1n;
      const other = readField(out, rng.pick(fields.filter((g) => g.width === f.width)));
      const candidates = [
        0n,
        1n,
        max,
        cur + 1n,
        cur - 1n,
        cur + 12n,
        cur - 12n,
        BigInt(eif.length),
        BigInt(eif.length - 1),
        1n << BigInt(8 * f.width - 1),
        other,
        cur ^ (1n << BigInt(rng.int(8 * f.width))),
        BigInt(rng.u32()),
      ];
      const v = rng.pick(candidates) & max;
      out.set(beBytes(v, f.width), f.offset);
      ops.push(`${f.name}: ${cur} -> ${v}`);
      touched.push(f.name);
    } else if (choice <= 7) {
      // Swap two table entries (offsets with offsets, sizes with sizes).
      const table = rng.chance(0.5) ? 28 : 284;
      const count = Math.min(32, Number(readField(out, { name: 'n', offset: 26, width: 2 })) || 1);
      const i = rng.int(count);
      const j = rng.int(count);
      const a = out.slice(table + 8 * i, table + 8 * i + 8);
      out.copyWithin(table + 8 * i, table + 8 * j, table + 8 * j + 8);
      out.set(a, table + 8 * j);
      ops.push(`swap ${table === 28 ? 'section_offsets' : 'section_sizes'}[${i}] and [${j}]`);
      touched.push('section table');
    } else if (choice === 8) {
      // Flip one bit anywhere in the header or a section header.
      const f = rng.pick(fields);
      const at = f.offset + rng.int(f.width);
      const bit = rng.int(8);
      out[at]! ^= 1 << bit;
      ops.push(`flip bit ${bit} of ${f.name}`);
      touched.push(f.name);
    } else {
      const sectionStarts = fields.filter((f) => f.name.endsWith(' type')).map((f) => f.offset);
      const cut = rng.pick([
        ...sectionStarts,
        ...sectionStarts.map((s) => s + 6),
        EIF_HEADER - 1,
        eif.length - 1,
      ]);
      bytes = out.slice(0, cut);
      ops.push(`truncate to ${cut}`);
      touched.push('length');
      break;
    }
  }
  if (options.crc32 && !touched.includes('crc32')) repairEifCrc(bytes, options.crc32);
  if (sameBytes(bytes, eif)) {
    bytes = eif.slice(0, eif.length - 1);
    ops.push(`truncate to ${bytes.length}`);
    touched.push('length');
  }
  return { bytes, ops, fields: touched };
}
