/**
 * Issue COSE_Sign1 attestation documents signed by a test PKI's leaf, shaped like the NSM's
 * (untagged, `{1: -35}` protected header, payload fields in AWS order, absent optionals as null),
 * with knobs to produce each malformed variant the verifier must refuse.
 */
import { fromHex } from '../util/bytes.js';
import { CborEntries, CborRaw, CborTagged, type Encodable, encodeCbor } from '../util/cbor-encode.js';
import type { TestPki } from './pki.js';

/** Payload fields; everything has a realistic default. */
export interface AttestationFields {
  /**
   * `enclave` (default: PCRs under `pcrs`) or `nitrotpm` (PCRs under `nitrotpm_pcrs`, default
   * {@link testTpmPcrs}, module id `i-...-tpm0000000000000000`, as an EC2 instance's NitroTPM).
   */
  kind?: 'enclave' | 'nitrotpm';
  moduleId?: string;
  digest?: string;
  /** Default: the leaf's notBefore (the moment the PKI was created for). */
  timestamp?: Date | number;
  /** PCR index to bytes or hex. Default: PCR0..15, with 0..2 and 8 non-zero. */
  pcrs?: Map<number, Uint8Array | string> | Record<number, Uint8Array | string>;
  /** Default: the PKI's leaf. */
  certificate?: Uint8Array;
  /** Default: the PKI's bundle. */
  cabundle?: Uint8Array[];
  publicKey?: Uint8Array;
  userData?: Uint8Array;
  nonce?: Uint8Array;
}

/** Encoding knobs for forging malformed or unusual documents. */
export interface AttestationKnobs {
  /** Wrap in CBOR tag 18 (real documents are untagged). */
  tagged?: boolean;
  /** Wrap in this tag instead. */
  tag?: number;
  /** Write the payload map with indefinite length (as in Caution's documents). */
  indefinitePayload?: boolean;
  /** Write absent optionals as CBOR null (default true, as the NSM does) or leave them out. */
  nullOptionals?: boolean;
  /** Protected header content (default `{1: -35}`); give bytes to write them raw. */
  protectedHeader?: Map<Encodable, Encodable> | Uint8Array;
  /** Unprotected header (default empty map). */
  unprotectedHeader?: Map<Encodable, Encodable>;
  /** Rewrite the payload entries before encoding (duplicate, drop, retype fields). */
  payloadEntries?: (entries: Array<[Encodable, Encodable]>) => Array<[Encodable, Encodable]>;
  /** Bytes appended inside the payload byte string, after the map. */
  payloadTrailing?: Uint8Array;
  /** Bytes appended after the COSE array. */
  trailing?: Uint8Array;
  /** Sign with this key instead of the leaf's. */
  signingKey?: CryptoKey;
  /** Change the signature after signing (e.g. flip a bit, or truncate). */
  signature?: (sig: Uint8Array) => Uint8Array;
  /** Replace the whole COSE array before encoding. */
  envelope?: (items: Encodable[]) => Encodable;
}

function defaultPcrs(): Map<number, Uint8Array> {
  const pcrs = new Map<number, Uint8Array>();
  for (let i = 0; i < 16; i++) {
    const v = new Uint8Array(48);
    if (i <= 4 || i === 8) v.fill(0x10 + i);
    pcrs.set(i, v);
  }
  return pcrs;
}

/**
 * Default PCR values of forged documents: PCR0..4 and 8 filled with `0x10 + index`, the rest zero.
 *
 * @example
 * ```ts
 * testPcrs().get(0); // 48 bytes of 0x10
 * ```
 */
export function testPcrs(): Map<number, Uint8Array> {
  return defaultPcrs();
}

/**
 * Default PCRs of forged NitroTPM documents, shaped like real ones (SPEC 1.5): 24 PCRs of 48
 * bytes; 0..10 measured (filled with `0x40 + index`), 11..16 and 23 zero, 17..22 all 0xff.
 *
 * @example
 * ```ts
 * testTpmPcrs().get(4); // 48 bytes of 0x44
 * ```
 */
export function testTpmPcrs(): Map<number, Uint8Array> {
  const pcrs = new Map<number, Uint8Array>();
  for (let i = 0; i < 24; i++) {
    const v = new Uint8Array(48);
    if (i <= 10) v.fill(0x40 + i);
    else if (i >= 17 && i <= 22) v.fill(0xff);
    pcrs.set(i, v);
  }
  return pcrs;
}

/** Module id of forged NitroTPM documents: an instance id and the fixed `tpm` suffix. */
const TPM_MODULE_ID = 'i-00000000000000000-tpm0000000000000000';

/**
 * Sign an attestation document with the test PKI's leaf key and return its COSE_Sign1 bytes.
 *
 * @example
 * ```ts
 * const pki = await createTestPki();
 * const bytes = await issueAttestation(pki, { nonce: new Uint8Array(32) }, { tagged: true });
 * const tpm = await issueAttestation(pki, { kind: 'nitrotpm' }); // nitrotpm_pcrs, 24 PCRs
 * ```
 */
export async function issueAttestation(
  pki: TestPki,
  fields: AttestationFields = {},
  knobs: AttestationKnobs = {},
): Promise<Uint8Array> {
  const tpm = fields.kind === 'nitrotpm';
  const pcrsIn = fields.pcrs ?? (tpm ? testTpmPcrs() : defaultPcrs());
  const pcrEntries = (pcrsIn instanceof Map ? [...pcrsIn.entries()] : Object.entries(pcrsIn)).map(
    ([k, v]) => [Number(k), typeof v === 'string' ? fromHex(v) : v] as [Encodable, Encodable],
  );
  const ts = fields.timestamp ?? pki.leaf.notBefore;
  const optional = (v: Uint8Array | undefined): Encodable | undefined =>
    v !== undefined ? v : knobs.nullOptionals === false ? undefined : null;
  let entries: Array<[Encodable, Encodable]> = [
    ['module_id', fields.moduleId ?? (tpm ? TPM_MODULE_ID : pki.moduleId)],
    ['digest', fields.digest ?? 'SHA384'],
    ['timestamp', typeof ts === 'number' ? ts : ts.getTime()],
    [tpm ? 'nitrotpm_pcrs' : 'pcrs', new CborEntries(pcrEntries)],
    ['certificate', fields.certificate ?? pki.leaf.der],
    ['cabundle', fields.cabundle ?? pki.cabundle],
  ];
  for (const [key, value] of [
    ['public_key', optional(fields.publicKey)],
    ['user_data', optional(fields.userData)],
    ['nonce', optional(fields.nonce)],
  ] as const) {
    if (value !== undefined) entries.push([key, value]);
  }
  if (knobs.payloadEntries) entries = knobs.payloadEntries(entries);
  let payload = encodeCbor(new CborEntries(entries, knobs.indefinitePayload === true));
  if (knobs.payloadTrailing) payload = new Uint8Array([...payload, ...knobs.payloadTrailing]);

  const header = knobs.protectedHeader ?? new Map<Encodable, Encodable>([[1, -35]]);
  const protectedBytes = header instanceof Uint8Array ? header : encodeCbor(header);
  const toBeSigned = encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), payload]);
  const key = knobs.signingKey ?? pki.leaf.keys.privateKey;
  // WebCrypto's ECDSA output is already the raw r || s form COSE uses.
  let signature = new Uint8Array(
    await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-384' }, key, toBeSigned as Uint8Array<ArrayBuffer>),
  );
  if (knobs.signature) signature = knobs.signature(signature) as Uint8Array<ArrayBuffer>;
  const items: Encodable[] = [protectedBytes, knobs.unprotectedHeader ?? new Map(), payload, signature];
  let envelope: Encodable = knobs.envelope ? knobs.envelope(items) : items;
  const tag = knobs.tag ?? (knobs.tagged ? 18 : undefined);
  if (tag !== undefined) envelope = new CborTagged(tag, envelope);
  const bytes = encodeCbor(envelope);
  return knobs.trailing ? encodeCbor(new CborRaw(new Uint8Array([...bytes, ...knobs.trailing]))) : bytes;
}
