/**
 * One verdict per Canary artifact, shared by the CLI (`canary verify-statement`,
 * `canary verify-evidence`) and the web page, so both give the same verdict and code for the
 * same input.
 */
import { EnclaveVerifyError, type ErrorCode } from '../errors.js';
import type { VerificationCheck } from '../policy/checks.js';
import type { ExpectedPcrsInput } from '../policy/expected-pcrs.js';
import type { TrustedRootInput } from '../trust/roots.js';
import { parseEvidenceBundle, replayEvidence } from './evidence.js';
import type { CanaryPublicKeys } from './keys.js';
import { verifyStatement } from './statement.js';

/** The verdict on one artifact. */
export interface ArtifactVerdict {
  ok: boolean;
  /** Null when ok. */
  code: ErrorCode | null;
  message?: string;
  /** Decoded fields (payload members, or the bundle's identity and replay reason). */
  fields: Record<string, unknown>;
  /** Attestation checks of an evidence replay. */
  checks?: VerificationCheck[];
}

function failed(e: unknown): ArtifactVerdict {
  if (!(e instanceof EnclaveVerifyError)) throw e;
  return {
    ok: false,
    code: e.code,
    message: e.message,
    fields: e.details ? { details: { ...e.details } } : {},
  };
}

/**
 * Which artifact a JSON text is, from its top-level members (not verified): a statement
 * envelope (`payload`, `signers`) or an evidence bundle (`protocol`, `document`).
 *
 * @example
 * ```ts
 * detectCanaryArtifact(text); // 'statement' | 'evidence' | undefined
 * ```
 */
export function detectCanaryArtifact(text: string): 'statement' | 'evidence' | undefined {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (v && typeof v === 'object' && 'payload' in v && 'signers' in v) return 'statement';
    if (v && typeof v === 'object' && 'document' in v && 'protocol' in v) return 'evidence';
  } catch {
    // Not JSON: neither.
  }
  return undefined;
}

/**
 * Verify a statement text with trusted keys at `now` (CANARY.md 4). A valid statement is ok
 * whatever its status; `fields.status` says which (`partial: true`, as canaryctl says).
 *
 * @example
 * ```ts
 * const v = await checkStatementArtifact(text, parseKeysDocument(keysBytes), new Date());
 * v.ok && v.fields.status === 'VERIFIED';
 * ```
 */
export async function checkStatementArtifact(
  text: string,
  keys: CanaryPublicKeys,
  now: Date,
): Promise<ArtifactVerdict> {
  try {
    const { payload } = await verifyStatement(text, keys, { now });
    return { ok: true, code: null, fields: { partial: true, ...payload } };
  } catch (e) {
    return failed(e);
  }
}

/**
 * Parse and replay an evidence bundle text against expected PCRs (CANARY.md 5). Ok only for
 * ALL_CHECKS_PASSED; `fields.reason` is Canary's reason, `code` our error code.
 *
 * @example
 * ```ts
 * const v = await checkEvidenceArtifact(text, { 0: pcr0, 1: pcr1, 2: pcr2 });
 * v.fields.reason; // 'ALL_CHECKS_PASSED'
 * ```
 */
export async function checkEvidenceArtifact(
  text: string,
  expectedPcrs: ExpectedPcrsInput,
  roots?: readonly TrustedRootInput[],
): Promise<ArtifactVerdict> {
  try {
    const parsed = await parseEvidenceBundle(text);
    const b = parsed.bundle;
    const replay = await replayEvidence(parsed, { expectedPcrs, ...(roots ? { roots } : {}) });
    const fields = {
      partial: true,
      reason: replay.reason,
      target_id: b.target_id,
      observed_at: b.observed_at,
      evidence_digest: b.evidence_digest,
      manifest_digest: b.manifest_digest,
      moduleId: replay.report.document?.moduleId ?? null,
    };
    return replay.ok
      ? { ok: true, code: null, fields, checks: replay.report.checks }
      : {
          ok: false,
          code: replay.code!,
          message: `${replay.reason}: ${replay.message ?? ''}`,
          fields,
          checks: replay.report.checks,
        };
  } catch (e) {
    return failed(e);
  }
}
