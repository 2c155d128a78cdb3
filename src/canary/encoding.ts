/**
 * The two byte encodings Canary uses, each with its own strictness: keys and signatures are
 * unpadded base64url with zero trailing bits (the Rust `base64` crate's URL_SAFE_NO_PAD engine);
 * evidence documents and nonces are canonical padded standard base64 (decoding then
 * re-encoding must give the input back). Both refuse whitespace.
 */
import { toBase64 } from '../util/bytes.js';

const URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const URL_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < URL_ALPHABET.length; i++) URL_INDEX[URL_ALPHABET.charCodeAt(i)] = i;

/**
 * Decode unpadded base64url strictly, or return undefined: only `A-Z a-z 0-9 - _`, no `=`, no
 * impossible length, and the unused low bits of the last character must be zero (so each byte
 * string has exactly one text form).
 *
 * @example
 * ```ts
 * decodeBase64UrlStrict('aGk'); // Uint8Array [0x68, 0x69]
 * decodeBase64UrlStrict('aGl'); // undefined (non-zero trailing bits)
 * ```
 */
export function decodeBase64UrlStrict(text: string): Uint8Array | undefined {
  if (text.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? URL_INDEX[c]! : -1;
    if (v < 0) return undefined;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}

/**
 * Unpadded base64url of `bytes`.
 *
 * @example
 * ```ts
 * encodeBase64Url(new Uint8Array([0xfb, 0xff])); // '-_8'
 * ```
 */
export function encodeBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * Decode canonical padded standard base64, or return undefined: the text must be exactly what
 * {@link toBase64} writes for the decoded bytes (no missing `=`, no `-`/`_`, no whitespace, zero
 * trailing bits).
 *
 * @example
 * ```ts
 * decodeBase64Canonical('aGk='); // Uint8Array [0x68, 0x69]
 * decodeBase64Canonical('aGk'); // undefined
 * ```
 */
export function decodeBase64Canonical(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || /[-_]/.test(text)) return undefined;
  const body = text.replace(/={1,2}$/, '');
  const std = body.replace(/\+/g, '-').replace(/\//g, '_');
  if (/[-_]/.test(body)) return undefined;
  const bytes = decodeBase64UrlStrict(std);
  if (!bytes || toBase64(bytes) !== text) return undefined;
  return bytes;
}
