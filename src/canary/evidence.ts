/**
 * Canary's evidence bundle v0 (CANARY.md 5): strict parsing in Canary's rule order, the bundle a
 * probe writes (byte for byte as Canary's pretty form), and replay: the attestation document
 * verified by our own verifier at `observed_at`, with failures mapped to Canary's reasons.
 *
 * Replay proves what the document says, not that it is recent: `observed_at` is only the
 * validation time. Freshness comes from a trusted statement naming the same `evidence_digest`
 * and `observed_at`.
 */
import { EnclaveVerifyError, type ErrorCode } from '../errors.js';
import type { ExpectedPcrsInput } from '../policy/expected-pcrs.js';
import { normalizeExpectedPcrs } from '../policy/expected-pcrs.js';
import type { ChainCache } from '../trust/cache.js';
import type { TrustedRootInput } from '../trust/roots.js';
import { toBase64 } from '../util/bytes.js';
import { checkAttestation, type VerificationReport } from '../verify.js';
import { canonicalDigest, isDigest, sha256Digest } from './digest.js';
import { decodeBase64Canonical } from './encoding.js';
import { canonicalJson, type JsonValue, parseStrictJson, prettyJson } from './jcs.js';
import type { DefinitiveReason } from './reasons.js';
import { isIdentifier } from './reasons.js';
import { readObject, readRequired, readString, type SchemaFail } from './schema.js';
import { canonicalSecondTime, parseCanonicalSecondTime } from './time.js';

/** The protocol label of evidence bundles. */
export const EVIDENCE_PROTOCOL = 'caution-canary-evidence-v0';

/** An evidence bundle, members as Canary names them (struct order). */
export interface EvidenceBundle {
  protocol: typeof EVIDENCE_PROTOCOL;
  target_id: string;
  /** Canonical padded standard base64 of the COSE_Sign1 bytes. */
  document: string;
  /** Canonical padded standard base64 of the 32-byte nonce Canary sent. */
  nonce: string;
  /** `YYYY-MM-DDTHH:MM:SSZ`. */
  observed_at: string;
  evidence_digest: string;
  /** Unsigned build provenance the target served; any JSON value. */
  manifest: JsonValue;
  manifest_digest: string;
}

/** A bundle that passed the parsing rules, with its decoded parts. */
export interface ParsedEvidenceBundle {
  bundle: EvidenceBundle;
  document: Uint8Array;
  nonce: Uint8Array;
  observedAt: Date;
}

/** The rule a bundle broke; `details.rule` of `ERR_CANARY_EVIDENCE`. */
export type EvidenceRule =
  | 'json'
  | 'schema'
  | 'protocol'
  | 'target_id'
  | 'document'
  | 'nonce'
  | 'observed_at'
  | 'evidence_digest'
  | 'manifest_digest';

const FIELDS = [
  'protocol',
  'target_id',
  'document',
  'nonce',
  'observed_at',
  'evidence_digest',
  'manifest',
  'manifest_digest',
] as const;

function evidenceError(rule: EvidenceRule, message: string, path?: string): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_CANARY_EVIDENCE', `evidence bundle: ${message}`, {
    details: { rule, ...(path ? { path } : {}) },
  });
}

const schemaFail: SchemaFail = (message, path) => {
  throw evidenceError('schema', message, path);
};

/**
 * Parse an evidence bundle with Canary's rules, in order: unknown, missing or duplicate members;
 * protocol; target_id an identifier; `document` non-empty canonical padded base64; `nonce`
 * canonical padded base64 of 32 bytes; `observed_at` exactly `YYYY-MM-DDTHH:MM:SSZ`;
 * `evidence_digest` the SHA-256 of the document bytes; `manifest_digest` the SHA-256 of the
 * manifest's canonical JSON. Throws `ERR_CANARY_EVIDENCE` with `details.rule`.
 *
 * @example
 * ```ts
 * const { bundle, observedAt } = await parseEvidenceBundle(text);
 * ```
 */
export async function parseEvidenceBundle(text: string): Promise<ParsedEvidenceBundle> {
  let value: JsonValue;
  try {
    value = parseStrictJson(text);
  } catch (e) {
    throw evidenceError('json', `not strict JSON (${(e as Error).message})`);
  }
  return readEvidenceBundle(value);
}

/**
 * {@link parseEvidenceBundle} for an already parsed value (a history entry's `evidence`).
 *
 * @example
 * ```ts
 * const parsed = await readEvidenceBundle((parseStrictJson(text) as { evidence: JsonValue }).evidence);
 * ```
 */
export async function readEvidenceBundle(value: JsonValue): Promise<ParsedEvidenceBundle> {
  const o = readObject(value, 'evidence bundle', FIELDS, schemaFail);
  const str = (name: string) =>
    readString(readRequired(o, name, 'evidence bundle', schemaFail), name, schemaFail);
  const bundle: EvidenceBundle = {
    protocol: str('protocol') as typeof EVIDENCE_PROTOCOL,
    target_id: str('target_id'),
    document: str('document'),
    nonce: str('nonce'),
    observed_at: str('observed_at'),
    evidence_digest: str('evidence_digest'),
    // Canary models the manifest as any JSON value: even null is a manifest, only absence fails.
    manifest: readRequired(o, 'manifest', 'evidence bundle', schemaFail),
    manifest_digest: str('manifest_digest'),
  };
  if (bundle.protocol !== EVIDENCE_PROTOCOL)
    throw evidenceError('protocol', `protocol must be "${EVIDENCE_PROTOCOL}"`);
  if (!isIdentifier(bundle.target_id))
    throw evidenceError('target_id', 'target_id must be a non-empty identifier');
  const document = decodeBase64Canonical(bundle.document);
  if (!document || document.length === 0) {
    throw evidenceError('document', 'document must be non-empty canonical padded standard base64');
  }
  const nonce = decodeBase64Canonical(bundle.nonce);
  if (nonce?.length !== 32) {
    throw evidenceError('nonce', 'nonce must be canonical padded standard base64 of exactly 32 bytes');
  }
  const observedAt = parseCanonicalSecondTime(bundle.observed_at);
  if (!observedAt) throw evidenceError('observed_at', 'observed_at must be exactly YYYY-MM-DDTHH:MM:SSZ');
  const evidenceDigest = await sha256Digest(document);
  if (!isDigest(bundle.evidence_digest) || bundle.evidence_digest !== evidenceDigest) {
    throw evidenceError(
      'evidence_digest',
      `evidence_digest is not the SHA-256 of the document (${evidenceDigest})`,
    );
  }
  const manifestDigest = await canonicalDigest(bundle.manifest);
  if (!isDigest(bundle.manifest_digest) || bundle.manifest_digest !== manifestDigest) {
    throw evidenceError(
      'manifest_digest',
      `manifest_digest is not the SHA-256 of the manifest's canonical JSON (${manifestDigest})`,
    );
  }
  return { bundle, document, nonce, observedAt };
}

/** What {@link buildEvidenceBundle} needs: what a probe saw. */
export interface EvidenceInput {
  targetId: string;
  /** The COSE_Sign1 bytes of the attestation document. */
  document: Uint8Array;
  /** The 32-byte nonce sent. */
  nonce: Uint8Array;
  /** When the response was observed; written to the second. */
  observedAt: Date;
  /** The manifest the target served (use `parseStrictJson` on its text to keep numbers exact). */
  manifest: JsonValue;
}

/**
 * Build an evidence bundle of what a probe saw, and its text byte for byte as Canary writes
 * bundles (`serde_json::to_string_pretty` plus a newline, as in the published vector).
 *
 * @example
 * ```ts
 * const { text } = await buildEvidenceBundle({ targetId: 'web', document, nonce, observedAt: new Date(), manifest: {} });
 * await writeFile('evidence.json', text);
 * ```
 */
export async function buildEvidenceBundle(
  input: EvidenceInput,
): Promise<{ bundle: EvidenceBundle; text: string }> {
  if (input.nonce.length !== 32) throw new EnclaveVerifyError('ERR_USAGE', 'a Canary nonce is 32 bytes');
  if (input.document.length === 0)
    throw new EnclaveVerifyError('ERR_USAGE', 'the attestation document is empty');
  if (!isIdentifier(input.targetId))
    throw new EnclaveVerifyError('ERR_USAGE', 'the target id must be an identifier of A-Z a-z 0-9 _ -');
  canonicalJson(input.manifest); // refuses values JSON cannot hold before anything is written
  const bundle: EvidenceBundle = {
    protocol: EVIDENCE_PROTOCOL,
    target_id: input.targetId,
    document: toBase64(input.document),
    nonce: toBase64(input.nonce),
    observed_at: canonicalSecondTime(input.observedAt),
    evidence_digest: await sha256Digest(input.document),
    manifest: input.manifest,
    manifest_digest: await canonicalDigest(input.manifest),
  };
  return { bundle, text: evidenceBundleText(bundle) };
}

/**
 * The text of a bundle as Canary writes it: struct members in order, the manifest's members
 * sorted (serde_json's map), two-space indent, a final newline.
 *
 * @example
 * ```ts
 * evidenceBundleText(parsed.bundle) === vectorFileText; // true for the published vector
 * ```
 */
export function evidenceBundleText(bundle: EvidenceBundle): string {
  const lines = FIELDS.map((name) => {
    const v = bundle[name];
    const text = name === 'manifest' ? prettyJson(v, { sortObjects: true, indent: '  ' }) : canonicalJson(v);
    return `  "${name}": ${text}`;
  });
  return `{\n${lines.join(',\n')}\n}\n`;
}

/** Options of {@link replayEvidence}. */
export interface ReplayOptions {
  /** The PCRs the target must have (0, 1 and 2 at least); never taken from the bundle. */
  expectedPcrs: ExpectedPcrsInput;
  /** Trust anchors; default the pinned AWS Nitro root G1. */
  roots?: readonly TrustedRootInput[];
  cache?: ChainCache;
}

/** The outcome of a replay, in Canary's terms and ours. */
export interface EvidenceReplay {
  ok: boolean;
  /** Canary's reason: ALL_CHECKS_PASSED or the definitive failure. */
  reason: Exclude<DefinitiveReason, 'TLS_BINDING_MISMATCH'>;
  /** Our error code when not ok (e.g. `ERR_PCR_MISMATCH`). */
  code?: ErrorCode;
  message?: string;
  /** The full verification report at `observed_at`. */
  report: VerificationReport;
}

const CHAIN_CODES: readonly ErrorCode[] = [
  'ERR_CHAIN_UNTRUSTED',
  'ERR_CHAIN_INVALID',
  'ERR_CERT_EXPIRED',
  'ERR_ROOT_PIN_MISMATCH',
];

/**
 * Replay a bundle: verify its document at `observed_at` (certificate chain to the trusted root,
 * every certificate valid then, COSE ES384, nonce == the bundle's nonce, PCR0/1/2 == expected)
 * and map the outcome to Canary's reasons: chain -> INVALID_CERTIFICATE_CHAIN, COSE ->
 * INVALID_SIGNATURE, nonce -> NONCE_MISMATCH, an all-zero expected or observed PCR ->
 * DEBUG_OR_ZERO_PCR, PCR -> PCR_MISMATCH, undecodable -> MALFORMED_EVIDENCE. The checks are
 * judged in Canary's order (nonce before PCRs). Document time is not judged (Canary does not).
 *
 * @example
 * ```ts
 * const replay = await replayEvidence(parsed, { expectedPcrs: { 0: pcr0, 1: pcr1, 2: pcr2 } });
 * replay.reason; // 'ALL_CHECKS_PASSED'
 * ```
 */
export async function replayEvidence(
  parsed: ParsedEvidenceBundle,
  options: ReplayOptions,
): Promise<EvidenceReplay> {
  const expected = normalizeExpectedPcrs(options.expectedPcrs);
  for (const i of [0, 1, 2]) {
    if (!expected.has(i)) {
      throw new EnclaveVerifyError(
        'ERR_USAGE',
        `expected PCR${i} is missing: replaying evidence needs PCR0, PCR1 and PCR2`,
      );
    }
  }
  const report = await checkAttestation(parsed.document, {
    currentDate: parsed.observedAt,
    nonce: parsed.nonce,
    expectedPcrs: expected,
    ...(options.roots ? { trustedRoots: options.roots } : {}),
    ...(options.cache ? { cache: options.cache } : {}),
    // Canary judges no document time: observed_at is only the certificate validation time.
    clockSkewMs: Number.MAX_SAFE_INTEGER,
  });
  const zeroExpected = [0, 1, 2].some((i) => expected.get(i)!.some((v) => v.every((b) => b === 0)));
  if (report.ok && !zeroExpected) return { ok: true, reason: 'ALL_CHECKS_PASSED', report };
  const failed = (code: ErrorCode) => report.checks.find((c) => !c.ok && c.code === code);
  const trust =
    report.error &&
    report.checks.find(
      (c) => !c.ok && (c.name === 'parse' || c.name.startsWith('chain') || c.name === 'signature'),
    );
  let reason: EvidenceReplay['reason'];
  let code: ErrorCode;
  let message: string;
  if (trust) {
    code = trust.code!;
    message = trust.detail;
    reason =
      trust.name === 'parse'
        ? 'MALFORMED_EVIDENCE'
        : trust.name === 'signature'
          ? 'INVALID_SIGNATURE'
          : 'INVALID_CERTIFICATE_CHAIN';
    if (CHAIN_CODES.includes(code)) reason = 'INVALID_CERTIFICATE_CHAIN';
  } else if (failed('ERR_NONCE_MISMATCH')) {
    reason = 'NONCE_MISMATCH';
    code = 'ERR_NONCE_MISMATCH';
    message = failed('ERR_NONCE_MISMATCH')!.detail;
  } else if (zeroExpected || failed('ERR_DEBUG_MODE')) {
    reason = 'DEBUG_OR_ZERO_PCR';
    code = 'ERR_DEBUG_MODE';
    message = zeroExpected
      ? 'an expected PCR is all zero: that describes a debug enclave, which proves nothing'
      : failed('ERR_DEBUG_MODE')!.detail;
  } else if (failed('ERR_PCR_MISMATCH')) {
    reason = 'PCR_MISMATCH';
    code = 'ERR_PCR_MISMATCH';
    message = failed('ERR_PCR_MISMATCH')!.detail;
  } else {
    // Any other policy failure would be ours, not Canary's; report it as the evidence being unusable.
    reason = 'MALFORMED_EVIDENCE';
    code = report.error?.code ?? 'ERR_DOCUMENT_INVALID';
    message = report.error?.message ?? 'the document failed a check';
  }
  return { ok: false, reason, code, message, report };
}
