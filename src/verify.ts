/**
 * The verifier: one entry point that reads as the list of checks it performs, in order.
 *
 *   parse -> chain.path -> chain.constraints -> chain.signatures -> chain.validity -> signature
 *   -> [kind] -> debug -> pcrs -> nonce -> user_data -> public_key -> freshness
 *
 * Trust checks stop at the first failure (nothing after an untrusted step means anything); policy
 * checks all run so a report can show every mismatch, and the first failing one gives the code.
 */
import { EnclaveVerifyError, type ErrorCode } from './errors.js';
import { type ParsedAttestation, parseAttestation } from './parse/document.js';
import type { AttestationDocument, AttestationKind } from './parse/payload.js';
import {
  checkDebugMode,
  checkField,
  checkFreshness,
  checkKind,
  checkPcrs,
  comparePcrs,
  isDebugDocument,
  type PcrComparison,
  type VerificationCheck,
} from './policy/checks.js';
import { type ExpectedPcrs, type ExpectedPcrsInput, normalizeExpectedPcrs } from './policy/expected-pcrs.js';
import { ChainCache } from './trust/cache.js';
import {
  buildPath,
  type ChainCertificate,
  checkPathConstraints,
  checkPathSignatures,
  checkPathValidity,
  selectRoot,
  summarizePath,
} from './trust/chain.js';
import { verifyCoseSign1 } from './trust/cose-signature.js';
import { loadTrustedRoots, type TrustedRootInput } from './trust/roots.js';

export type { PcrComparison, VerificationCheck } from './policy/checks.js';
export type { ChainCertificate } from './trust/chain.js';

/** Default tolerance for clocks that disagree a little (documents dated slightly in the future). */
export const DEFAULT_CLOCK_SKEW_MS = 60_000;

/** Options of {@link verifyAttestation}. */
export interface VerifyOptions {
  /** Trust anchors as PEM text or DER bytes. Default: the embedded AWS Nitro Enclaves Root G1 (pinned). */
  trustedRoots?: readonly TrustedRootInput[];
  /**
   * Time at which certificates must be valid: a Date, or `'document'` for the document's own
   * timestamp (for audits of past evidence; reports say so). Default: now.
   */
  currentDate?: Date | 'document';
  /** Allowed PCR values per index (see `normalizeExpectedPcrs` for the accepted shapes). */
  expectedPcrs?: ExpectedPcrs | ExpectedPcrsInput;
  /** The nonce the document must carry. */
  nonce?: Uint8Array;
  /** The user data the document must carry. */
  userData?: Uint8Array;
  /** The public key the document must carry. */
  publicKey?: Uint8Array;
  /** Largest accepted age of the document at the verification time, in ms. */
  maxAgeMs?: number;
  /** Tolerance for clock differences, in ms (default 60 s). */
  clockSkewMs?: number;
  /** Accept debug-mode enclaves (PCR0..2 zero). Default false. NitroTPM documents have no debug mode. */
  allowDebug?: boolean;
  /**
   * Require one kind of document: `enclave` (a Nitro Enclave, `pcrs`) or `nitrotpm` (an EC2
   * instance's NitroTPM, `nitrotpm_pcrs`); another kind fails with `ERR_KIND_MISMATCH`.
   * Default: either kind, which `document.kind` and the report name.
   */
  kind?: AttestationKind;
  /** Remember verified certificates across calls (see {@link ChainCache}). */
  cache?: ChainCache;
}

/** Where the verification time came from. */
export type TimeSource = 'now' | 'given' | 'document';

/** Everything learnt while checking a document, whether it passed or not. */
export interface VerificationReport {
  /** True only when every check passed. */
  ok: boolean;
  /** The first failure, when `ok` is false. */
  error?: EnclaveVerifyError;
  /** The decoded document (absent when it could not be parsed). Trust it only when `ok`. */
  document?: AttestationDocument;
  /** Whether the envelope carried COSE tag 18. */
  tagged?: boolean;
  /** The time certificates were checked against. */
  verifiedAt: Date;
  timeSource: TimeSource;
  /** Leaf first, trust anchor last (empty when the path could not be built). */
  chain: ChainCertificate[];
  /** Each check in the order run. */
  checks: VerificationCheck[];
  /** PCR table: every index of the document and of the expectation. */
  pcrs: PcrComparison[];
  /** True for debug-mode enclaves. */
  debug: boolean;
}

/** A successful verification. */
export interface VerificationResult extends VerificationReport {
  ok: true;
  document: AttestationDocument;
}

function resolveTime(currentDate: VerifyOptions['currentDate'], doc: AttestationDocument | undefined) {
  if (currentDate === 'document') {
    return doc
      ? { at: doc.timestamp, source: 'document' as const }
      : { at: new Date(Number.NaN), source: 'document' as const };
  }
  if (currentDate instanceof Date) {
    if (Number.isNaN(currentDate.getTime())) {
      throw new EnclaveVerifyError(
        'ERR_USAGE',
        'currentDate is an invalid Date; give a valid time or "document"',
      );
    }
    return { at: currentDate, source: 'given' as const };
  }
  if (currentDate !== undefined) {
    throw new EnclaveVerifyError('ERR_USAGE', 'currentDate must be a Date or "document"');
  }
  return { at: new Date(), source: 'now' as const };
}

function failedCheck(name: string, e: EnclaveVerifyError): VerificationCheck {
  return { name, ok: false, detail: e.message, code: e.code };
}

/**
 * Check a document and report every step, without throwing for a rejected document (it throws only
 * for unusable options). `verifyAttestation` is the same with a throw on failure; use this one to
 * display a full report.
 *
 * @example
 * ```ts
 * const report = await checkAttestation(bytes, { currentDate: 'document', expectedPcrs: { 0: pcr0Hex } });
 * for (const c of report.checks) console.log(c.ok ? 'ok  ' : 'FAIL', c.name, c.detail);
 * ```
 */
export async function checkAttestation(
  bytes: Uint8Array,
  options: VerifyOptions = {},
): Promise<VerificationReport> {
  const expected =
    options.expectedPcrs === undefined ? undefined : normalizeExpectedPcrs(options.expectedPcrs);
  const clockSkewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  if (!(clockSkewMs >= 0) || (options.maxAgeMs !== undefined && !(options.maxAgeMs >= 0))) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      'clockSkewMs and maxAgeMs must be non-negative numbers of milliseconds',
    );
  }
  if (options.kind !== undefined && options.kind !== 'enclave' && options.kind !== 'nitrotpm') {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `kind must be 'enclave' or 'nitrotpm', not '${String(options.kind)}'`,
    );
  }
  const cache = options.cache ?? new ChainCache({ maxCertificates: 16 });
  resolveTime(options.currentDate, undefined); // reject bad options before doing any work
  const checks: VerificationCheck[] = [];
  const report: VerificationReport = {
    ok: false,
    verifiedAt: new Date(Number.NaN),
    timeSource: 'now',
    chain: [],
    checks,
    pcrs: [],
    debug: false,
  };

  let parsed: ParsedAttestation;
  try {
    parsed = parseAttestation(bytes);
  } catch (e) {
    if (!(e instanceof EnclaveVerifyError)) throw e;
    checks.push(failedCheck('parse', e));
    const time = resolveTime(options.currentDate, undefined);
    return { ...report, error: e, verifiedAt: time.at, timeSource: time.source };
  }
  const { document, envelope } = parsed;
  const time = resolveTime(options.currentDate, document);
  const atMs = time.at.getTime();
  Object.assign(report, {
    document,
    tagged: envelope.tagged,
    verifiedAt: time.at,
    timeSource: time.source,
    pcrs: comparePcrs(document, expected),
    debug: isDebugDocument(document),
  });
  checks.push({
    name: 'parse',
    ok: true,
    detail: `COSE_Sign1 (${envelope.tagged ? 'tag 18' : 'untagged'}), ES384, ${bytes.length} bytes`,
  });

  // Trust: each step throws a coded error; the first one ends the verification.
  let step = 'chain.path';
  try {
    const roots = await loadTrustedRoots(options.trustedRoots, options.cache);
    const leaf = cache.entry(document.certificate, 'certificate');
    const bundle = document.cabundle.map((der, i) => cache.entry(der, `cabundle[${i}]`));
    const { path, rootCandidates } = buildPath(leaf, bundle, roots);
    const root = await selectRoot(path[path.length - 1]!, rootCandidates);
    const full = [...path, root];
    report.chain = summarizePath(full);
    checks.push({
      name: step,
      ok: true,
      detail: `${full.length} certificates up to trusted root '${root.cert.subject}'`,
    });
    step = 'chain.constraints';
    checkPathConstraints(full);
    checks.push({
      name: step,
      ok: true,
      detail: 'P-384 keys, ecdsa-with-SHA384, CA flags, pathLen and keyUsage as required',
    });
    step = 'chain.signatures';
    await checkPathSignatures(full);
    checks.push({ name: step, ok: true, detail: `${full.length - 1} certificate signatures verify` });
    step = 'chain.validity';
    checkPathValidity(full, atMs);
    checks.push({
      name: step,
      ok: true,
      detail: `every certificate is valid at ${time.at.toISOString()} (${time.source})`,
    });
    step = 'signature';
    const key = await leaf.key();
    if (!key || !(await verifyCoseSign1(envelope, key))) {
      throw new EnclaveVerifyError(
        'ERR_SIGNATURE_INVALID',
        'the COSE signature does not verify with the signing certificate: the document was altered or not signed by this enclave',
      );
    }
    checks.push({
      name: step,
      ok: true,
      detail: 'ES384 signature over the payload verifies with the leaf key',
    });
  } catch (e) {
    if (!(e instanceof EnclaveVerifyError)) throw e;
    checks.push(failedCheck(step, e));
    return { ...report, error: e };
  }

  // Policy: all checks run; the first failure gives the code.
  if (options.kind !== undefined) checks.push(checkKind(document, options.kind));
  checks.push(checkDebugMode(document, options.allowDebug === true));
  if (expected) checks.push(checkPcrs(report.pcrs, document.kind));
  if (options.nonce) checks.push(checkField('nonce', document.nonce, options.nonce, 'ERR_NONCE_MISMATCH'));
  if (options.userData) {
    checks.push(checkField('user_data', document.userData, options.userData, 'ERR_USER_DATA_MISMATCH'));
  }
  if (options.publicKey) {
    checks.push(checkField('public_key', document.publicKey, options.publicKey, 'ERR_PUBLIC_KEY_MISMATCH'));
  }
  checks.push(checkFreshness(document, atMs, options.maxAgeMs, clockSkewMs));

  const failure = checks.find((c) => !c.ok);
  if (failure) {
    const e = new EnclaveVerifyError(failure.code as ErrorCode, failure.detail, {
      details: { check: failure.name },
    });
    return { ...report, error: e };
  }
  return { ...report, ok: true };
}

/**
 * Verify an attestation document (a Nitro Enclave's or an EC2 instance's NitroTPM's): strict
 * parse, certificate chain to a trusted root (the pinned AWS Nitro root by default) at
 * `currentDate`, COSE ES384 signature, then the policy (kind, debug mode, PCRs, nonce, user data,
 * public key, freshness). Resolves to the verified result or throws an `EnclaveVerifyError` with a
 * stable code; its `details.checks` lists what ran. Without `expectedPcrs` only genuineness is
 * checked, not which code runs: give the PCRs you expect.
 *
 * @example
 * ```ts
 * const result = await verifyAttestation(bytes, {
 *   nonce,
 *   expectedPcrs: { 0: pcr0Hex, 1: pcr1Hex, 2: pcr2Hex },
 *   maxAgeMs: 5 * 60_000,
 * });
 * console.log(result.document.moduleId);
 * ```
 */
export async function verifyAttestation(
  bytes: Uint8Array,
  options: VerifyOptions = {},
): Promise<VerificationResult> {
  const report = await checkAttestation(bytes, options);
  if (!report.ok) {
    const e = report.error!;
    throw new EnclaveVerifyError(e.code, e.message, {
      cause: e.cause,
      details: { ...e.details, checks: report.checks },
    });
  }
  return report as VerificationResult;
}
