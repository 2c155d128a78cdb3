/**
 * Archive paths as "byte strings": every character is one byte (0-255) of the name as stored
 * in the archive. File names are bytes, not text; keeping them as bytes makes the cpio sort
 * order (`sort -z`, byte order) a plain string comparison and never loses a name that is not
 * valid UTF-8. Convert with {@link pathFromText} / {@link pathToText} at the edges.
 */
import { EnclaveVerifyError } from '../errors.js';

const encoder = new TextEncoder();
const lossyDecoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Byte string of raw bytes (one character per byte).
 *
 * @example
 * ```ts
 * bytesToPath(new Uint8Array([0x61, 0xc3, 0xa9])); // 'a\xc3\xa9'
 * ```
 */
export function bytesToPath(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 8192)));
  }
  return out;
}

/**
 * Raw bytes of a byte string.
 *
 * @example
 * ```ts
 * pathToBytes('a\xc3\xa9'); // Uint8Array [0x61, 0xc3, 0xa9]
 * ```
 */
export function pathToBytes(path: string): Uint8Array {
  const out = new Uint8Array(path.length);
  for (let i = 0; i < path.length; i++) out[i] = path.charCodeAt(i) & 0xff;
  return out;
}

/**
 * Byte string of a Unicode text (its UTF-8 bytes).
 *
 * @example
 * ```ts
 * pathFromText('é'); // '\xc3\xa9'
 * ```
 */
export function pathFromText(text: string): string {
  return bytesToPath(encoder.encode(text));
}

/**
 * Display form of a byte string: UTF-8 decoded, invalid bytes replaced by U+FFFD.
 *
 * @example
 * ```ts
 * pathToText('\xc3\xa9'); // 'é'
 * ```
 */
export function pathToText(path: string): string {
  // Fast path: ASCII needs no decoding.
  let ascii = true;
  for (let i = 0; i < path.length && ascii; i++) ascii = path.charCodeAt(i) < 0x80;
  if (ascii) return path;
  return lossyDecoder.decode(pathToBytes(path));
}

/**
 * Normalise an archive member name to a tree path: no leading `./`, no trailing `/`, no empty
 * or `.` components; `''` is the root. Absolute names and `..` components are refused: an
 * archive must never write outside the tree it is unpacked into.
 *
 * @example
 * ```ts
 * normalizeMemberPath('./usr//bin/'); // 'usr/bin'
 * normalizeMemberPath('../etc/passwd'); // throws ERR_ARCHIVE_UNSAFE
 * ```
 */
export function normalizeMemberPath(name: string, what = 'archive member'): string {
  if (name.length === 0) {
    throw new EnclaveVerifyError(
      'ERR_ARCHIVE_MALFORMED',
      `${what} has an empty name; the archive is damaged`,
    );
  }
  if (name.includes('\0')) {
    throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', `${what} name contains a NUL byte`);
  }
  if (name.startsWith('/')) {
    throw new EnclaveVerifyError(
      'ERR_ARCHIVE_UNSAFE',
      `${what} '${pathToText(name)}' is an absolute path; re-create the archive with relative names`,
      { details: { path: pathToText(name) } },
    );
  }
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      throw new EnclaveVerifyError(
        'ERR_ARCHIVE_UNSAFE',
        `${what} '${pathToText(name)}' contains '..'; refusing a name that can escape the tree`,
        { details: { path: pathToText(name) } },
      );
    }
    parts.push(part);
  }
  return parts.join('/');
}

/**
 * Parent path and last component of a normalised tree path (`''` is the root).
 *
 * @example
 * ```ts
 * splitPath('usr/bin/sh'); // ['usr/bin', 'sh']
 * ```
 */
export function splitPath(path: string): [string, string] {
  const i = path.lastIndexOf('/');
  return i < 0 ? ['', path] : [path.slice(0, i), path.slice(i + 1)];
}
