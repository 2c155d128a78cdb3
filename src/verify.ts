/**
 * The verifier: one entry point that reads as the list of checks it performs, in order.
 *
 *   parse -> chain.path -> chain.constraints -> chain.signatures -> chain.validity -> signature
 *   [-> chain.revocation] -> [kind] -> debug -> pcrs -> nonce -> user_data -> public_key -> freshness
 *
 * Trust checks stop at the first failure (nothing after an untrusted step means anything); policy
 * checks all run so a report can show every mismatch, and the first failing one gives the code.
 * The five signature checks (4 certificate links, COSE) start together as soon as the path is
 * known; the steps still read their answers in this order, so reports and codes do not depend on
 * which finishes first.
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
  startPathSignatures,
  summarizePath,
} from './trust/chain.js';
import { verifyCoseSign1 } from './trust/cose-signature.js';
import {
  type CertificateRevocation,
  describeRevocation,
  type RevocationOptions,
} from './trust/revocation-status.js';
import { loadTrustedRoots, type TrustedRootInput } from './trust/roots.js';
import { checkDurationMs } from './util/duration.js';

export type { PcrComparison, VerificationCheck } from './policy/checks.js';
export type { ChainCertificate } from './trust/chain.js';
export type {
  CertificateRevocation,
  RevocationOptions,
  RevocationStatus,
} from './trust/revocation-status.js';

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
  /** Largest accepted age of the document at the verification time, in ms (non-negative, inclusive). */
  maxAgeMs?: number;
  /** How far in the future a document may be dated, in ms (default 60 s). It never widens `maxAgeMs`. */
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
  /**
   * Check every certificate against the CRLs its issuer publishes (`true` for the defaults, or
   * {@link RevocationOptions}: `require`, offline `crls`, `transport`, `store`...). A revoked
   * certificate fails with `ERR_CERT_REVOKED`; a status that could not be learnt is reported as
   * `unavailable` and fails only with `require` (`ERR_REVOCATION_UNAVAILABLE`). Default: off.
   */
  checkRevocation?: boolean | RevocationOptions;
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
  /** Revocation status per chain certificate (leaf first), when `checkRevocation` ran. */
  revocation?: CertificateRevocation[];
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

/**
 * The `chain.revocation` check from the statuses; throws `ERR_CERT_REVOKED` for a revoked
 * certificate and, when required, `ERR_REVOCATION_UNAVAILABLE` for a status that could not be
 * learnt. Otherwise unavailable statuses are named in the detail and the check is marked
 * `incomplete`, so no report shows them as passed.
 */
function revocationCheck(statuses: CertificateRevocation[], required: boolean): VerificationCheck {
  const revoked = statuses.find((s) => s.status === 'revoked');
  if (revoked) {
    throw new EnclaveVerifyError(
      'ERR_CERT_REVOKED',
      `certificate '${revoked.subject}' (serial ${revoked.serial}) was revoked at ${revoked.revokedAt?.toISOString()}` +
        `${revoked.revocationReason ? ` (${revoked.revocationReason})` : ''} according to the CRL ${revoked.crl?.url ?? 'given'}` +
        ` issued ${revoked.crl?.thisUpdate.toISOString()}; do not trust this enclave`,
      {
        details: {
          subject: revoked.subject,
          serial: revoked.serial,
          revokedAt: revoked.revokedAt?.toISOString(),
          ...(revoked.revocationReason ? { reason: revoked.revocationReason } : {}),
          ...(revoked.crl?.url ? { crl: revoked.crl.url } : {}),
        },
      },
    );
  }
  const unavailable = statuses.filter((s) => s.status === 'unavailable');
  const good = statuses.filter((s) => s.status === 'good').length;
  if (unavailable.length > 0) {
    const list = unavailable.map((s) => `'${s.subject}' [${s.code}]`).join(', ');
    if (required) {
      throw new EnclaveVerifyError(
        'ERR_REVOCATION_UNAVAILABLE',
        `the revocation status of ${unavailable.length} certificate(s) could not be learnt and revocation checking is required: ${unavailable.map((s) => `'${s.subject}' ${describeRevocation(s)}`).join('; ')}`,
        {
          details: {
            unavailable: unavailable.map((s) => ({ subject: s.subject, code: s.code, reason: s.reason })),
          },
        },
      );
    }
    return {
      name: 'chain.revocation',
      ok: true,
      incomplete: true,
      detail: `NOT CHECKED for ${unavailable.length} certificate(s) (${good} good): ${list}; see the chain for why`,
    };
  }
  const none = statuses.length - good;
  return {
    name: 'chain.revocation',
    ok: true,
    detail: `${good} certificate(s) not revoked per their issuers' CRLs; ${none} name no CRL (trust anchor, short-lived)`,
  };
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
  const clockSkewMs = checkDurationMs('clockSkewMs', options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS, {
    timer: false,
  });
  if (options.maxAgeMs !== undefined) checkDurationMs('maxAgeMs', options.maxAgeMs, { timer: false });
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
    // The five signature checks (4 links and the COSE signature) need nothing from each other or
    // from the rules in between, so they all start now; each step below still awaits its own
    // answer in the order of the report, and the first failure keeps its code.
    const coseVerified = leaf
      .key()
      .then((key) => (key ? verifyCoseSign1(envelope, key, cache.verifyEs384) : false));
    const bundle = document.cabundle.map((der, i) => cache.entry(der, `cabundle[${i}]`));
    const { path, rootCandidates } = buildPath(leaf, bundle, roots);
    startPathSignatures(rootCandidates.length === 1 ? [...path, rootCandidates[0]!] : path);
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
    if (!(await coseVerified)) {
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
    if (options.checkRevocation) {
      // Last trust step: it may go to the network, which a forged document should not cause.
      step = 'chain.revocation';
      const revocation = options.checkRevocation === true ? {} : options.checkRevocation;
      // Loaded on demand: verifications without revocation (and the web page) never carry the
      // CRL reader and downloader.
      const { checkPathRevocation } = await import('./trust/revocation.js');
      report.revocation = await checkPathRevocation(full, atMs, revocation, cache.crls, clockSkewMs);
      checks.push(revocationCheck(report.revocation, revocation.require === true));
    }
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
