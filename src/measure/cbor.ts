/**
 * The small CBOR subset the EIF signature section uses (RFC 8949): unsigned and negative
 * integers, byte and text strings, arrays, maps, tags, true/false/null. Written here rather
 * than through cbor-x because the section must be decoded strictly (definite lengths, no
 * duplicate keys, nothing trailing) and re-encoded byte for byte as serde_cbor writes it.
 */

/** A decoded CBOR data item. Maps keep their entry order. */
export type CborItem = number | Uint8Array | string | boolean | null | CborItem[] | CborMap | CborTagged;

/** A CBOR map as its ordered list of entries. */
export interface CborMap {
  readonly map: ReadonlyArray<readonly [CborItem, CborItem]>;
}

/** A tagged CBOR item. */
export interface CborTagged {
  readonly tag: number;
  readonly value: CborItem;
}

/**
 * Thrown by {@link decodeCbor}: the caller maps it to its own error code.
 *
 * @example
 * ```ts
 * try { decodeCbor(bytes); } catch (e) { if (e instanceof CborError) reject(e.message); }
 * ```
 */
export class CborError extends Error {}

const MAX_DEPTH = 16;

/**
 * Decode exactly one CBOR item filling all of `bytes`.
 *
 * @example
 * ```ts
 * decodeCbor(fromHex('820102')); // [1, 2]
 * ```
 */
export function decodeCbor(bytes: Uint8Array): CborItem {
  let pos = 0;
  const need = (n: number) => {
    if (n > bytes.length - pos) throw new CborError(`CBOR ends early at byte ${pos}`);
  };
  const argument = (info: number): number => {
    if (info < 24) return info;
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
    if (size === 0) throw new CborError(`unsupported CBOR length encoding ${info} at byte ${pos - 1}`);
    need(size);
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + bytes[pos++]!;
    if (!Number.isSafeInteger(v)) throw new CborError('CBOR integer too large');
    return v;
  };
  const item = (depth: number): CborItem => {
    if (depth > MAX_DEPTH) throw new CborError('CBOR nested too deeply');
    need(1);
    const first = bytes[pos++]!;
    const major = first >> 5;
    const info = first & 31;
    switch (major) {
      case 0:
        return argument(info);
      case 1:
        return -1 - argument(info);
      case 2: {
        const n = argument(info);
        need(n);
        const out = bytes.slice(pos, pos + n);
        pos += n;
        return out;
      }
      case 3: {
        const n = argument(info);
        need(n);
        const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(pos, pos + n));
        pos += n;
        return text;
      }
      case 4: {
        const n = argument(info);
        need(n); // every item takes at least one byte: bounds hostile lengths
        const out: CborItem[] = [];
        for (let i = 0; i < n; i++) out.push(item(depth + 1));
        return out;
      }
      case 5: {
        const n = argument(info);
        need(n * 2);
        const entries: Array<readonly [CborItem, CborItem]> = [];
        const seen = new Set<string>();
        for (let i = 0; i < n; i++) {
          const k = item(depth + 1);
          const id = typeof k === 'string' ? `s:${k}` : typeof k === 'number' ? `n:${k}` : undefined;
          if (id !== undefined) {
            if (seen.has(id)) throw new CborError(`duplicate CBOR map key ${JSON.stringify(k)}`);
            seen.add(id);
          }
          entries.push([k, item(depth + 1)]);
        }
        return { map: entries };
      }
      case 6: {
        const tag = argument(info);
        return { tag, value: item(depth + 1) };
      }
      default:
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        throw new CborError(`unsupported CBOR simple value or float at byte ${pos - 1}`);
    }
  };
  const out = item(0);
  if (pos !== bytes.length) throw new CborError(`${bytes.length - pos} trailing bytes after the CBOR item`);
  return out;
}

function head(major: number, n: number): number[] {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
  if (n < 0x100000000) return [m | 26, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  throw new CborError('length too large');
}

/**
 * Encode a CBOR item with the shortest heads (as serde_cbor does). Integers must be safe
 * integers; maps are written in their given order.
 *
 * @example
 * ```ts
 * toHex(encodeCbor([1, 'a'])); // '82016161'
 * ```
 */
export function encodeCbor(value: CborItem): Uint8Array {
  const out: number[] = [];
  const chunks: Uint8Array[] = [];
  const flush = () => {
    if (out.length) {
      chunks.push(Uint8Array.from(out));
      out.length = 0;
    }
  };
  const put = (v: CborItem) => {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new CborError('only integers can be encoded');
      out.push(...(v >= 0 ? uintHead(0, v) : uintHead(1, -1 - v)));
    } else if (v instanceof Uint8Array) {
      out.push(...uintHead(2, v.length));
      flush();
      chunks.push(v);
    } else if (typeof v === 'string') {
      const b = new TextEncoder().encode(v);
      out.push(...uintHead(3, b.length));
      flush();
      chunks.push(b);
    } else if (v === false) out.push(0xf4);
    else if (v === true) out.push(0xf5);
    else if (v === null) out.push(0xf6);
    else if (Array.isArray(v)) {
      out.push(...uintHead(4, v.length));
      for (const x of v) put(x);
    } else if ('map' in v) {
      out.push(...uintHead(5, v.map.length));
      for (const [k, x] of v.map) {
        put(k);
        put(x);
      }
    } else {
      out.push(...uintHead(6, v.tag));
      put(v.value);
    }
  };
  put(value);
  flush();
  let n = 0;
  for (const c of chunks) n += c.length;
  const res = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    res.set(c, o);
    o += c.length;
  }
  return res;
}

function uintHead(major: number, n: number): number[] {
  if (n < 0x100000000) return head(major, n);
  const hi = Math.floor(n / 2 ** 32);
  const lo = n >>> 0;
  return [
    (major << 5) | 27,
    hi >>> 24,
    (hi >>> 16) & 0xff,
    (hi >>> 8) & 0xff,
    hi & 0xff,
    lo >>> 24,
    (lo >>> 16) & 0xff,
    (lo >>> 8) & 0xff,
    lo & 0xff,
  ];
}

/** The entries of a CBOR map item, or undefined when `v` is not a map. @example mapEntries(decodeCbor(fromHex('a0'))) // [] */
export function mapEntries(v: CborItem): ReadonlyArray<readonly [CborItem, CborItem]> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && 'map' in v
    ? v.map
    : undefined;
}
