/**
 * A strict decoder for the subset of CBOR (RFC 8949) that attestation documents use.
 *
 * Why our own decoder instead of cbor-x: the verifier needs guarantees a general decoder does not
 * give. Duplicate map keys must be an error (cbor-x keeps the last one), trailing bytes must be an
 * error, nesting must be bounded before recursing further, and byte strings must stay views of the
 * ORIGINAL input so the COSE signature is checked over exactly the bytes that were signed. The
 * subset is small (integers, byte/text strings, arrays, maps, one tag, null/true/false), so the
 * decoder stays short and is also faster than building general JS objects.
 *
 * Decisions for what is outside the subset: floats, undefined, other simple values, indefinite-length
 * byte/text strings and non-scalar map keys are refused as malformed; they never occur in Nitro
 * documents. Indefinite-length maps and arrays ARE accepted (real documents use them) unless the
 * caller's limits say otherwise: the EIF signature section (serde_cbor output) is read with
 * {@link EIF_CBOR_LIMITS}, which refuses indefinite lengths and integers beyond 2^53 - 1.
 */
import { EnclaveVerifyError } from '../errors.js';

/**
 * A decoded CBOR map: entries in wire order, with a lookup helper. Keys are unique (checked).
 *
 * @example
 * ```ts
 * (decodeCbor(payload) as CborMap).get('module_id');
 * ```
 */
export class CborMap {
  /** Entries in the order they were encoded. */
  readonly entries: ReadonlyArray<readonly [CborKey, CborValue]>;
  /** True when the map was encoded with indefinite length (`0xbf ... 0xff`). */
  readonly indefinite: boolean;
  private readonly index: Map<string | number | bigint, CborValue>;

  /**
   * Wrap decoded entries; callers outside this module normally get maps from {@link decodeCbor}.
   *
   * @example
   * ```ts
   * const m = new CborMap([[1, -35]], false);
   * m.get(1); // -35
   * ```
   */
  constructor(entries: Array<readonly [CborKey, CborValue]>, indefinite: boolean) {
    this.entries = entries;
    this.indefinite = indefinite;
    this.index = new Map();
    for (const [k, v] of entries) this.index.set(keyId(k), v);
  }

  /** Value for `key`, or `undefined` when absent. @example map.get('nonce') */
  get(key: CborKey): CborValue | undefined {
    return this.index.get(keyId(key));
  }

  /** True when `key` is present. @example map.has(1) */
  has(key: CborKey): boolean {
    return this.index.has(keyId(key));
  }

  /** Number of entries. @example map.size */
  get size(): number {
    return this.entries.length;
  }
}

/**
 * A CBOR tag and its content.
 *
 * @example
 * ```ts
 * const top = decodeCbor(bytes);
 * if (top instanceof CborTag && top.tag === 18) console.log('tagged COSE_Sign1');
 * ```
 */
export class CborTag {
  /**
   * @example
   * ```ts
   * new CborTag(18, [protectedBytes, new CborMap([], false), payload, signature]);
   * ```
   */
  constructor(
    readonly tag: number | bigint,
    readonly value: CborValue,
  ) {}
}

/** Keys we accept in maps: integers and text (what COSE headers and Nitro payloads use). */
export type CborKey = number | bigint | string;

/** Values of the supported subset. Byte strings are views into the decoded input. */
export type CborValue =
  | number
  | bigint
  | string
  | Uint8Array
  | CborValue[]
  | CborMap
  | CborTag
  | boolean
  | null;

/** Limits applied while decoding. */
export interface CborLimits {
  /** Deepest allowed nesting of arrays, maps and tags (the top level is depth 1). */
  maxDepth: number;
  /** Accept indefinite-length arrays and maps (default true; serde_cbor never writes them). */
  indefinite?: boolean;
  /** Refuse integers, lengths and tags above 2^53 - 1 instead of returning them as bigint. */
  safeIntegers?: boolean;
  /**
   * The error thrown for malformed input, given what is wrong and where. Default: `ERR_CBOR_MALFORMED`
   * with advice for attestation documents; other formats supply their own code and advice.
   */
  malformed?: (problem: string, offset: number) => Error;
}

/**
 * Limits for CBOR as serde_cbor writes it (the EIF signature section and its COSE_Sign1): definite
 * lengths only, safe integers only, nesting bounded. Errors are still `ERR_CBOR_MALFORMED` unless
 * the caller adds its own `malformed`.
 *
 * @example
 * ```ts
 * decodeCbor(sectionBytes, { ...EIF_CBOR_LIMITS, malformed: (problem) => new Error(problem) });
 * ```
 */
export const EIF_CBOR_LIMITS: Readonly<CborLimits> = { maxDepth: 16, indefinite: false, safeIntegers: true };

// Distinct namespaces so that the text key "1" and the integer key 1 never collide.
function keyId(k: CborKey): string | number | bigint {
  return typeof k === 'string' ? `s:${k}` : k;
}

// ignoreBOM: a leading U+FEFF is part of the text. Stripping it would make the key "\uFEFFnonce"
// act as "nonce" here while every other decoder (cbor-x) sees a different key.
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const BREAK = Symbol('break');

function attestationMalformed(message: string, offset: number): EnclaveVerifyError {
  return new EnclaveVerifyError(
    'ERR_CBOR_MALFORMED',
    `${message} at byte ${offset}; the input is not a well-formed attestation document (check that the whole document was copied)`,
    { details: { offset } },
  );
}

class Decoder {
  pos = 0;
  private readonly maxDepth: number;
  private readonly indefinite: boolean;
  private readonly safeIntegers: boolean;
  private readonly malformed: (problem: string, offset: number) => Error;
  constructor(
    private readonly buf: Uint8Array,
    limits: CborLimits,
  ) {
    this.maxDepth = limits.maxDepth;
    this.indefinite = limits.indefinite ?? true;
    this.safeIntegers = limits.safeIntegers ?? false;
    this.malformed = limits.malformed ?? attestationMalformed;
  }

  private need(n: number, at: number): void {
    if (n > this.buf.length - this.pos) throw this.malformed('unexpected end of data', at);
  }

  // Reads the argument of a head; returns -1 for indefinite length (additional info 31).
  private argument(info: number, at: number): number | bigint {
    if (info < 24) return info;
    const b = this.buf;
    switch (info) {
      case 24:
        this.need(1, at);
        return b[this.pos++]!;
      case 25: {
        this.need(2, at);
        const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
        this.pos += 2;
        return v;
      }
      case 26: {
        this.need(4, at);
        const v =
          ((b[this.pos]! << 24) >>> 0) +
          ((b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8, at);
        const hi =
          ((b[this.pos]! << 24) >>> 0) +
          ((b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!);
        const lo =
          ((b[this.pos + 4]! << 24) >>> 0) +
          ((b[this.pos + 5]! << 16) | (b[this.pos + 6]! << 8) | b[this.pos + 7]!);
        this.pos += 8;
        // Timestamps fit easily below 2^53; keep exact values above that as bigint.
        if (hi < 0x200000) return hi * 0x100000000 + lo;
        if (this.safeIntegers) throw this.malformed('integer too large (above 2^53 - 1)', at);
        return (BigInt(hi) << 32n) | BigInt(lo);
      }
      case 31:
        if (!this.indefinite) throw this.malformed('indefinite lengths are unsupported in this format', at);
        return -1;
      default:
        throw this.malformed(`reserved additional information ${info}`, at);
    }
  }

  // A length for strings/containers: must be definite here and fit in the remaining input.
  private length(arg: number | bigint, minItemSize: number, at: number): number {
    if (typeof arg === 'bigint' || arg * minItemSize > this.buf.length - this.pos) {
      throw this.malformed('length exceeds the remaining input', at);
    }
    return arg;
  }

  item(depth: number): CborValue | typeof BREAK {
    const at = this.pos;
    if (at >= this.buf.length) throw this.malformed('unexpected end of data', at);
    const initial = this.buf[this.pos++]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major === 7) return this.simple(info, at);
    const arg = this.argument(info, at);
    switch (major) {
      case 0:
        if (arg === -1) throw this.malformed('indefinite length on an integer', at);
        return arg;
      case 1:
        if (arg === -1) throw this.malformed('indefinite length on an integer', at);
        return typeof arg === 'bigint' ? -1n - arg : -1 - arg;
      case 2:
      case 3: {
        if (arg === -1) throw this.malformed('indefinite-length strings are not supported', at);
        const n = this.length(arg, 1, at);
        const view = this.buf.subarray(this.pos, this.pos + n);
        this.pos += n;
        if (major === 2) return view;
        try {
          return textDecoder.decode(view);
        } catch {
          throw this.malformed('text string is not valid UTF-8', at);
        }
      }
      case 4:
      case 5:
      case 6:
        if (depth >= this.maxDepth) throw this.malformed(`nesting deeper than ${this.maxDepth} levels`, at);
        if (major === 4) return this.array(arg, depth + 1, at);
        if (major === 5) return this.map(arg, depth + 1, at);
        if (arg === -1) throw this.malformed('indefinite length on a tag', at);
        return new CborTag(arg, this.value(depth + 1));
      default:
        throw this.malformed(`unsupported major type ${major}`, at);
    }
  }

  private simple(info: number, at: number): CborValue | typeof BREAK {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 31:
        return BREAK;
      default:
        throw this.malformed(`unsupported simple value or float (additional information ${info})`, at);
    }
  }

  value(depth: number): CborValue {
    const at = this.pos;
    const v = this.item(depth);
    if (v === BREAK) throw this.malformed('unexpected break', at);
    return v;
  }

  private array(arg: number | bigint, depth: number, at: number): CborValue[] {
    const out: CborValue[] = [];
    if (arg === -1) {
      for (;;) {
        const v = this.item(depth);
        if (v === BREAK) return out;
        out.push(v);
      }
    }
    const n = this.length(arg, 1, at);
    for (let i = 0; i < n; i++) out.push(this.value(depth));
    return out;
  }

  private map(arg: number | bigint, depth: number, at: number): CborMap {
    const entries: Array<readonly [CborKey, CborValue]> = [];
    const seen = new Set<string | number | bigint>();
    const indefinite = arg === -1;
    const n = indefinite ? Number.POSITIVE_INFINITY : this.length(arg, 2, at);
    for (let i = 0; i < n; i++) {
      const keyAt = this.pos;
      const k = this.item(depth);
      if (k === BREAK) {
        if (indefinite) break;
        throw this.malformed('unexpected break', keyAt);
      }
      if (typeof k !== 'number' && typeof k !== 'bigint' && typeof k !== 'string') {
        throw this.malformed('map key is not an integer or text', keyAt);
      }
      const id = keyId(k);
      if (seen.has(id)) throw this.malformed(`duplicate map key ${JSON.stringify(String(k))}`, keyAt);
      seen.add(id);
      entries.push([k, this.value(depth)]);
    }
    return new CborMap(entries, indefinite);
  }
}

/**
 * Decode exactly one CBOR item that spans all of `bytes` (trailing bytes are an error).
 * Byte strings in the result are views into `bytes`, not copies.
 *
 * @example
 * ```ts
 * decodeCbor(new Uint8Array([0xa1, 0x01, 0x38, 0x22])); // CborMap {1 => -35}
 * ```
 */
export function decodeCbor(bytes: Uint8Array, limits: CborLimits = { maxDepth: 8 }): CborValue {
  const d = new Decoder(bytes, limits);
  const v = d.value(0);
  if (d.pos !== bytes.length) {
    throw (limits.malformed ?? attestationMalformed)(
      `${bytes.length - d.pos} trailing bytes after the item`,
      d.pos,
    );
  }
  return v;
}
