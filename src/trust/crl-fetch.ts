/**
 * How a CRL is downloaded. The revocation check receives a {@link CrlTransport}, so the core stays
 * free of any runtime's network API: {@link fetchCrlTransport} works wherever `fetch` exists
 * (browsers, Node, Deno, Bun, workers), and tests or other runtimes can pass their own. The URL
 * comes from a certificate, so the request is as narrow as possible: GET, http or https only, no
 * redirects, no credentials, a byte cap while streaming, and the caller's abort signal for the
 * timeout.
 */
import { EnclaveVerifyError } from '../errors.js';
import { readStreamCapped } from '../util/stream.js';

/** One CRL download, as handed to a {@link CrlTransport}. */
export interface CrlRequest {
  /** The distribution point URL from the certificate (http or https). */
  url: string;
  /** Fired by the caller on timeout; the transport must stop all I/O. */
  signal: AbortSignal;
  /** Largest body accepted; larger ones fail with `ERR_RESPONSE_TOO_LARGE`. */
  maxBytes: number;
}

/**
 * Downloads one CRL and resolves to its bytes, or throws an `EnclaveVerifyError`: `ERR_HTTP`
 * (unreachable, refused by CORS, not 2xx), `ERR_HTTP_REDIRECT`, `ERR_RESPONSE_TOO_LARGE`.
 */
export type CrlTransport = (request: CrlRequest) => Promise<Uint8Array>;

/** Default cap of one CRL: Nitro's CA lists are a few hundred bytes; 1 MiB leaves room for growth. */
export const MAX_CRL_BYTES = 1024 * 1024;
/** Default timeout of one CRL download. */
export const DEFAULT_CRL_TIMEOUT_MS = 10_000;

function tooLarge(url: string, maxBytes: number): EnclaveVerifyError {
  return new EnclaveVerifyError(
    'ERR_RESPONSE_TOO_LARGE',
    `the CRL at ${url} is larger than ${maxBytes} bytes; refused unread`,
    { details: { url, maxBytes } },
  );
}

/**
 * A {@link CrlTransport} over `fetch`. Redirects are refused (a CRL URL that redirects is not the
 * one the issuer signed into the certificate), bodies are capped while streaming, and a network
 * failure, which in a browser includes a CORS refusal, is `ERR_HTTP`.
 *
 * @example
 * ```ts
 * await verifyAttestation(bytes, { expectedPcrs, checkRevocation: { transport: fetchCrlTransport() } });
 * ```
 */
export function fetchCrlTransport(
  // Called through the global each time: a detached `fetch` bound to another object throws in browsers.
  fetchImpl: typeof fetch = (input, init) => globalThis.fetch(input, init),
): CrlTransport {
  return async ({ url, signal, maxBytes }) => {
    if (!/^https?:\/\//i.test(url)) {
      throw new EnclaveVerifyError('ERR_HTTP', `${url.slice(0, 120)} is not an http or https URL`, {
        details: { url },
      });
    }
    let response: Response;
    try {
      response = await fetchImpl(url, {
        method: 'GET',
        headers: { accept: 'application/pkix-crl, application/octet-stream' },
        redirect: 'manual',
        credentials: 'omit',
        signal,
      });
    } catch (cause) {
      if (signal.aborted) throw cause;
      const inner = (cause as { cause?: { message?: unknown } })?.cause?.message;
      const detail = `${(cause as Error)?.message ?? String(cause)}${typeof inner === 'string' ? `: ${inner}` : ''}`;
      throw new EnclaveVerifyError(
        'ERR_HTTP',
        `cannot fetch the CRL at ${url}: ${detail} (unreachable, or in a browser refused by CORS)`,
        { cause, details: { url } },
      );
    }
    if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      await response.body?.cancel().catch(() => {});
      throw new EnclaveVerifyError(
        'ERR_HTTP_REDIRECT',
        `the CRL URL ${url} answered a redirect${response.status ? ` (HTTP ${response.status})` : ''}; redirects are not followed`,
        { details: { url, status: response.status } },
      );
    }
    if (response.status < 200 || response.status > 299) {
      await response.body?.cancel().catch(() => {});
      throw new EnclaveVerifyError('ERR_HTTP', `the CRL URL ${url} answered HTTP ${response.status}`, {
        details: { url, status: response.status },
      });
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw tooLarge(url, maxBytes);
    }
    return response.body
      ? readStreamCapped(response.body, maxBytes, () => tooLarge(url, maxBytes))
      : new Uint8Array(0);
  };
}
