/**
 * Entry points of the parse stage: bounded, strict decoding of a whole attestation document.
 * Nothing here verifies anything; `verifyAttestation` (src/verify.ts) does.
 */
import { EnclaveVerifyError } from '../errors.js';
import { type CoseSign1, decodeCoseSign1 } from './cose.js';
import { MAX_DOCUMENT_BYTES } from './limits.js';
import { type AttestationDocument, decodePayload } from './payload.js';

export type { AttestationDocument } from './payload.js';

/** A decoded document together with the envelope parts the signature check needs. */
export interface ParsedAttestation {
  document: AttestationDocument;
  envelope: CoseSign1;
}

/**
 * Strictly decode a document and keep its envelope (for the verifier). UNVERIFIED.
 *
 * @example
 * ```ts
 * const { document, envelope } = parseAttestation(bytes);
 * ```
 */
export function parseAttestation(bytes: Uint8Array): ParsedAttestation {
  if (!(bytes instanceof Uint8Array)) {
    throw new EnclaveVerifyError(
      'ERR_INPUT_FORMAT',
      'the attestation document must be given as a Uint8Array',
    );
  }
  if (bytes.length > MAX_DOCUMENT_BYTES) {
    throw new EnclaveVerifyError(
      'ERR_INPUT_TOO_LARGE',
      `the document is ${bytes.length} bytes; attestation documents are at most ${MAX_DOCUMENT_BYTES} bytes (real ones are about 5 KB), so check the input`,
      { details: { size: bytes.length, limit: MAX_DOCUMENT_BYTES } },
    );
  }
  if (bytes.length === 0)
    throw new EnclaveVerifyError('ERR_INPUT_FORMAT', 'the attestation document is empty');
  const envelope = decodeCoseSign1(bytes);
  return { document: decodePayload(envelope.payload), envelope };
}

/**
 * Decode an attestation document WITHOUT verifying it: the fields may be forged. Use
 * `verifyAttestation` to decide whether a document is genuine; use this to display or debug one.
 * The same strict parsing rules apply (size, nesting, duplicate keys, types, sizes).
 *
 * @example
 * ```ts
 * const unverified = decodeAttestation(bytes);
 * console.log(unverified.moduleId, unverified.timestamp.toISOString());
 * ```
 */
export function decodeAttestation(bytes: Uint8Array): AttestationDocument {
  return parseAttestation(bytes).document;
}
