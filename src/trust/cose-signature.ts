/**
 * The COSE_Sign1 signature check (RFC 9052 section 4.4) over the ORIGINAL protected-header and
 * payload bytes: re-encoding a decoded map could change the bytes and validate something unsigned.
 */
import type { CoseSign1 } from '../parse/cose.js';
import { type Es384Verifier, verifyEs384 } from './ecdsa.js';

const CONTEXT = new TextEncoder().encode('Signature1');

// CBOR head of a byte string of length n (major type 2).
function bstrHead(n: number): number[] {
  if (n < 24) return [0x40 | n];
  if (n < 0x100) return [0x58, n];
  if (n < 0x10000) return [0x59, n >> 8, n & 0xff];
  return [0x5a, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/**
 * CBOR encoding of `["Signature1", protected, h'', payload]`, the bytes an ES384 COSE_Sign1
 * signature covers.
 *
 * @example
 * ```ts
 * const toBeSigned = sigStructure(envelope.protectedBytes, envelope.payload);
 * ```
 */
export function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  const h1 = bstrHead(protectedBytes.length);
  const h2 = bstrHead(payload.length);
  const out = new Uint8Array(
    2 + CONTEXT.length + h1.length + protectedBytes.length + 1 + h2.length + payload.length,
  );
  let o = 0;
  out[o++] = 0x84; // array of 4
  out[o++] = 0x60 | CONTEXT.length; // text string "Signature1"
  out.set(CONTEXT, o);
  o += CONTEXT.length;
  out.set(h1, o);
  o += h1.length;
  out.set(protectedBytes, o);
  o += protectedBytes.length;
  out[o++] = 0x40; // empty external_aad
  out.set(h2, o);
  o += h2.length;
  out.set(payload, o);
  return out;
}

/**
 * True when `envelope.signature` is a valid ES384 signature by `key` over the Sig_structure,
 * checked by `verify` (WebCrypto unless a runtime-specific verifier is given).
 *
 * @example
 * ```ts
 * if (!(await verifyCoseSign1(envelope, leafKey))) throw ...;
 * ```
 */
export async function verifyCoseSign1(
  envelope: CoseSign1,
  key: CryptoKey,
  verify: Es384Verifier = verifyEs384,
): Promise<boolean> {
  return verify(key, envelope.signature, sigStructure(envelope.protectedBytes, envelope.payload));
}
