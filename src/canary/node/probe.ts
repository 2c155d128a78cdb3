/**
 * One probe of a Canary target: resolve and pin the address, send a fresh nonce through the
 * deployment client (`probeDeployment`: chain, COSE signature, nonce, expected PCR0/1/2, debug,
 * TLS binding on the very connection), then name the outcome with Canary's reasons.
 */
import { parseTlsBinding } from '../../deployment/tls-binding.js';
import type { DeploymentTransport } from '../../deployment/transport.js';
import { probeDeployment } from '../../deployment/verify-deployment.js';
import { EnclaveVerifyError, type ErrorCode, isEnclaveVerifyError } from '../../errors.js';
import type { ChainCache } from '../../trust/cache.js';
import type { TrustedRootInput } from '../../trust/roots.js';
import { toHex } from '../../util/bytes.js';
import { sha256 } from '../../util/digest.js';
import { parseStrictJson } from '../jcs.js';
import type { PcrTriple } from '../observation.js';
import type { AttemptReason } from '../state.js';
import { type NetworkPolicy, probeTransport } from './network.js';

/** What the probe needs of a configured target. */
export interface ProbeTarget {
  id: string;
  attestation_url: string;
  e2e_mode?: 'tls' | undefined;
  expected_pcrs: PcrTriple<string>;
}

/** Options of {@link probeTarget}. */
export interface ProbeOptions {
  network: NetworkPolicy;
  /** Trust anchors (default: the pinned AWS root). */
  trustedRoots?: readonly TrustedRootInput[];
  /** Whole-request timeout (default 15 s, as canaryctl). */
  timeoutMs?: number;
  /** Clock (default the system's). */
  now?: () => Date;
  cache?: ChainCache;
  /** For tests: replace the pinned transport. */
  transport?: (url: URL) => Promise<DeploymentTransport>;
  signal?: AbortSignal;
}

/** The TLS block of a tls-bound statement. */
export interface TlsObservation {
  attested_mode: string;
  attested_domain: string;
  attested_certfp: string;
  observed_certfp: string;
}

/** Everything one probe learnt. */
export interface ProbeResult {
  reason: AttemptReason;
  /** When the request started (the verification time), whole seconds. */
  attemptedAt: Date;
  /** The evidence time of a definitive result (= attemptedAt); undefined for transport failures. */
  observedAt: Date | undefined;
  latencyMs: number | null;
  nonce: Uint8Array;
  /** The decoded document (the evidence), when one was received. */
  document: Uint8Array | undefined;
  /** Whether the response carried a `manifest` member, and its value as sent. */
  hasManifest: boolean;
  manifest: unknown;
  /** Chain + COSE signature verified; nonce verified. */
  authenticated: boolean;
  nonceVerified: boolean;
  observedPcrs: PcrTriple<string> | null;
  tls: TlsObservation | undefined;
  /** The failure, for logs and the status page. */
  error: EnclaveVerifyError | undefined;
}

/** Documents carry our fresh nonce, which proves freshness; their own timestamp may lag a little. */
const MAX_DOCUMENT_AGE_MS = 10 * 60_000;

function definitiveFor(code: ErrorCode): AttemptReason | undefined {
  switch (code) {
    case 'ERR_CHAIN_UNTRUSTED':
    case 'ERR_CHAIN_INVALID':
    case 'ERR_CERT_EXPIRED':
    case 'ERR_ROOT_PIN_MISMATCH':
      return 'INVALID_CERTIFICATE_CHAIN';
    case 'ERR_SIGNATURE_INVALID':
      return 'INVALID_SIGNATURE';
    case 'ERR_NONCE_MISMATCH':
      return 'NONCE_MISMATCH';
    case 'ERR_PCR_MISMATCH':
      return 'PCR_MISMATCH';
    case 'ERR_DEBUG_MODE':
      return 'DEBUG_OR_ZERO_PCR';
    case 'ERR_TLS_BINDING':
      return 'TLS_BINDING_MISMATCH';
    case 'ERR_INPUT_FORMAT':
    case 'ERR_INPUT_TOO_LARGE':
    case 'ERR_CBOR_MALFORMED':
    case 'ERR_COSE_MALFORMED':
    case 'ERR_COSE_ALG':
    case 'ERR_DOCUMENT_INVALID':
    case 'ERR_RESPONSE_FORMAT':
    // A document with our fresh nonce but a timestamp far off contradicts itself.
    case 'ERR_STALE':
    case 'ERR_FUTURE':
      return 'MALFORMED_EVIDENCE';
    default:
      return undefined;
  }
}

/**
 * Canary's reason for a failed probe of the deployment client. Transport failures (no answer,
 * a non-2xx status, a redirect, an oversized body, an error body) are not verdicts.
 *
 * @example
 * ```ts
 * canaryReason(new EnclaveVerifyError('ERR_PCR_MISMATCH', 'x')); // 'PCR_MISMATCH'
 * canaryReason(new EnclaveVerifyError('ERR_TIMEOUT', 'x')); // 'TIMEOUT'
 * ```
 */
export function canaryReason(error: unknown, status?: number): AttemptReason {
  if (!isEnclaveVerifyError(error)) return 'INTERNAL_ERROR';
  const definitive = definitiveFor(error.code);
  if (definitive) return definitive;
  switch (error.code) {
    case 'ERR_TIMEOUT':
      return 'TIMEOUT';
    case 'ERR_HTTP':
      return status === undefined ? 'UNREACHABLE' : 'HTTP_ERROR';
    case 'ERR_HTTP_REDIRECT':
    case 'ERR_RESPONSE_TOO_LARGE':
    case 'ERR_ENDPOINT_ERROR':
      return 'HTTP_ERROR';
    default:
      return 'INTERNAL_ERROR';
  }
}

function wholeSecond(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** Transport wrapper that keeps the raw body, to read the manifest exactly as sent. */
function capturing(
  inner: DeploymentTransport,
  seen: { body?: Uint8Array; peerCertificate?: Uint8Array | undefined },
): DeploymentTransport {
  return async (request) => {
    const response = await inner(request);
    seen.body = response.body;
    seen.peerCertificate = response.peerCertificate;
    return response;
  };
}

function rawManifest(body: Uint8Array | undefined): { has: boolean; value: unknown } {
  if (!body) return { has: false, value: null };
  try {
    // The strict parser keeps big integers exact, so manifest_digest matches Canary's.
    const json = parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(body)) as Record<
      string,
      unknown
    >;
    if (json && typeof json === 'object' && Object.hasOwn(json, 'manifest')) {
      return { has: true, value: json.manifest };
    }
  } catch {
    // The deployment client has already named this failure.
  }
  return { has: false, value: null };
}

/**
 * Probe a target once; never throws (a failure of our own is `INTERNAL_ERROR`).
 *
 * @example
 * ```ts
 * const r = await probeTarget(config.targets[0], { network: { ca: [pem] } });
 * r.reason; // 'ALL_CHECKS_PASSED'
 * ```
 */
export async function probeTarget(target: ProbeTarget, options: ProbeOptions): Promise<ProbeResult> {
  const clock = options.now ?? (() => new Date());
  // Canary's evidence time has whole seconds; verify at exactly that instant so a replay of the
  // stored bundle at its observed_at sees the same certificate validity.
  const attemptedAt = wholeSecond(clock());
  const result: ProbeResult = {
    reason: 'INTERNAL_ERROR',
    attemptedAt,
    observedAt: undefined,
    latencyMs: null,
    nonce: new Uint8Array(0),
    document: undefined,
    hasManifest: false,
    manifest: null,
    authenticated: false,
    nonceVerified: false,
    observedPcrs: null,
    tls: undefined,
    error: undefined,
  };
  const url = new URL(target.attestation_url);
  let transport: DeploymentTransport;
  try {
    transport = await (options.transport ?? ((u: URL) => probeTransport(u, options.network)))(url);
  } catch (error) {
    result.error = isEnclaveVerifyError(error)
      ? error
      : new EnclaveVerifyError('ERR_HTTP', String((error as Error)?.message ?? error));
    result.reason = canaryReason(result.error);
    return result;
  }
  const seen: { body?: Uint8Array; peerCertificate?: Uint8Array | undefined } = {};
  const tlsTarget = target.e2e_mode === 'tls';
  try {
    const probe = await probeDeployment(target.attestation_url, {
      transport: capturing(transport, seen),
      expectedPcrs: {
        0: target.expected_pcrs['0'],
        1: target.expected_pcrs['1'],
        2: target.expected_pcrs['2'],
      },
      trustedRoots: options.trustedRoots,
      allowDebug: false,
      maxAgeMs: MAX_DOCUMENT_AGE_MS,
      timeoutMs: options.timeoutMs ?? 15_000,
      requireTlsBinding: tlsTarget,
      now: () => attemptedAt,
      ...(options.cache ? { cache: options.cache } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    result.nonce = probe.nonce;
    result.latencyMs = probe.latencyMs ?? null;
    result.document = probe.document;
    const manifest = rawManifest(seen.body);
    result.hasManifest = manifest.has;
    result.manifest = manifest.value;
    const checks = probe.verification?.checks ?? [];
    const passed = (name: string): boolean => checks.some((c) => c.name === name && c.ok);
    result.authenticated = passed('signature');
    result.nonceVerified = passed('nonce');
    if (result.authenticated && result.nonceVerified && probe.verification?.document) {
      const pcrs = probe.verification.document.pcrs;
      const hex = (i: number): string => toHex(pcrs.get(i) ?? new Uint8Array(0));
      result.observedPcrs = { '0': hex(0), '1': hex(1), '2': hex(2) };
    }
    if (tlsTarget && result.authenticated) {
      result.tls = await tlsObservation(probe.verification?.document?.userData, seen.peerCertificate);
    }
    if (probe.ok) {
      // A tls-bound VERIFIED statement must carry a well-formed binding; without one it is not.
      result.reason = tlsTarget && !result.tls ? 'TLS_BINDING_MISMATCH' : 'ALL_CHECKS_PASSED';
    } else if (probe.verification && !probe.verification.ok) {
      // Policy checks all ran: name the failure in Canary's order (nonce, zero PCRs, PCRs).
      const failed = (name: string): boolean => checks.some((c) => c.name === name && !c.ok);
      if (!result.authenticated) result.reason = canaryReason(probe.verification.error);
      else if (failed('nonce')) result.reason = 'NONCE_MISMATCH';
      else if (failed('debug')) result.reason = 'DEBUG_OR_ZERO_PCR';
      else if (failed('pcrs')) result.reason = 'PCR_MISMATCH';
      else result.reason = canaryReason(probe.verification.error);
    } else if (isEnclaveVerifyError(probe.error, 'ERR_TLS_BINDING') && !tlsTarget) {
      // A pcr-match target makes no TLS claim; Canary does not judge its channel.
      result.reason = 'ALL_CHECKS_PASSED';
    } else {
      result.reason = canaryReason(probe.error, probe.status);
    }
    result.error = result.reason === 'ALL_CHECKS_PASSED' ? undefined : probe.error;
    if (result.reason !== 'ALL_CHECKS_PASSED' && !result.error) result.error = probe.verification?.error;
  } catch (error) {
    result.error = isEnclaveVerifyError(error)
      ? error
      : new EnclaveVerifyError('ERR_IO', `internal failure: ${(error as Error)?.message ?? error}`);
    result.reason = 'INTERNAL_ERROR';
  }
  if (result.reason === 'MALFORMED_EVIDENCE' || isDefinitive(result.reason)) result.observedAt = attemptedAt;
  return result;
}

function isDefinitive(reason: AttemptReason): boolean {
  return !['HTTP_ERROR', 'TIMEOUT', 'UNREACHABLE', 'INTERNAL_ERROR'].includes(reason);
}

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * The statement's `tls` block, read from the attested user_data and the leaf of the connection
 * that carried the answer; only when well formed (Canary omits it otherwise).
 */
async function tlsObservation(
  userData: Uint8Array | null | undefined,
  peerCertificate: Uint8Array | undefined,
): Promise<TlsObservation | undefined> {
  if (!peerCertificate) return undefined;
  let claim: ReturnType<typeof parseTlsBinding>;
  try {
    claim = parseTlsBinding(userData);
  } catch {
    return undefined;
  }
  if (!claim || !('certfp' in claim)) return undefined;
  if (!/^[a-z0-9-]+$/.test(claim.mode) || !DNS_NAME.test(claim.domain)) return undefined;
  return {
    attested_mode: claim.mode,
    attested_domain: claim.domain,
    attested_certfp: claim.certfp,
    observed_certfp: toHex(await sha256(peerCertificate)),
  };
}
