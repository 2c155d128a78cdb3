/**
 * One-shot digests through WebCrypto, available in Node 20 and every current browser.
 * Streaming hashes of large files live in Node-only modules (see `measure/node`).
 */

/** Copy into a fresh ArrayBuffer-backed view: WebCrypto rejects views on SharedArrayBuffer. */
function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

/**
 * SHA-256 of `bytes`.
 *
 * @example
 * ```ts
 * toHex(await sha256(new Uint8Array())); // 'e3b0c442...b855'
 * ```
 */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', own(bytes)));
}

/**
 * SHA-384 of `bytes`.
 *
 * @example
 * ```ts
 * toHex(await sha384(new Uint8Array())); // '38b060a7...98b95b'
 * ```
 */
export async function sha384(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-384', own(bytes)));
}
