/**
 * ES384 verification through Node's synchronous OpenSSL call (Node only).
 *
 * WebCrypto in Node checks each signature on the libuv thread pool: the call validates its
 * arguments in JavaScript, queues a job, and wakes the caller when it is done. For one document
 * that costs nothing visible; in a batch audit of thousands of documents it is about a quarter of
 * each signature's CPU time and two thread wake-ups per document, which is what kept a batch on
 * two threads well below twice the rate of one. `crypto.verify` runs the same OpenSSL check on the
 * calling thread. The key is the one WebCrypto imported (the same point validation), viewed as a
 * KeyObject; the signature stays raw `r || s` (IEEE P1363), exactly 96 bytes as for WebCrypto.
 */
import { KeyObject, verify } from 'node:crypto';
import type { Es384Verifier } from '../ecdsa.js';

// One KeyObject per imported key: the conversion is cheap but not free, and a batch verifies
// thousands of documents against the same few leaf keys.
const keyObjects = new WeakMap<CryptoKey, KeyObject>();

// P-384 signatures in P1363 form are r || s, 48 bytes each.
const SIGNATURE_BYTES = 96;

/**
 * Verify a raw `r || s` ECDSA P-384 / SHA-384 signature synchronously; false on any failure,
 * never throws. Same answers as the WebCrypto `verifyEs384` (the differential test in
 * test/trust/es384-node.test.ts checks both on every real and mutated signature); pass it to
 * `new ChainCache({ verifyEs384: nodeEs384Verifier })` to use it.
 *
 * @example
 * ```ts
 * import { ChainCache, verifyAttestation } from 'enclave-verify';
 * import { nodeEs384Verifier } from 'enclave-verify/node';
 * const cache = new ChainCache({ verifyEs384: nodeEs384Verifier });
 * for (const doc of docs) await verifyAttestation(doc, { cache, expectedPcrs });
 * ```
 */
export const nodeEs384Verifier: Es384Verifier = (key, signature, data) => {
  // What WebCrypto would refuse (another curve, a key not meant for verifying) is refused here too.
  const algorithm = key.algorithm as EcKeyAlgorithm;
  if (
    signature.length !== SIGNATURE_BYTES ||
    key.type !== 'public' ||
    algorithm.name !== 'ECDSA' ||
    algorithm.namedCurve !== 'P-384' ||
    !key.usages.includes('verify')
  ) {
    return false;
  }
  try {
    let object = keyObjects.get(key);
    if (!object) {
      object = KeyObject.from(key);
      keyObjects.set(key, object);
    }
    return verify('sha384', data, { key: object, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
};
