/**
 * enclave-verify: the runtime-agnostic library (WebCrypto + Uint8Array; no `node:` imports).
 * Node-only helpers (files, network, streaming hashes) are in `enclave-verify/node`.
 *
 * Each stage adds its public exports below, one block per folder.
 */
export * from './errors.js';
export { toHex, fromHex, toBase64, fromBase64, bytesEqual, concatBytes } from './util/bytes.js';
export { sha256, sha384 } from './util/digest.js';
