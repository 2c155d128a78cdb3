/**
 * How one attestation request reaches an endpoint. The orchestrator ({@link verifyDeployment})
 * only needs status, redirect target, a size-capped body and, when the runtime can see it, the
 * TLS leaf certificate of the connection that carried the response. Browsers (fetch) cannot see
 * that certificate; the Node transport in `deployment/node/` can.
 */
import { EnclaveVerifyError } from '../errors.js';
import { readStreamCapped } from '../util/stream.js';

/** One POST of the attestation protocol, as handed to a {@link DeploymentTransport}. */
export interface AttestationRequest {
  /** Full endpoint URL (already normalised, e.g. `https://host/attestation`). */
  url: string;
  /** The JSON request body, `{"nonce":"<base64>"}`, as UTF-8 bytes. */
  body: Uint8Array;
  /** Aborted by the caller on timeout; the transport must stop all I/O when it fires. */
  signal: AbortSignal;
  /** Largest response body accepted; larger bodies fail with `ERR_RESPONSE_TOO_LARGE`. */
  maxResponseBytes: number;
}

/** What a transport saw of the response. */
export interface AttestationResponse {
  /** HTTP status; 0 for a browser's opaque redirect. */
  status: number;
  /** True when the server answered with a redirect (3xx or an opaque redirect). */
  redirect: boolean;
  /** `Location` of a redirect when the runtime exposes it. */
  location: string | undefined;
  /** The response body, at most `maxResponseBytes` long. */
  body: Uint8Array;
  /**
   * DER of the TLS leaf certificate presented on the connection that carried this response;
   * `undefined` when the runtime does not expose it (fetch) or the channel is plain HTTP.
   */
  peerCertificate: Uint8Array | undefined;
}

/** Sends one attestation request. Implementations never follow redirects. */
export type DeploymentTransport = (request: AttestationRequest) => Promise<AttestationResponse>;

/** Caution's CLI caps attestation responses at 1 MiB; so do we. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Read a byte stream into one array, failing as soon as more than `maxBytes` arrive so a hostile
 * server cannot make us buffer an unbounded body.
 *
 * @example
 * ```ts
 * const body = await readCapped(response.body!, 1024 * 1024, url);
 * ```
 */
export async function readCapped(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  url: string,
): Promise<Uint8Array> {
  return readStreamCapped(stream, maxBytes, () => tooLarge(url, maxBytes));
}

/**
 * The error for a body over the cap; shared by every transport so the message stays the same.
 *
 * @example
 * ```ts
 * throw tooLarge('https://x/attestation', 1024 * 1024);
 * ```
 */
export function tooLarge(url: string, maxBytes: number): EnclaveVerifyError {
  return new EnclaveVerifyError(
    'ERR_RESPONSE_TOO_LARGE',
    `the response of ${url} is larger than ${maxBytes} bytes; an attestation response is a few KB, so check that the URL points at the attestation endpoint`,
    { details: { url, maxBytes } },
  );
}

/**
 * A transport over `fetch` (browsers, Node 20, Deno, workers). Redirects are not followed and
 * the body is read with a size cap. The TLS certificate is invisible to fetch, so
 * `peerCertificate` is always `undefined` and the TLS binding is reported as unchecked.
 *
 * @example
 * ```ts
 * const result = await verifyDeployment('https://enclave.example', {
 *   transport: fetchTransport(),
 *   expectedPcrs: parseExpectedPcrs(pcrsText),
 * });
 * ```
 */
export function fetchTransport(
  // Called through the global each time: a detached `fetch` bound to another object throws in browsers.
  fetchImpl: typeof fetch = (input, init) => globalThis.fetch(input, init),
): DeploymentTransport {
  return async (request) => {
    const response = await fetchImpl(request.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: request.body as unknown as BodyInit,
      redirect: 'manual',
      credentials: 'omit',
      cache: 'no-store',
      signal: request.signal,
    });
    const redirect = response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400);
    if (redirect) {
      await response.body?.cancel().catch(() => {});
      return {
        status: response.status,
        redirect,
        location: response.headers.get('location') ?? undefined,
        body: new Uint8Array(0),
        peerCertificate: undefined,
      };
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(declared) && declared > request.maxResponseBytes) {
      await response.body?.cancel().catch(() => {});
      throw tooLarge(request.url, request.maxResponseBytes);
    }
    const body = response.body
      ? await readCapped(response.body, request.maxResponseBytes, request.url)
      : new Uint8Array(0);
    return { status: response.status, redirect, location: undefined, body, peerCertificate: undefined };
  };
}
