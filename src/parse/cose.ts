/**
 * The COSE_Sign1 envelope (RFC 9052) around an attestation payload, checked to SPEC 1.1: tag 18
 * or untagged, ES384 in the protected header only, no critical headers, a raw 96-byte signature.
 */
import { EnclaveVerifyError } from '../errors.js';
import { CborMap, CborTag, decodeCbor } from './cbor.js';
import { MAX_CBOR_DEPTH } from './limits.js';

/** COSE algorithm identifier of ECDSA P-384 with SHA-384. */
export const COSE_ALG_ES384 = -35;
const COSE_TAG_SIGN1 = 18;
const HEADER_ALG = 1;
const HEADER_CRIT = 2;

/** The parts of a COSE_Sign1 envelope, as views into the original bytes. */
export interface CoseSign1 {
  /** Whether the envelope carried CBOR tag 18. */
  tagged: boolean;
  /** Content of the protected-header byte string, exactly as encoded. */
  protectedBytes: Uint8Array;
  /** The unprotected header map. */
  unprotected: CborMap;
  /** Content of the payload byte string, exactly as encoded. */
  payload: Uint8Array;
  /** Raw `r || s` signature (96 bytes). */
  signature: Uint8Array;
}

function coseError(message: string): EnclaveVerifyError {
  return new EnclaveVerifyError(
    'ERR_COSE_MALFORMED',
    `${message}; an attestation document is a COSE_Sign1 array [protected, unprotected, payload, signature]`,
  );
}

/**
 * Split a COSE_Sign1 envelope into its parts and check its headers. Does NOT verify the signature.
 *
 * @example
 * ```ts
 * const { payload, signature } = decodeCoseSign1(bytes);
 * ```
 */
export function decodeCoseSign1(bytes: Uint8Array): CoseSign1 {
  let top = decodeCbor(bytes, { maxDepth: MAX_CBOR_DEPTH });
  let tagged = false;
  if (top instanceof CborTag) {
    if (top.tag !== COSE_TAG_SIGN1) {
      throw coseError(`unexpected CBOR tag ${top.tag} (only tag 18, COSE_Sign1, is allowed)`);
    }
    tagged = true;
    top = top.value;
  }
  if (!Array.isArray(top) || top.length !== 4) throw coseError('not an array of 4 items');
  const [protectedBytes, unprotected, payload, signature] = top;
  if (!(protectedBytes instanceof Uint8Array)) throw coseError('protected header is not a byte string');
  if (!(unprotected instanceof CborMap)) throw coseError('unprotected header is not a map');
  if (!(payload instanceof Uint8Array))
    throw coseError('payload is not a byte string (detached payloads are not allowed)');
  if (!(signature instanceof Uint8Array)) throw coseError('signature is not a byte string');
  if (signature.length !== 96) {
    throw coseError(`signature is ${signature.length} bytes, expected 96 (raw r || s of ECDSA P-384)`);
  }
  checkHeaders(protectedBytes, unprotected);
  return { tagged, protectedBytes, unprotected, payload, signature };
}

function checkHeaders(protectedBytes: Uint8Array, unprotected: CborMap): void {
  if (unprotected.has(HEADER_ALG)) {
    throw new EnclaveVerifyError(
      'ERR_COSE_ALG',
      'the algorithm is given in the unprotected header, where it is not covered by the signature; only a protected ES384 header is accepted',
    );
  }
  if (unprotected.has(HEADER_CRIT)) throw coseError('critical headers are not supported');
  const header =
    protectedBytes.length === 0 ? new CborMap([], false) : decodeCbor(protectedBytes, { maxDepth: 2 });
  if (!(header instanceof CborMap)) throw coseError('protected header is not a map');
  if (header.has(HEADER_CRIT)) throw coseError('critical headers are not supported');
  const alg = header.get(HEADER_ALG);
  if (alg !== COSE_ALG_ES384) {
    throw new EnclaveVerifyError(
      'ERR_COSE_ALG',
      alg === undefined
        ? 'the protected header has no algorithm; Nitro documents are signed with ES384 (-35)'
        : `the protected header names algorithm ${String(alg)}; only ES384 (-35) is accepted for Nitro documents`,
      { details: { alg: alg === undefined ? null : String(alg) } },
    );
  }
}
