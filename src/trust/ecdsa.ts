/**
 * Thin WebCrypto wrapper for ECDSA P-384 / SHA-384. Primitives answer with booleans or
 * `undefined`; the chain and envelope checks decide which coded error that means.
 */

const P384 = { name: 'ECDSA', namedCurve: 'P-384' } as const;
const ES384 = { name: 'ECDSA', hash: 'SHA-384' } as const;

// WebCrypto's types want ArrayBuffer-backed views; copy only when a view sits on something else.
function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

/**
 * Import a P-384 public key for verification; `undefined` when it is not a valid key. An
 * uncompressed point is imported `raw` (about 3x cheaper in Node than parsing the SPKI again, and
 * the point is still checked to lie on the curve); anything else goes through `spki`.
 *
 * @example
 * ```ts
 * const key = await importP384Key(cert.spki, cert.publicKeyPoint);
 * ```
 */
export async function importP384Key(spki: Uint8Array, point?: Uint8Array): Promise<CryptoKey | undefined> {
  try {
    if (point && point.length === 97 && point[0] === 0x04) {
      return await crypto.subtle.importKey('raw', own(point), P384, false, ['verify']);
    }
    return await crypto.subtle.importKey('spki', own(spki), P384, false, ['verify']);
  } catch {
    return undefined;
  }
}

/**
 * How a raw `r || s` ES384 signature is checked against an imported key: true only when it
 * verifies, false on any failure (never throws). {@link verifyEs384} (WebCrypto) is the default
 * everywhere; a runtime may supply a faster one for the same check (Node's synchronous OpenSSL
 * call in `trust/node/es384.ts`, used by batch audits), passed through `ChainCache`.
 *
 * @example
 * ```ts
 * const check: Es384Verifier = verifyEs384;
 * const ok = await check(key, signature, message);
 * ```
 */
export type Es384Verifier = (
  key: CryptoKey,
  signature: Uint8Array,
  data: Uint8Array,
) => Promise<boolean> | boolean;

/**
 * Verify a raw `r || s` ECDSA P-384 / SHA-384 signature with WebCrypto; false on any failure.
 *
 * @example
 * ```ts
 * const ok = await verifyEs384(key, signature, message);
 * ```
 */
export async function verifyEs384(key: CryptoKey, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  try {
    return await crypto.subtle.verify(ES384, key, own(signature), own(data));
  } catch {
    return false;
  }
}
