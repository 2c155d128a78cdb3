/**
 * Byte helpers shared by every stage. Runtime-agnostic: `Uint8Array` only, no `Buffer`.
 */
import { EnclaveVerifyError } from '../errors.js';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * Lowercase hex of `bytes`.
 *
 * @example
 * ```ts
 * toHex(new Uint8Array([0xde, 0xad])); // 'dead'
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}

/**
 * Bytes of a hex string (either case, even length, no prefix or separators).
 * Throws `ERR_INPUT_FORMAT` otherwise, naming `what` so the user knows which value was wrong.
 *
 * @example
 * ```ts
 * fromHex('DEad'); // Uint8Array [0xde, 0xad]
 * ```
 */
export function fromHex(hex: string, what = 'hex value'): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new EnclaveVerifyError(
      'ERR_INPUT_FORMAT',
      `${what} is not valid hex (expected an even number of 0-9a-f characters)`,
    );
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i;
// Accept the URL-safe alphabet too: users paste what they have.
B64_INDEX['-'.charCodeAt(0)] = 62;
B64_INDEX['_'.charCodeAt(0)] = 63;

/**
 * Standard base64 (with padding) of `bytes`.
 *
 * @example
 * ```ts
 * toBase64(new TextEncoder().encode('hi')); // 'aGk='
 * ```
 */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += `${B64[n >> 18]!}${B64[(n >> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += `${B64[n >> 18]!}${B64[(n >> 12) & 63]!}${B64[(n >> 6) & 63]!}=`;
  }
  return out;
}

/**
 * Bytes of a base64 string: standard or URL-safe alphabet, padding optional, ASCII whitespace
 * ignored. Throws `ERR_INPUT_FORMAT` on any other character or an impossible length.
 *
 * @example
 * ```ts
 * fromBase64('aGk'); // Uint8Array [0x68, 0x69]
 * ```
 */
export function fromBase64(text: string, what = 'base64 value'): Uint8Array {
  const clean = text.replace(/[\s]+/g, '').replace(/=+$/, '');
  if (clean.length % 4 === 1) {
    throw new EnclaveVerifyError('ERR_INPUT_FORMAT', `${what} is not valid base64 (truncated)`);
  }
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    const c = clean.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c]! : -1;
    if (v < 0) {
      throw new EnclaveVerifyError(
        'ERR_INPUT_FORMAT',
        `${what} is not valid base64 (unexpected character at position ${i})`,
      );
    }
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/**
 * Constant-shape equality of two byte arrays (length first, then every byte).
 *
 * @example
 * ```ts
 * bytesEqual(new Uint8Array([1]), new Uint8Array([1])); // true
 * ```
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * Concatenation of byte arrays into a new array.
 *
 * @example
 * ```ts
 * concatBytes(new Uint8Array([1]), new Uint8Array([2, 3])); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return joinBytes(parts);
}

// Takes an array rather than spread arguments: a rebuilt archive can have more chunks than a
// function call accepts as arguments.
function joinBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  let n = total ?? 0;
  if (total === undefined) for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Collects byte chunks and joins them once at the end. `length` is the running total, so a
 * reader can refuse a chunk that would take it over a cap before keeping it.
 *
 * @example
 * ```ts
 * const chunks = new ByteChunks();
 * chunks.push(new Uint8Array([1]));
 * chunks.push(new Uint8Array([2, 3]));
 * chunks.length; // 3
 * chunks.join(); // Uint8Array [1, 2, 3]
 * ```
 */
export class ByteChunks {
  private readonly parts: Uint8Array[] = [];
  private total = 0;

  /** Bytes collected so far. @example chunks.length */
  get length(): number {
    return this.total;
  }

  /** Keep `chunk` (not copied). @example chunks.push(value) */
  push(chunk: Uint8Array): void {
    this.parts.push(chunk);
    this.total += chunk.length;
  }

  /** All collected bytes in one new array. @example const body = chunks.join(); */
  join(): Uint8Array {
    return joinBytes(this.parts, this.total);
  }
}

/** UTF-8 encoding of `text`. @example utf8('é') // Uint8Array [0xc3, 0xa9] */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/**
 * Strict UTF-8 decoding: returns `undefined` when `bytes` is not valid UTF-8.
 *
 * @example
 * ```ts
 * decodeUtf8(new Uint8Array([0x68, 0x69])); // 'hi'
 * ```
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
