/**
 * Canary's signed statements (CANARY.md 4): the payload rules of statement.rs in their order,
 * hybrid signing (Ed25519 and ML-DSA-65 over `caution.canary.statement.v0 || 0x00 ||
 * JCS(payload)`), and verification against trusted keys at a given time.
 *
 * Verification follows Canary's code where it differs from the spec: the payload is
 * re-canonicalised after parsing (member order and whitespace of the received text do not
 * matter, an omitted `observed_at`/`evidence_digest` is null, `tls: null` is absent), and
 * timestamps are read leniently and compared as instants.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { EnclaveVerifyError } from '../errors.js';
import { concatBytes } from '../util/bytes.js';
import { isIpHost } from './config.js';
import { isDigest } from './digest.js';
import { decodeBase64UrlStrict, encodeBase64Url } from './encoding.js';
import { canonicalJsonBytes, type JsonValue, parseStrictJson } from './jcs.js';
import { CANARY_PROTOCOL, type CanaryKeyPair, type CanaryPublicKeys, parseKeysDocument } from './keys.js';
import { CANARY_STATUSES, type CanaryStatus, isIdentifier, STATEMENT_VALIDITY_SECONDS } from './reasons.js';
import {
  type JsonObject,
  readArray,
  readNullableString,
  readObject,
  readOptional,
  readRequired,
  readString,
  readUnsigned,
  type SchemaFail,
  U32_MAX,
} from './schema.js';
import { dateToNanos, parseRfc3339Nanos } from './time.js';

/** Claim type of a target checked by its PCRs. */
export const PCR_MATCH_CLAIM = 'caution.canary.pcr-match.v0';
/** Claim type of a target whose attestation binds its TLS certificate (`e2e_mode: "tls"`). */
export const TLS_BOUND_CLAIM = 'caution.canary.tls-bound.v0';
/** The domain-separation prefix of the signed bytes (followed by one 0x00 byte). */
export const STATEMENT_CONTEXT = 'caution.canary.statement.v0';
/** A statement issued more than this after the verification time is refused. */
export const STATEMENT_FUTURE_SKEW_SECONDS = 30;

/** TLS facts of a tls-bound claim. */
export interface StatementTls {
  attested_mode: string;
  attested_domain: string;
  attested_certfp: string;
  observed_certfp: string;
}

/** The signed payload, members as Canary names them. */
export interface StatementPayload {
  claim_type: string;
  target_id: string;
  target_origin: string;
  status: CanaryStatus;
  reason: string;
  config_digest: string;
  evidence_digest: string | null;
  tls?: StatementTls;
  observed_at: string | null;
  issued_at: string;
  expires_at: string;
  verifier_id: string;
  key_epoch: number;
}

/** One signature of a signer. */
export interface StatementSignature {
  alg: string;
  sig: string;
}

/** A signed statement as served at `/targets/{id}/statement`. */
export interface StatementEnvelope {
  payload: StatementPayload;
  signers: { verifier_id: string; key_epoch: number; signatures: StatementSignature[] }[];
}

/** The rule a statement broke; `details.rule` of the error. */
export type StatementRule =
  | 'json'
  | 'schema'
  | 'claim_type'
  | 'key_epoch'
  | 'identifiers'
  | 'reason'
  | 'target_origin'
  | 'digests'
  | 'timestamps'
  | 'observed_at_required'
  | 'evidence_digest_required'
  | 'observed_after_issued'
  | 'not_definitive_nulls'
  | 'verified_reason'
  | 'tls_mismatch_reason'
  | 'expires_at'
  | 'issued_after_expires'
  | 'tls_on_pcr_match'
  | 'tls_origin_host'
  | 'tls_well_formed'
  | 'tls_reason'
  | 'tls_verified'
  | 'tls_mismatch_matches'
  | 'signers'
  | 'signatures'
  | 'signature_encoding';

function statementError(rule: StatementRule, message: string, path?: string): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_CANARY_STATEMENT', `statement: ${message}`, {
    details: { rule, ...(path ? { path } : {}) },
  });
}

const schemaFail: SchemaFail = (message, path) => {
  throw statementError('schema', message, path);
};

const PAYLOAD_FIELDS = [
  'claim_type',
  'target_id',
  'target_origin',
  'status',
  'reason',
  'config_digest',
  'evidence_digest',
  'tls',
  'observed_at',
  'issued_at',
  'expires_at',
  'verifier_id',
  'key_epoch',
] as const;

/**
 * Parse a statement envelope strictly (unknown or duplicate members, wrong types, `0.0` for an
 * integer all refused). Payload rules and signatures are not checked here: see
 * {@link verifyStatement}. Throws `ERR_CANARY_STATEMENT`.
 *
 * @example
 * ```ts
 * const envelope = parseStatement(await (await fetch(url)).text());
 * envelope.payload.status; // 'VERIFIED' (unverified!)
 * ```
 */
export function parseStatement(text: string): StatementEnvelope {
  let value: JsonValue;
  try {
    value = parseStrictJson(text);
  } catch (e) {
    throw statementError('json', `not strict JSON (${(e as Error).message})`);
  }
  return readEnvelope(value);
}

/**
 * Read an already parsed envelope value (for statements embedded in other documents, such as
 * a history entry). Same rules as {@link parseStatement}.
 *
 * @example
 * ```ts
 * const envelope = readEnvelope((parseStrictJson(text) as { statement: JsonValue }).statement);
 * ```
 */
export function readEnvelope(value: JsonValue): StatementEnvelope {
  const o = readObject(value, 'statement', ['payload', 'signers'], schemaFail);
  const payload = readPayload(readRequired(o, 'payload', 'statement', schemaFail));
  const signers = readArray(readRequired(o, 'signers', 'statement', schemaFail), 'signers', schemaFail).map(
    (s, i) => {
      const p = `signers[${i}]`;
      const so = readObject(s, p, ['verifier_id', 'key_epoch', 'signatures'], schemaFail);
      return {
        verifier_id: readString(
          readRequired(so, 'verifier_id', p, schemaFail),
          `${p}.verifier_id`,
          schemaFail,
        ),
        key_epoch: Number(
          readUnsigned(readRequired(so, 'key_epoch', p, schemaFail), `${p}.key_epoch`, U32_MAX, schemaFail),
        ),
        signatures: readArray(
          readRequired(so, 'signatures', p, schemaFail),
          `${p}.signatures`,
          schemaFail,
        ).map((g, j) => {
          const q = `${p}.signatures[${j}]`;
          const go = readObject(g, q, ['alg', 'sig'], schemaFail);
          return {
            alg: readString(readRequired(go, 'alg', q, schemaFail), `${q}.alg`, schemaFail),
            sig: readString(readRequired(go, 'sig', q, schemaFail), `${q}.sig`, schemaFail),
          };
        }),
      };
    },
  );
  return { payload, signers };
}

function readPayload(value: JsonValue): StatementPayload {
  const p = 'payload';
  const o: JsonObject = readObject(value, p, PAYLOAD_FIELDS, schemaFail);
  const req = (name: string) => readString(readRequired(o, name, p, schemaFail), `${p}.${name}`, schemaFail);
  const status = req('status');
  if (!(CANARY_STATUSES as readonly string[]).includes(status)) {
    schemaFail(`payload.status must be one of ${CANARY_STATUSES.join(', ')}`, 'payload.status');
  }
  const tlsValue = readOptional(o, 'tls');
  let tls: StatementTls | undefined;
  if (tlsValue !== undefined) {
    const t = readObject(
      tlsValue,
      'payload.tls',
      ['attested_mode', 'attested_domain', 'attested_certfp', 'observed_certfp'],
      schemaFail,
    );
    const field = (name: string) =>
      readString(readRequired(t, name, 'payload.tls', schemaFail), `payload.tls.${name}`, schemaFail);
    tls = {
      attested_mode: field('attested_mode'),
      attested_domain: field('attested_domain'),
      attested_certfp: field('attested_certfp'),
      observed_certfp: field('observed_certfp'),
    };
  }
  return {
    claim_type: req('claim_type'),
    target_id: req('target_id'),
    target_origin: req('target_origin'),
    status: status as CanaryStatus,
    reason: req('reason'),
    config_digest: req('config_digest'),
    evidence_digest: readNullableString(o.evidence_digest, 'payload.evidence_digest', schemaFail),
    ...(tls ? { tls } : {}),
    observed_at: readNullableString(o.observed_at, 'payload.observed_at', schemaFail),
    issued_at: req('issued_at'),
    expires_at: req('expires_at'),
    verifier_id: req('verifier_id'),
    key_epoch: Number(
      readUnsigned(readRequired(o, 'key_epoch', p, schemaFail), 'payload.key_epoch', U32_MAX, schemaFail),
    ),
  };
}

/**
 * True when `origin` is a canonical https origin: what the WHATWG URL parser serialises as the
 * origin of that very string (lowercase/IDNA host, default port omitted, nothing after it).
 *
 * @example
 * ```ts
 * isCanonicalOrigin('https://payments.example.com'); // true
 * isCanonicalOrigin('https://payments.example.com/'); // false
 * ```
 */
export function isCanonicalOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return url.protocol === 'https:' && url.origin === origin;
  } catch {
    return false;
  }
}

function isTlsBound(payload: StatementPayload): boolean {
  return payload.claim_type === TLS_BOUND_CLAIM;
}

function tlsMatches(payload: StatementPayload, tls: StatementTls): boolean {
  return (
    tls.attested_mode === 'tls' &&
    tls.attested_domain === new URL(payload.target_origin).hostname &&
    tls.attested_certfp === tls.observed_certfp
  );
}

function instant(text: string, name: string): bigint {
  const t = parseRfc3339Nanos(text);
  if (t === undefined)
    throw statementError('timestamps', `payload.${name} is not an RFC 3339 time`, `payload.${name}`);
  return t;
}

/**
 * Check a payload against Canary's payload rules, in statement.rs's order. Throws
 * `ERR_CANARY_STATEMENT` whose `details.rule` names the broken rule.
 *
 * @example
 * ```ts
 * checkPayloadRules(envelope.payload); // throws on e.g. VERIFIED without evidence_digest
 * ```
 */
export function checkPayloadRules(payload: StatementPayload): void {
  const fail = (rule: StatementRule, message: string): never => {
    throw statementError(rule, message);
  };
  if (payload.claim_type !== PCR_MATCH_CLAIM && payload.claim_type !== TLS_BOUND_CLAIM) {
    fail('claim_type', `unknown claim_type "${payload.claim_type.slice(0, 64)}"`);
  }
  if (payload.key_epoch !== 0) fail('key_epoch', `key_epoch must be 0, not ${payload.key_epoch}`);
  if (!isIdentifier(payload.target_id) || !isIdentifier(payload.verifier_id)) {
    fail('identifiers', 'target_id and verifier_id must be non-empty identifiers of A-Z a-z 0-9 _ -');
  }
  if (payload.reason.length === 0) fail('reason', 'reason must not be empty');
  if (!isCanonicalOrigin(payload.target_origin)) {
    fail(
      'target_origin',
      'target_origin must be a canonical https origin (no path, default port omitted, lowercase host)',
    );
  }
  if (
    !isDigest(payload.config_digest) ||
    (payload.evidence_digest !== null && !isDigest(payload.evidence_digest))
  ) {
    fail('digests', 'config_digest and evidence_digest must be "sha256:" and 64 lowercase hex digits');
  }
  const issued = instant(payload.issued_at, 'issued_at');
  const expires = instant(payload.expires_at, 'expires_at');
  const observed = payload.observed_at === null ? undefined : instant(payload.observed_at, 'observed_at');
  const definitive = payload.status === 'VERIFIED' || payload.status === 'FAILED';
  if (definitive) {
    if (observed === undefined)
      fail('observed_at_required', `a ${payload.status} statement needs observed_at`);
    if (payload.status === 'VERIFIED' && payload.evidence_digest === null) {
      fail('evidence_digest_required', 'a VERIFIED statement needs evidence_digest');
    }
    if (observed! > issued) fail('observed_after_issued', 'observed_at is after issued_at');
  } else if (payload.observed_at !== null || payload.evidence_digest !== null) {
    fail(
      'not_definitive_nulls',
      `a ${payload.status} statement must have observed_at and evidence_digest null`,
    );
  }
  if ((payload.status === 'VERIFIED') !== (payload.reason === 'ALL_CHECKS_PASSED')) {
    fail('verified_reason', 'status VERIFIED goes with reason ALL_CHECKS_PASSED, and only with it');
  }
  if (
    payload.reason === 'TLS_BINDING_MISMATCH' &&
    !(payload.status === 'FAILED' && isTlsBound(payload) && payload.evidence_digest !== null)
  ) {
    fail(
      'tls_mismatch_reason',
      'TLS_BINDING_MISMATCH only fits a FAILED tls-bound claim with evidence_digest',
    );
  }
  const definitiveTime = definitive ? observed! : issued;
  if (expires !== definitiveTime + BigInt(STATEMENT_VALIDITY_SECONDS) * 1_000_000_000n) {
    fail(
      'expires_at',
      `expires_at must be exactly ${STATEMENT_VALIDITY_SECONDS} s after ${definitive ? 'observed_at' : 'issued_at'}`,
    );
  }
  if (issued > expires) fail('issued_after_expires', 'issued_at is after expires_at');
  const tls = payload.tls;
  if (!isTlsBound(payload)) {
    if (tls) fail('tls_on_pcr_match', 'a pcr-match claim must not carry tls');
    return;
  }
  if (isIpHost(new URL(payload.target_origin).hostname)) {
    fail('tls_origin_host', 'a tls-bound target_origin needs a DNS host name');
  }
  if (tls) {
    const wellFormed =
      /^[a-z0-9-]+$/.test(tls.attested_mode) &&
      isDnsName(tls.attested_domain) &&
      /^[0-9a-f]{64}$/.test(tls.attested_certfp) &&
      /^[0-9a-f]{64}$/.test(tls.observed_certfp);
    if (!wellFormed)
      fail(
        'tls_well_formed',
        'tls members are malformed (mode [a-z0-9-]+, lowercase DNS domain, 64-hex fingerprints)',
      );
    if (payload.reason !== 'ALL_CHECKS_PASSED' && payload.reason !== 'TLS_BINDING_MISMATCH') {
      fail('tls_reason', 'tls may only accompany ALL_CHECKS_PASSED or TLS_BINDING_MISMATCH');
    }
  }
  if (payload.status === 'VERIFIED' && !(tls && tlsMatches(payload, tls))) {
    fail(
      'tls_verified',
      'a VERIFIED tls-bound claim needs tls with mode tls, the origin host as domain and equal fingerprints',
    );
  }
  if (payload.reason === 'TLS_BINDING_MISMATCH' && tls && tlsMatches(payload, tls)) {
    fail('tls_mismatch_matches', 'a TLS_BINDING_MISMATCH claim carries tls values that match');
  }
}

/** Lowercase ASCII DNS name without a trailing dot (labels of a-z 0-9 -, not starting/ending with -). */
function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name
    .split('.')
    .every(
      (label) => label.length > 0 && label.length <= 63 && /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(label),
    );
}

/**
 * The bytes both algorithms sign: `caution.canary.statement.v0`, one 0x00 byte, JCS(payload).
 *
 * @example
 * ```ts
 * statementSignedBytes(envelope.payload); // the vector's signed_message
 * ```
 */
export function statementSignedBytes(payload: StatementPayload): Uint8Array {
  return concatBytes(
    new TextEncoder().encode(STATEMENT_CONTEXT),
    new Uint8Array([0]),
    canonicalJsonBytes(payload),
  );
}

/** Options of {@link signStatement}. */
export interface SignStatementOptions {
  /**
   * The 32-byte ML-DSA `rnd` (hedged signing). Default: fresh CSPRNG bytes, as canaryd does.
   * Fix it only to reproduce vectors.
   */
  mlDsaRandomness?: Uint8Array;
  /** Skip the payload rules (only to make invalid statements for tests). Default false. */
  unchecked?: boolean;
}

/**
 * Sign a payload with a node's keys: Ed25519 (RFC 8032) and ML-DSA-65 (pure, empty context) over
 * {@link statementSignedBytes}. The payload must pass {@link checkPayloadRules} and carry the
 * keys' node id and epoch.
 *
 * @example
 * ```ts
 * const envelope = signStatement(payload, deriveCanaryKeys(seed, 'canary-1'));
 * const body = canonicalJson(envelope);
 * ```
 */
export function signStatement(
  payload: StatementPayload,
  keys: CanaryKeyPair,
  options: SignStatementOptions = {},
): StatementEnvelope {
  if (!options.unchecked) {
    checkPayloadRules(payload);
    if (payload.verifier_id !== keys.nodeId || payload.key_epoch !== keys.keyEpoch) {
      throw new EnclaveVerifyError(
        'ERR_CANARY_KEY_MISMATCH',
        'the payload names another verifier_id or key_epoch than the keys',
      );
    }
  }
  const message = statementSignedBytes(payload);
  const rnd = options.mlDsaRandomness ?? crypto.getRandomValues(new Uint8Array(32));
  return {
    payload,
    signers: [
      {
        verifier_id: payload.verifier_id,
        key_epoch: payload.key_epoch,
        signatures: [
          { alg: 'Ed25519', sig: encodeBase64Url(ed25519.sign(message, keys.ed25519.secretKey)) },
          {
            alg: 'ML-DSA-65',
            sig: encodeBase64Url(ml_dsa65.sign(message, keys.mlDsa65.secretKey, { extraEntropy: rnd })),
          },
        ],
      },
    ],
  };
}

/** Options of {@link verifyStatement}. */
export interface VerifyStatementOptions {
  /** The verification time. Default: now. */
  now?: Date;
}

/** A statement whose signatures and rules held at `verifiedAt`. */
export interface VerifiedStatement {
  envelope: StatementEnvelope;
  payload: StatementPayload;
  verifiedAt: Date;
}

/**
 * Verify a statement as Canary's `verify_statement` does, at `now`: strict parse; the trusted
 * keys' protocol, node id and epoch against the payload (`ERR_CANARY_KEY_MISMATCH`); the payload
 * rules (`ERR_CANARY_STATEMENT`); issued more than 30 s after now (`ERR_CANARY_FUTURE`); expired
 * at `now >= expires_at` (`ERR_CANARY_EXPIRED`); exactly one signer with the payload's id and
 * epoch and exactly the two signatures; strict base64url; both signatures valid
 * (`ERR_CANARY_SIGNATURE`, Ed25519 strict, not ZIP-215). A valid statement may report any
 * status: check `payload.status` for VERIFIED.
 *
 * @example
 * ```ts
 * const { payload } = await verifyStatement(text, parseKeysDocument(pinnedBytes), { now: new Date() });
 * if (payload.status !== 'VERIFIED') console.log('signed negative result', payload.reason);
 * ```
 */
export async function verifyStatement(
  input: string | StatementEnvelope,
  trustedKeys: CanaryPublicKeys | Uint8Array,
  options: VerifyStatementOptions = {},
): Promise<VerifiedStatement> {
  const now = options.now ?? new Date();
  if (Number.isNaN(now.getTime()))
    throw new EnclaveVerifyError('ERR_USAGE', 'the verification time is an invalid Date');
  const envelope = typeof input === 'string' ? parseStatement(input) : input;
  const keys = trustedKeys instanceof Uint8Array ? parseKeysDocument(trustedKeys) : trustedKeys;
  const { payload } = envelope;
  if (keys.nodeId !== payload.verifier_id || keys.keyEpoch !== payload.key_epoch) {
    throw new EnclaveVerifyError(
      'ERR_CANARY_KEY_MISMATCH',
      `the statement is by verifier "${payload.verifier_id}" epoch ${payload.key_epoch}, but the trusted keys are node "${keys.nodeId}" epoch ${keys.keyEpoch} (${CANARY_PROTOCOL}); use that node's keys`,
      { details: { verifierId: payload.verifier_id, keysNodeId: keys.nodeId } },
    );
  }
  checkPayloadRules(payload);
  const nowNs = dateToNanos(now);
  if (
    parseRfc3339Nanos(payload.issued_at)! >
    nowNs + BigInt(STATEMENT_FUTURE_SKEW_SECONDS) * 1_000_000_000n
  ) {
    throw new EnclaveVerifyError(
      'ERR_CANARY_FUTURE',
      `the statement was issued at ${payload.issued_at}, more than ${STATEMENT_FUTURE_SKEW_SECONDS} s after the verification time ${now.toISOString()}; check the clocks`,
    );
  }
  if (nowNs >= parseRfc3339Nanos(payload.expires_at)!) {
    throw new EnclaveVerifyError(
      'ERR_CANARY_EXPIRED',
      `the statement expired at ${payload.expires_at} (verification time ${now.toISOString()}); fetch a current one`,
      { details: { expiresAt: payload.expires_at } },
    );
  }
  if (envelope.signers.length !== 1) {
    throw statementError('signers', `exactly one signer is required, not ${envelope.signers.length}`);
  }
  const signer = envelope.signers[0]!;
  if (signer.verifier_id !== payload.verifier_id || signer.key_epoch !== payload.key_epoch) {
    throw statementError('signers', 'the signer is not the payload verifier_id/key_epoch');
  }
  const ed = signer.signatures.find((s) => s.alg === 'Ed25519');
  const ml = signer.signatures.find((s) => s.alg === 'ML-DSA-65');
  if (!ed || !ml || signer.signatures.length !== 2) {
    throw statementError(
      'signatures',
      'the signer must carry exactly one Ed25519 and one ML-DSA-65 signature',
    );
  }
  const edSig = decodeBase64UrlStrict(ed.sig);
  const mlSig = decodeBase64UrlStrict(ml.sig);
  if (!edSig || !mlSig)
    throw statementError('signature_encoding', 'a signature is not canonical unpadded base64url');
  const message = statementSignedBytes(payload);
  const edOk =
    edSig.length === 64 && safeVerify(() => ed25519.verify(edSig, message, keys.ed25519, { zip215: false }));
  const mlOk =
    mlSig.length === ml_dsa65.lengths.signature &&
    safeVerify(() => ml_dsa65.verify(mlSig, message, keys.mlDsa65));
  if (!edOk || !mlOk) {
    throw new EnclaveVerifyError(
      'ERR_CANARY_SIGNATURE',
      `the ${!edOk ? 'Ed25519' : 'ML-DSA-65'} signature does not verify with the trusted keys: the statement was altered or signed by another node`,
      { details: { ed25519: edOk, mlDsa65: mlOk } },
    );
  }
  return { envelope, payload, verifiedAt: now };
}

// Libraries throw on malformed keys or signatures; for a verifier that is just "invalid".
function safeVerify(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false;
  }
}
