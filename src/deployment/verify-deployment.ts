/**
 * Verify a running enclave through its attestation endpoint (SPEC 3.2), in any runtime with
 * fetch: fresh nonce -> POST -> document -> `verifyAttestation` at the current time with the nonce
 * required, the timestamp fresh and the kind `enclave` -> TLS binding -> manifest (display only).
 */
import { EnclaveVerifyError, isEnclaveVerifyError } from '../errors.js';
import { normalizeExpectedPcrs } from '../policy/expected-pcrs.js';
import { toBase64, toHex, utf8 } from '../util/bytes.js';
import { sha256 } from '../util/digest.js';
import { checkDurationMs } from '../util/duration.js';
import {
  checkAttestation,
  type VerificationReport,
  type VerificationResult,
  type VerifyOptions,
} from '../verify.js';
import { describeManifest, type ManifestView } from './manifest.js';
import { attestationUrl, parseEndpointResponse } from './response.js';
import { checkTlsBinding, type TlsBindingResult } from './tls-binding.js';
import { type DeploymentTransport, fetchTransport, MAX_RESPONSE_BYTES } from './transport.js';

/** Default maximum age of the document's timestamp (the CLI's `--max-age 5m`). */
export const DEFAULT_MAX_AGE_MS = 5 * 60_000;
/** Default timeout of one request, body included. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Options of {@link verifyDeployment} and {@link probeDeployment}. */
export interface VerifyDeploymentOptions
  extends Pick<
    VerifyOptions,
    'trustedRoots' | 'expectedPcrs' | 'allowDebug' | 'clockSkewMs' | 'cache' | 'checkRevocation'
  > {
  /** Largest accepted age of the document's timestamp; default 5 minutes. */
  maxAgeMs?: number;
  /** Whole-request timeout in ms (connect, send, receive the body); default 30 s, at most 2^31-1. */
  timeoutMs?: number;
  /** How to send the request; default {@link fetchTransport} (no TLS certificate visible). */
  transport?: DeploymentTransport;
  /** Fail with `ERR_TLS_BINDING` unless the binding status is `passed`. */
  requireTlsBinding?: boolean;
  /** Clock, for tests; default `() => new Date()`. */
  now?: () => Date;
  /** Aborts the probe early (e.g. Ctrl-C of a watch loop). */
  signal?: AbortSignal;
}

/** Everything a report or audit record needs about one probe, successful or not. */
export interface DeploymentProbe {
  ok: boolean;
  /** The failure when `ok` is false. */
  error: EnclaveVerifyError | undefined;
  /** The URL as given and the endpoint actually requested. */
  input: string;
  endpoint: string;
  /** The fresh nonce sent, and when the request started (the verification time). */
  nonce: Uint8Array;
  checkedAt: Date;
  /** Milliseconds from sending the request to having the whole body. */
  latencyMs: number | undefined;
  /** HTTP status, when a response came. */
  status: number | undefined;
  /** The document bytes (the evidence), once received, and the JSON key that carried them. */
  document: Uint8Array | undefined;
  documentField: 'document' | 'attestation_document' | undefined;
  /** SHA-256 (hex) of the document bytes and of the whole response body. */
  documentSha256: string | undefined;
  responseSha256: string | undefined;
  /** The full verification report (checks, chain, PCR table), once a document was received. */
  verification: VerificationReport | undefined;
  /** TLS binding outcome, when it was reached. */
  tlsBinding: TlsBindingResult | undefined;
  /** Unsigned build provenance, display only. */
  manifest: ManifestView | undefined;
  /** The options that shaped the checks (for reports). */
  maxAgeMs: number;
  timeoutMs: number;
}

/** A probe that passed: every field that can be set, is. */
export type DeploymentResult = DeploymentProbe & {
  ok: true;
  error: undefined;
  document: Uint8Array;
  verification: VerificationResult;
  tlsBinding: TlsBindingResult;
};

function asVerifyError(
  error: unknown,
  timedOut: boolean,
  endpoint: string,
  timeoutMs: number,
): EnclaveVerifyError {
  if (timedOut) {
    return new EnclaveVerifyError(
      'ERR_TIMEOUT',
      `${endpoint} did not answer within ${timeoutMs} ms; check that the enclave is up, or raise --timeout`,
      { cause: error, details: { url: endpoint, timeoutMs } },
    );
  }
  if (isEnclaveVerifyError(error)) return error;
  const message = (error as Error)?.message ?? String(error);
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  const detail = typeof cause?.message === 'string' ? `${message}: ${cause.message}` : message;
  return new EnclaveVerifyError(
    'ERR_HTTP',
    `request to ${endpoint} failed: ${detail}; check the URL, that the enclave is reachable, and (in a browser) that it allows CORS`,
    { cause: error, details: { url: endpoint } },
  );
}

/**
 * Probe a deployment once and return everything learned, never throwing for a failed check
 * (the failure is in `error`). Throws only for unusable arguments (`ERR_USAGE`).
 * {@link verifyDeployment} is the throwing variant.
 *
 * @example
 * ```ts
 * const probe = await probeDeployment('https://enclave.example', { expectedPcrs });
 * if (!probe.ok) console.log(probe.error?.code);
 * ```
 */
export async function probeDeployment(
  input: string,
  options: VerifyDeploymentOptions = {},
): Promise<DeploymentProbe> {
  const url = attestationUrl(input);
  const endpoint = url.toString();
  // Bounded: a timeout past 2^31-1 ms would fire at once (setTimeout overflows).
  const maxAgeMs = checkDurationMs('maxAgeMs', options.maxAgeMs ?? DEFAULT_MAX_AGE_MS, {
    positive: true,
    timer: false,
  });
  const timeoutMs = checkDurationMs('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS, { positive: true });
  if (options.clockSkewMs !== undefined)
    checkDurationMs('clockSkewMs', options.clockSkewMs, { timer: false });
  // Unusable expectations (an empty set, a misspelled PCR key) are refused before any request.
  if (options.expectedPcrs !== undefined) normalizeExpectedPcrs(options.expectedPcrs);
  const transport = options.transport ?? fetchTransport();
  const now = options.now ?? (() => new Date());
  // A fresh CSPRNG nonce per probe: a replayed document cannot carry it.
  const nonce = crypto.getRandomValues(new Uint8Array(32));
  const checkedAt = now();
  const probe: DeploymentProbe = {
    ok: false,
    error: undefined,
    input,
    endpoint,
    nonce,
    checkedAt,
    latencyMs: undefined,
    status: undefined,
    document: undefined,
    documentField: undefined,
    documentSha256: undefined,
    responseSha256: undefined,
    verification: undefined,
    tlsBinding: undefined,
    manifest: undefined,
    maxAgeMs,
    timeoutMs,
  };

  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timeout after ${timeoutMs} ms`));
  }, timeoutMs);
  const onAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const started = performance.now();
  try {
    if (options.signal?.aborted)
      throw new EnclaveVerifyError('ERR_HTTP', 'the probe was cancelled before it started');
    let response: Awaited<ReturnType<DeploymentTransport>>;
    try {
      response = await transport({
        url: endpoint,
        body: utf8(JSON.stringify({ nonce: toBase64(nonce) })),
        signal: controller.signal,
        maxResponseBytes: MAX_RESPONSE_BYTES,
      });
    } catch (error) {
      throw asVerifyError(error, timedOut, endpoint, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
    probe.latencyMs = Math.round(performance.now() - started);
    probe.status = response.status;
    if (response.body.length > 0) probe.responseSha256 = toHex(await sha256(response.body));

    const answer = parseEndpointResponse(response, endpoint);
    probe.document = answer.document;
    probe.documentField = answer.documentField;
    probe.documentSha256 = toHex(await sha256(answer.document));
    probe.manifest = describeManifest(answer.manifest);

    const verification = await checkAttestation(answer.document, {
      trustedRoots: options.trustedRoots,
      expectedPcrs: options.expectedPcrs,
      allowDebug: options.allowDebug,
      clockSkewMs: options.clockSkewMs,
      cache: options.cache,
      checkRevocation: options.checkRevocation,
      // Without an injected clock, check at the moment the answer arrived and say "now";
      // a test clock is passed through and reported as a given time.
      currentDate: options.now ? now() : undefined,
      nonce,
      maxAgeMs,
      // This protocol is served by enclaves (Caution's bootproofd): a NitroTPM document from the
      // host would attest the parent instance's boot chain, not the enclave the TLS is bound to.
      kind: 'enclave',
    });
    probe.verification = verification;
    if (!verification.ok)
      throw verification.error ?? new EnclaveVerifyError('ERR_DOCUMENT_INVALID', 'verification failed');

    const tls = await checkTlsBinding(verification.document?.userData, url, response.peerCertificate);
    probe.tlsBinding = tls;
    if (options.requireTlsBinding && tls.status !== 'passed') {
      throw new EnclaveVerifyError(
        'ERR_TLS_BINDING',
        `a checked TLS binding was required but the binding is ${tls.status}: ${tls.summary}`,
        { details: { status: tls.status } },
      );
    }
    probe.ok = true;
  } catch (error) {
    probe.error = asVerifyError(error, false, endpoint, timeoutMs);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  return probe;
}

/**
 * Verify a running enclave: send a fresh 32-byte nonce to its attestation endpoint (a bare
 * origin means `/attestation`), verify the returned document at the current time with that
 * nonce and a fresh timestamp, check the TLS binding, and return the evidence. Throws an
 * {@link EnclaveVerifyError} on any failure (`ERR_HTTP*`, `ERR_TIMEOUT`, `ERR_RESPONSE_*`,
 * `ERR_ENDPOINT_ERROR`, `ERR_TLS_BINDING`, and every code of `verifyAttestation`).
 *
 * In browsers the TLS certificate is not visible: the binding is then `unchecked`, never
 * `passed`. In Node, pass `transport: nodeTransport()` from `enclave-verify/node` to check it.
 *
 * @example
 * ```ts
 * const result = await verifyDeployment('https://enclave.example', {
 *   expectedPcrs: parseExpectedPcrs(pcrsText),
 * });
 * console.log(result.tlsBinding.status, result.verification.document.pcrs.get(0));
 * ```
 */
export async function verifyDeployment(
  input: string,
  options: VerifyDeploymentOptions = {},
): Promise<DeploymentResult> {
  const probe = await probeDeployment(input, options);
  if (!probe.ok) throw probe.error ?? new EnclaveVerifyError('ERR_HTTP', 'the deployment check failed');
  return probe as DeploymentResult;
}
