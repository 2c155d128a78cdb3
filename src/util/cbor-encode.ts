/**
 * A small CBOR encoder that writes exactly what it is given, with the shortest heads (as serde_cbor
 * does), no canonical reordering. Used for the EIF signature section and its COSE_Sign1 (which must
 * re-encode byte for byte) and for forging test documents, where it must also write what a strict
 * decoder refuses (duplicate keys, indefinite lengths, raw pre-encoded bytes), which general
 * encoders such as cbor-x refuse or normalise away.
 */
import { concatBytes } from './bytes.js';

/**
 * A map written from an explicit entry list: order kept, duplicates allowed, optionally indefinite.
 *
 * @example
 * ```ts
 * encodeCbor(new CborEntries([['a', 1]], true)); // bf 61 61 01 ff
 * ```
 */
export class CborEntries {
  /**
   * @example
   * ```ts
   * new CborEntries([['nonce', null], ['nonce', null]]); // a duplicate key on purpose
   * ```
   */
  constructor(
    readonly entries: Array<[Encodable, Encodable]>,
    readonly indefinite = false,
  ) {}
}

/**
 * Bytes inserted as they are (already CBOR, or deliberately broken).
 *
 * @example
 * ```ts
 * encodeCbor([new CborRaw(new Uint8Array([0xff]))]); // 81 ff
 * ```
 */
export class CborRaw {
  /** @example new CborRaw(new Uint8Array([0xff])) */
  constructor(readonly bytes: Uint8Array) {}
}

/**
 * A tagged item.
 *
 * @example
 * ```ts
 * encodeCbor(new CborTagged(18, [])); // d2 80
 * ```
 */
export class CborTagged {
  /** @example new CborTagged(18, [protectedBytes, new Map(), payload, signature]) */
  constructor(
    readonly tag: number,
    readonly value: Encodable,
  ) {}
}

/**
 * An array written with indefinite length.
 *
 * @example
 * ```ts
 * encodeCbor(new CborIndefiniteArray([1])); // 9f 01 ff
 * ```
 */
export class CborIndefiniteArray {
  /** @example new CborIndefiniteArray([1, 2]) */
  constructor(readonly items: Encodable[]) {}
}

/** Values the encoder writes. A JS `Map` becomes a definite-length map. */
export type Encodable =
  | number
  | bigint
  | string
  | Uint8Array
  | null
  | boolean
  | Encodable[]
  | Map<Encodable, Encodable>
  | CborEntries
  | CborRaw
  | CborTagged
  | CborIndefiniteArray;

function head(major: number, n: number | bigint): Uint8Array {
  const m = major << 5;
  const v = BigInt(n);
  if (v < 24n) return Uint8Array.of(m | Number(v));
  if (v < 0x100n) return Uint8Array.of(m | 24, Number(v));
  if (v < 0x10000n) return Uint8Array.of(m | 25, Number(v >> 8n), Number(v & 0xffn));
  if (v < 0x100000000n) {
    return Uint8Array.of(m | 26, ...[24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 0xffn)));
  }
  return Uint8Array.of(
    m | 27,
    ...[56n, 48n, 40n, 32n, 24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 0xffn)),
  );
}

function parts(value: Encodable, out: Uint8Array[]): void {
  if (value === null) out.push(Uint8Array.of(0xf6));
  else if (value === true) out.push(Uint8Array.of(0xf5));
  else if (value === false) out.push(Uint8Array.of(0xf4));
  else if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isInteger(value))
      throw new TypeError('floats are not supported');
    out.push(value < 0 ? head(1, -1n - BigInt(value)) : head(0, value));
  } else if (typeof value === 'string') {
    const b = new TextEncoder().encode(value);
    out.push(head(3, b.length), b);
  } else if (value instanceof Uint8Array) out.push(head(2, value.length), value);
  else if (value instanceof CborRaw) out.push(value.bytes);
  else if (value instanceof CborTagged) {
    out.push(head(6, value.tag));
    parts(value.value, out);
  } else if (value instanceof CborIndefiniteArray) {
    out.push(Uint8Array.of(0x9f));
    for (const item of value.items) parts(item, out);
    out.push(Uint8Array.of(0xff));
  } else if (Array.isArray(value)) {
    out.push(head(4, value.length));
    for (const item of value) parts(item, out);
  } else {
    const entries = value instanceof CborEntries ? value.entries : [...value.entries()];
    const indefinite = value instanceof CborEntries && value.indefinite;
    out.push(indefinite ? Uint8Array.of(0xbf) : head(5, entries.length));
    for (const [k, v] of entries) {
      parts(k, out);
      parts(v, out);
    }
    if (indefinite) out.push(Uint8Array.of(0xff));
  }
}

/**
 * CBOR encoding of `value`, exactly as described (no canonicalisation).
 *
 * @example
 * ```ts
 * encodeCbor(new Map([[1, -35]])); // a1 01 38 22
 * ```
 */
export function encodeCbor(value: Encodable): Uint8Array {
  const out: Uint8Array[] = [];
  parts(value, out);
  return concatBytes(...out);
}
