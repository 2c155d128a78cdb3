/**
 * How the Canary flows talk to a node: a small request interface so the flows stay
 * runtime-agnostic (the Node client is `node/http.ts`), and canaryctl's network rules: a node URL
 * is a bare https origin, redirects are never followed, bodies are capped at 256 KiB.
 */
import { EnclaveVerifyError } from '../errors.js';

/** canaryctl's caps: 5 s to connect, 15 s per request, 256 KiB per body. */
export const CANARY_CONNECT_TIMEOUT_MS = 5_000;
export const CANARY_TOTAL_TIMEOUT_MS = 15_000;
export const CANARY_MAX_BODY_BYTES = 256 * 1024;

/** One request to a Canary node or target. */
export interface CanaryHttpRequest {
  method: 'GET' | 'POST';
  url: string;
  /** JSON request body (POST). */
  body?: Uint8Array;
}

/** A 2xx answer; clients throw typed errors for everything else. */
export interface CanaryHttpResponse {
  status: number;
  body: Uint8Array;
}

/**
 * Sends one request. Implementations must refuse redirects (`ERR_HTTP_REDIRECT`), bodies over
 * 256 KiB (`ERR_RESPONSE_TOO_LARGE`), slow connections (`ERR_TIMEOUT`) and non-2xx statuses
 * (`ERR_HTTP`, `details.status`).
 */
export type CanaryHttp = (request: CanaryHttpRequest) => Promise<CanaryHttpResponse>;

/**
 * The origin of a node URL, which must be a bare https origin (an optional `/` only: no path,
 * query, fragment or credentials). Throws `ERR_USAGE` otherwise.
 *
 * @example
 * ```ts
 * canaryNodeOrigin('https://canary.example.com/'); // 'https://canary.example.com'
 * ```
 */
export function canaryNodeOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EnclaveVerifyError('ERR_USAGE', `--canary-url '${text.slice(0, 100)}' is not a URL`);
  }
  if (
    url.protocol !== 'https:' ||
    url.username !== '' ||
    url.password !== '' ||
    url.pathname !== '/' ||
    url.search !== '' ||
    text.includes('#') ||
    text.includes('?')
  ) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `--canary-url must be a bare https origin such as https://canary.example.com (no path, query, fragment or credentials), not '${text.slice(0, 100)}'`,
    );
  }
  return url.origin;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The UTF-8 text of a response body; `ERR_RESPONSE_FORMAT` when it is not UTF-8.
 *
 * @example
 * ```ts
 * const text = bodyText(await http({ method: 'GET', url }), url);
 * ```
 */
export function bodyText(response: CanaryHttpResponse, url: string): string {
  try {
    return decoder.decode(response.body);
  } catch {
    throw new EnclaveVerifyError('ERR_RESPONSE_FORMAT', `the body of ${url} is not UTF-8 text`);
  }
}
