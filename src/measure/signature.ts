/**
 * The EIF signature section (v3+): a CBOR array of `{signing_certificate, signature}` where
 * the certificate is the PEM text and the signature a COSE_Sign1, both written by serde_cbor
 * as ARRAYS OF UINTS (not byte strings). The COSE payload is the CBOR `PcrInfo
 * {register_index, register_value}` of PCR0, its value again an array of uints.
 * describe-eif's `SignatureCheck` = the COSE signature verifies with the certificate's key
 * AND its payload equals the PcrInfo of the PCR0 measured from the image.
 */
import { EnclaveVerifyError } from '../errors.js';
import { CborMap, CborTag, type CborValue, decodeCbor, EIF_CBOR_LIMITS } from '../parse/cbor.js';
import { bytesEqual, concatBytes } from '../util/bytes.js';
import { CborEntries, CborTagged, type Encodable, encodeCbor } from '../util/cbor-encode.js';
import { pemCertificateToDer, type SigningCertificateFacts, signingCertificateFacts } from './certificate.js';
import { pcrOfBytes } from './pcr.js';

/** One entry of the signature section. */
export interface PcrSignature {
  /** PEM text of the signing certificate, as bytes. */
  signingCertificate: Uint8Array;
  /** COSE_Sign1 bytes over the CBOR PcrInfo. */
  signature: Uint8Array;
}

/** Largest signature section this reader accepts (a real one is about 2 KB). */
export const MAX_SIGNATURE_SECTION = 64 * 1024;

function signatureError(message: string, cause?: unknown): EnclaveVerifyError {
  return new EnclaveVerifyError(
    'ERR_EIF_SIGNATURE',
    `signature section: ${message}; re-sign the EIF (nitro-cli sign-eif or eif_build --private-key)`,
    cause === undefined ? {} : { cause },
  );
}

function bad(message: string, cause?: unknown): never {
  throw signatureError(message, cause);
}

// CBOR as serde_cbor writes it; any problem is ERR_EIF_SIGNATURE saying `what` is not valid CBOR.
function decodeStrict(bytes: Uint8Array, what: string): CborValue {
  return decodeCbor(bytes, {
    ...EIF_CBOR_LIMITS,
    malformed: (problem, offset) => {
      const cause = new Error(`${problem} at byte ${offset}`);
      return signatureError(`${what} (${cause.message})`, cause);
    },
  });
}

function uintArray(bytes: Uint8Array): Encodable[] {
  return Array.from(bytes);
}

function bytesOfUintArray(v: CborValue | undefined, what: string): Uint8Array {
  if (!Array.isArray(v)) bad(`${what} is not an array of byte values`);
  const out = new Uint8Array(v.length);
  v.forEach((x, i) => {
    if (typeof x !== 'number' || x < 0 || x > 255) bad(`${what}[${i}] is not a byte value (0..255)`);
    out[i] = x;
  });
  return out;
}

function struct(v: CborValue, keys: readonly string[], what: string): Map<string, CborValue> {
  if (!(v instanceof CborMap)) bad(`${what} is not a CBOR map`);
  const out = new Map<string, CborValue>();
  for (const [k, x] of v.entries) {
    if (typeof k !== 'string' || !keys.includes(k)) bad(`${what} has an unexpected key ${JSON.stringify(k)}`);
    out.set(k, x);
  }
  for (const k of keys) if (!out.has(k)) bad(`${what} has no "${k}"`);
  return out;
}

/**
 * Decode a signature section strictly. Throws `ERR_EIF_SIGNATURE` for anything but a
 * non-empty CBOR array of `{signing_certificate, signature}` maps of byte arrays.
 *
 * @example
 * ```ts
 * const [first] = decodeSignatureSection(sectionBytes);
 * ```
 */
export function decodeSignatureSection(bytes: Uint8Array): PcrSignature[] {
  if (bytes.length > MAX_SIGNATURE_SECTION)
    bad(`${bytes.length} bytes is larger than the ${MAX_SIGNATURE_SECTION} this reader accepts`);
  const item = decodeStrict(bytes, 'not valid CBOR');
  if (!Array.isArray(item) || item.length === 0) bad('expected a non-empty CBOR array of PCR signatures');
  return item.map((entry, i) => {
    const s = struct(entry, ['signing_certificate', 'signature'], `entry ${i}`);
    return {
      signingCertificate: bytesOfUintArray(s.get('signing_certificate'), `entry ${i} signing_certificate`),
      signature: bytesOfUintArray(s.get('signature'), `entry ${i} signature`),
    };
  });
}

/**
 * Encode a signature section as eif_build (serde_cbor) does.
 *
 * @example
 * ```ts
 * const section = encodeSignatureSection([{ signingCertificate: pem, signature: cose }]);
 * ```
 */
export function encodeSignatureSection(entries: readonly PcrSignature[]): Uint8Array {
  return encodeCbor(
    entries.map(
      (e) =>
        new CborEntries([
          ['signing_certificate', uintArray(e.signingCertificate)],
          ['signature', uintArray(e.signature)],
        ]),
    ),
  );
}

/**
 * CBOR of `PcrInfo {register_index, register_value}`: the payload the EIF signature signs.
 *
 * @example
 * ```ts
 * encodePcrInfo(0, pcr0); // a2 6e 'register_index' 00 6e 'register_value' 98 30 ...
 * ```
 */
export function encodePcrInfo(index: number, value: Uint8Array): Uint8Array {
  return encodeCbor(
    new CborEntries([
      ['register_index', index],
      ['register_value', uintArray(value)],
    ]),
  );
}

/** COSE algorithm ids this reader handles, with their WebCrypto parameters. */
const COSE_ALGS: Record<number, { hash: string; curve: string; size: number }> = {
  [-7]: { hash: 'SHA-256', curve: 'P-256', size: 32 },
  [-35]: { hash: 'SHA-384', curve: 'P-384', size: 48 },
  [-36]: { hash: 'SHA-512', curve: 'P-521', size: 66 },
};

/** COSE algorithm id for an EC curve. @example coseAlgForCurve('P-384') // -35 */
export function coseAlgForCurve(curve: string): number {
  for (const [alg, p] of Object.entries(COSE_ALGS)) if (p.curve === curve) return Number(alg);
  throw new EnclaveVerifyError(
    'ERR_USAGE',
    `signing keys on curve ${curve} are not supported; use an EC key on P-256, P-384 or P-521`,
  );
}

/** A decoded COSE_Sign1. */
export interface CoseSign1 {
  protectedBytes: Uint8Array;
  alg: number;
  payload: Uint8Array;
  signature: Uint8Array;
}

/**
 * Decode a COSE_Sign1 (tag 18 optional) whose protected header carries the algorithm.
 *
 * @example
 * ```ts
 * decodeCoseSign1(entry.signature).alg; // -35
 * ```
 */
export function decodeCoseSign1(bytes: Uint8Array): CoseSign1 {
  let item = decodeStrict(bytes, 'the COSE_Sign1 is not valid CBOR');
  if (item instanceof CborTag) {
    if (item.tag !== 18) bad(`the COSE object has tag ${item.tag}, expected 18 (COSE_Sign1)`);
    item = item.value;
  }
  if (!Array.isArray(item) || item.length !== 4) bad('the COSE_Sign1 is not an array of 4');
  const [prot, unprot, payload, signature] = item;
  if (
    !(prot instanceof Uint8Array) ||
    !(payload instanceof Uint8Array) ||
    !(signature instanceof Uint8Array)
  ) {
    bad('the COSE_Sign1 fields have the wrong types');
  }
  if (!(unprot instanceof CborMap)) bad('the COSE_Sign1 unprotected header is not a map');
  let alg: number | undefined;
  const header = decodeStrict(prot, 'the COSE protected header is not valid CBOR');
  if (header instanceof CborMap)
    for (const [k, v] of header.entries) if (k === 1 && typeof v === 'number') alg = v;
  if (alg === undefined || !COSE_ALGS[alg])
    bad(`unsupported COSE algorithm ${alg}; expected ES256, ES384 or ES512`);
  return { protectedBytes: prot, alg, payload, signature };
}

/**
 * The bytes a COSE_Sign1 signs: CBOR `["Signature1", protected, h'', payload]`.
 *
 * @example
 * ```ts
 * const tbs = coseSigStructure(protectedBytes, payload);
 * ```
 */
export function coseSigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), payload]);
}

/**
 * A tagged COSE_Sign1 over `payload` with the protected header `{1: alg}` and an empty
 * unprotected header, as eif_build writes it; `sign` returns the raw `r || s` signature.
 *
 * @example
 * ```ts
 * const cose = await buildCoseSign1(encodePcrInfo(0, pcr0), -35, async (tbs) => signP384(tbs));
 * ```
 */
export async function buildCoseSign1(
  payload: Uint8Array,
  alg: number,
  sign: (toBeSigned: Uint8Array) => Promise<Uint8Array> | Uint8Array,
): Promise<Uint8Array> {
  const protectedBytes = encodeCbor(new CborEntries([[1, alg]]));
  const signature = await sign(coseSigStructure(protectedBytes, payload));
  return encodeCbor(new CborTagged(18, [protectedBytes, new CborEntries([]), payload, signature]));
}

/** What a signature section says once checked against the measured PCR0. */
export interface EifSignatureCheck {
  /** PCR8 = extend(SHA384(DER of the signing certificate)). */
  pcr8: Uint8Array;
  /** DER of the signing certificate. */
  certificateDer: Uint8Array;
  certificate: SigningCertificateFacts;
  /** True when the COSE signature verifies AND signs exactly the measured PCR0. */
  signatureCheck: boolean;
  /** Why `signatureCheck` is false. */
  reason?: string;
}

/**
 * Check the first PCR signature of a signature section as describe-eif does: PCR8 from the
 * certificate, and whether its COSE_Sign1 verifies and signs the measured PCR0.
 *
 * @example
 * ```ts
 * const check = await checkEifSignature(sectionBytes, pcrs.pcr0);
 * check.signatureCheck; // true
 * ```
 */
export async function checkEifSignature(
  section: Uint8Array,
  measuredPcr0: Uint8Array,
): Promise<EifSignatureCheck> {
  const [first] = decodeSignatureSection(section);
  const certificateDer = pemCertificateToDer(first!.signingCertificate);
  const certificate = signingCertificateFacts(certificateDer);
  const pcr8 = pcrOfBytes(certificateDer);
  const cose = decodeCoseSign1(first!.signature);
  const params = COSE_ALGS[cose.alg]!;
  const result = (signatureCheck: boolean, reason?: string): EifSignatureCheck => ({
    pcr8,
    certificateDer,
    certificate,
    signatureCheck,
    ...(reason ? { reason } : {}),
  });
  if (certificate.curve !== params.curve) {
    return result(
      false,
      `the certificate key is ${certificate.curve ?? 'not an EC key'} but the signature uses ${params.curve}`,
    );
  }
  if (cose.signature.length !== params.size * 2)
    return result(false, 'the COSE signature has the wrong length');
  let valid: boolean;
  try {
    const key = await crypto.subtle.importKey(
      'spki',
      own(certificate.spki),
      { name: 'ECDSA', namedCurve: params.curve },
      false,
      ['verify'],
    );
    valid = await crypto.subtle.verify(
      { name: 'ECDSA', hash: params.hash },
      key,
      own(cose.signature),
      own(coseSigStructure(cose.protectedBytes, cose.payload)),
    );
  } catch (e) {
    return result(false, `the certificate key could not be used (${(e as Error).message})`);
  }
  if (!valid) return result(false, 'the COSE signature does not verify with the certificate key');
  if (!bytesEqual(cose.payload, encodePcrInfo(0, measuredPcr0))) {
    return result(false, 'the signature is valid but signs a different PCR0 than the one measured');
  }
  return result(true);
}

function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength
    ? (bytes as Uint8Array<ArrayBuffer>)
    : (concatBytes(bytes) as Uint8Array<ArrayBuffer>);
}
