/**
 * Canary's digest form (CANARY.md 1): `sha256:` and 64 lowercase hex digits. Digests are
 * compared as strings, so an uppercase digest is malformed, not equal.
 */
import { toHex } from '../util/bytes.js';
import { sha256 } from '../util/digest.js';
import { canonicalJsonBytes } from './jcs.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * `sha256:<hex>` of `bytes`.
 *
 * @example
 * ```ts
 * await sha256Digest(new Uint8Array()); // 'sha256:e3b0c442...b855'
 * ```
 */
export async function sha256Digest(bytes: Uint8Array): Promise<string> {
  return `sha256:${toHex(await sha256(bytes))}`;
}

/**
 * `sha256:<hex>` of the canonical JSON of `value` (how `config_digest` and `manifest_digest`
 * are made).
 *
 * @example
 * ```ts
 * await canonicalDigest({}); // 'sha256:44136fa3...'
 * ```
 */
export async function canonicalDigest(value: unknown): Promise<string> {
  return sha256Digest(canonicalJsonBytes(value));
}

/**
 * True when `value` is a well-formed digest: `sha256:` then exactly 64 lowercase hex digits.
 *
 * @example
 * ```ts
 * isDigest('sha256:' + 'a'.repeat(64)); // true
 * isDigest('sha256:' + 'A'.repeat(64)); // false
 * ```
 */
export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST.test(value);
}
