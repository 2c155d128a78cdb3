/**
 * The attestation payload map (SPEC 1.2, 1.5): field types, sizes and PCR indexes. Absent optionals
 * may be encoded as CBOR null (real documents do this), and unknown text keys are ignored so that
 * fields AWS may add later do not break verification; every key must still be text and unique.
 *
 * Two kinds of document share this envelope and PKI: a Nitro Enclave's (PCRs in `pcrs`) and an EC2
 * instance's NitroTPM (PCRs in `nitrotpm_pcrs`). The PCR map's key is what tells them apart, so a
 * payload must carry exactly one of the two: with both, a verifier could match expectations
 * against one map while a reader of the other sees different code.
 */
import { EnclaveVerifyError } from '../errors.js';
import { CborMap, type CborValue, decodeCbor } from './cbor.js';
import { MAX_CBOR_DEPTH, MAX_FIELD_BYTES, PCR_SLOTS } from './limits.js';

/**
 * What produced a document: a Nitro Enclave (`pcrs`: enclave image measurements) or an EC2
 * instance's NitroTPM (`nitrotpm_pcrs`: TPM PCRs 0..23 of the boot chain, TCG PC client meanings).
 */
export type AttestationKind = 'enclave' | 'nitrotpm';

/** The payload key holding each kind's PCR map. */
export const PCR_FIELD: Readonly<Record<AttestationKind, 'pcrs' | 'nitrotpm_pcrs'>> = {
  enclave: 'pcrs',
  nitrotpm: 'nitrotpm_pcrs',
};

/**
 * A decoded attestation document. Produced by `decodeAttestation` (UNVERIFIED) or as part of the
 * result of `verifyAttestation` (verified).
 */
export interface AttestationDocument {
  /** `enclave` or `nitrotpm`: which PCR map the payload carried (see {@link AttestationKind}). */
  kind: AttestationKind;
  /** `i-<instance>-enc<enclave>` (enclaves) or `i-<instance>-tpm0000000000000000` (NitroTPM) in practice. */
  moduleId: string;
  /** Digest algorithm of the PCRs; always `SHA384`. */
  digest: string;
  /** Time the NSM signed the document. */
  timestamp: Date;
  /** Same time in milliseconds since the Unix epoch. */
  timestampMs: number;
  /**
   * PCR index to value, in index order: the enclave's `pcrs` or the NitroTPM's `nitrotpm_pcrs`
   * (`kind` says which), so expectations apply to either kind the same way.
   */
  pcrs: Map<number, Uint8Array>;
  /** DER of the signing (leaf) certificate. */
  certificate: Uint8Array;
  /** DER certificates as sent: `[ROOT, INTERM_1, ..., INTERM_N]`. */
  cabundle: Uint8Array[];
  /** Free-form public key chosen by the enclave, when present (may be empty: real hardware sends 0 bytes). */
  publicKey?: Uint8Array;
  /** Free-form user data chosen by the enclave, when present (may be empty). */
  userData?: Uint8Array;
  /** Nonce supplied by the requester, when present (may be empty). */
  nonce?: Uint8Array;
}

function invalid(field: string, rule: string): EnclaveVerifyError {
  return new EnclaveVerifyError(
    'ERR_DOCUMENT_INVALID',
    `attestation payload field '${field}' ${rule}; this is not a well-formed Nitro attestation document`,
    { details: { field } },
  );
}

function bytesField(v: CborValue | undefined, field: string, min: number, max: number): Uint8Array {
  if (!(v instanceof Uint8Array))
    throw invalid(field, v === undefined ? 'is missing' : 'is not a byte string');
  if (v.length < min || v.length > max) throw invalid(field, `has ${v.length} bytes, allowed ${min}..${max}`);
  return v.slice();
}

// AWS's CDDL types all three optionals `bytes .size (0..1024)`; its validation table's 1..1024 for
// public_key (and 0..512 for the others) is stricter than what the hardware emits: a real document
// carries a 0-byte public_key. A verifier must not refuse what genuine hardware signs.
function optionalBytes(v: CborValue | undefined, field: string): Uint8Array | undefined {
  if (v === undefined || v === null) return undefined;
  return bytesField(v, field, 0, MAX_FIELD_BYTES);
}

/**
 * Decode and check the payload byte string of a COSE_Sign1 envelope. Does NOT verify anything.
 *
 * @example
 * ```ts
 * const doc = decodePayload(decodeCoseSign1(bytes).payload);
 * doc.pcrs.get(0); // Uint8Array(48)
 * ```
 */
export function decodePayload(payload: Uint8Array): AttestationDocument {
  const map = decodeCbor(payload, { maxDepth: MAX_CBOR_DEPTH });
  if (!(map instanceof CborMap)) {
    throw new EnclaveVerifyError(
      'ERR_DOCUMENT_INVALID',
      'attestation payload is not a CBOR map; check the input',
    );
  }
  for (const [k] of map.entries) {
    if (typeof k !== 'string') throw invalid(String(k), 'has a non-text key');
  }
  const moduleId = map.get('module_id');
  if (typeof moduleId !== 'string')
    throw invalid('module_id', moduleId === undefined ? 'is missing' : 'is not text');
  if (moduleId.length === 0) throw invalid('module_id', 'is empty');
  const digest = map.get('digest');
  if (typeof digest !== 'string')
    throw invalid('digest', digest === undefined ? 'is missing' : 'is not text');
  if (digest !== 'SHA384') throw invalid('digest', `is '${digest}', expected 'SHA384'`);
  const ts = map.get('timestamp');
  if (ts === undefined) throw invalid('timestamp', 'is missing');
  // Dates beyond year 275760 do not exist in JS; anything past 2^53 ms is refused as out of range.
  if (typeof ts !== 'number' || !Number.isInteger(ts) || ts <= 0 || ts > 8.64e15) {
    throw invalid('timestamp', 'is not a positive integer of milliseconds within the Date range');
  }
  const { kind, pcrs } = decodePcrMap(map);
  const certificate = bytesField(map.get('certificate'), 'certificate', 1, MAX_FIELD_BYTES);
  const bundle = map.get('cabundle');
  if (!Array.isArray(bundle))
    throw invalid('cabundle', bundle === undefined ? 'is missing' : 'is not an array');
  if (bundle.length === 0) throw invalid('cabundle', 'is empty');
  const cabundle = bundle.map((c, i) => bytesField(c, `cabundle[${i}]`, 1, MAX_FIELD_BYTES));
  const doc: AttestationDocument = {
    kind,
    moduleId,
    digest,
    timestamp: new Date(ts),
    timestampMs: ts,
    pcrs,
    certificate,
    cabundle,
  };
  const publicKey = optionalBytes(map.get('public_key'), 'public_key');
  const userData = optionalBytes(map.get('user_data'), 'user_data');
  const nonce = optionalBytes(map.get('nonce'), 'nonce');
  if (publicKey) doc.publicKey = publicKey;
  if (userData) doc.userData = userData;
  if (nonce) doc.nonce = nonce;
  return doc;
}

/** Exactly one of `pcrs` / `nitrotpm_pcrs`; the one present gives the document's kind. */
function decodePcrMap(map: CborMap): { kind: AttestationKind; pcrs: Map<number, Uint8Array> } {
  const enclave = map.get(PCR_FIELD.enclave);
  const tpm = map.get(PCR_FIELD.nitrotpm);
  if (enclave !== undefined && tpm !== undefined) {
    throw invalid(
      'pcrs',
      "and 'nitrotpm_pcrs' are both present; a genuine document carries exactly one (an enclave's or a NitroTPM's), so this one is forged or broken",
    );
  }
  if (tpm !== undefined) return { kind: 'nitrotpm', pcrs: decodePcrs(tpm, PCR_FIELD.nitrotpm) };
  if (enclave === undefined) {
    throw invalid('pcrs', "is missing (and so is 'nitrotpm_pcrs'): the document has no PCRs");
  }
  return { kind: 'enclave', pcrs: decodePcrs(enclave, PCR_FIELD.enclave) };
}

function decodePcrs(v: CborValue, field: string): Map<number, Uint8Array> {
  if (!(v instanceof CborMap)) throw invalid(field, 'is not a map');
  if (v.size === 0 || v.size > PCR_SLOTS)
    throw invalid(field, `has ${v.size} entries, allowed 1..${PCR_SLOTS}`);
  const entries: Array<[number, Uint8Array]> = [];
  for (const [k, value] of v.entries) {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= PCR_SLOTS) {
      throw invalid(field, `has index ${String(k)}, allowed 0..${PCR_SLOTS - 1}`);
    }
    if (!(value instanceof Uint8Array)) throw invalid(`${field}[${k}]`, 'is not a byte string');
    if (value.length !== 32 && value.length !== 48 && value.length !== 64) {
      throw invalid(`${field}[${k}]`, `has ${value.length} bytes, expected 32, 48 or 64`);
    }
    entries.push([k, value.slice()]);
  }
  entries.sort((a, b) => a[0] - b[0]);
  return new Map(entries);
}
