/**
 * Size and shape limits of attestation documents (SPEC 1.1, 1.2). Real documents are 4.3 to
 * 5.3 KB; AWS caps the payload at 16 KiB. Anything much larger is refused before decoding so that
 * hostile input cannot make the verifier allocate or recurse without bound.
 */

/** Largest document accepted, in bytes. */
export const MAX_DOCUMENT_BYTES = 64 * 1024;
/** Largest input accepted before the encoding (base64, hex, JSON) is removed. */
export const MAX_INPUT_BYTES = 1024 * 1024;
/** Deepest CBOR nesting accepted (a document needs 3: array, map, array of certificates). */
export const MAX_CBOR_DEPTH = 6;
/** Largest certificate, public key, user data or nonce, in bytes. */
export const MAX_FIELD_BYTES = 1024;
/** Largest PCR index plus one. */
export const PCR_SLOTS = 32;
