/**
 * Reading an attestation endpoint's answer (SPEC 3.2): `{"document": "<base64 COSE_Sign1>",
 * "manifest": {...}}`, the older `attestation_document` key, and `{"errors": [...]}` bodies.
 * Everything here is about the envelope; the document itself is verified elsewhere.
 */
import { EnclaveVerifyError } from '../errors.js';
import { decodeUtf8, fromBase64 } from '../util/bytes.js';
import { printable } from '../util/terminal-text.js';
import type { AttestationResponse } from './transport.js';

/** The useful parts of a successful endpoint response. */
export interface EndpointAnswer {
  /** The COSE_Sign1 bytes, decoded from base64. Unverified at this point. */
  document: Uint8Array;
  /** Which JSON key carried the document. */
  documentField: 'document' | 'attestation_document';
  /** The `manifest` value as sent (unsigned), or `undefined` when absent. */
  manifest: unknown;
}

/** Longest part of a server-provided text we repeat in an error message. */
const MAX_ECHO = 300;

// Kept here too: reports and commands have long imported it from this module.
export { printable };

function clip(text: string): string {
  const oneLine = printable(text).replace(/ {2,}/g, ' ').trim();
  return oneLine.length > MAX_ECHO ? `${oneLine.slice(0, MAX_ECHO)}...` : oneLine;
}

/** JSON text of an untrusted value; deep nesting could overflow JSON.stringify's recursion. */
function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value).slice(0, MAX_ECHO * 2);
  } catch {
    return '(unprintable error entry)';
  }
}

function parseJson(body: Uint8Array): unknown {
  const text = decodeUtf8(body);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function endpointErrors(json: unknown): string[] | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const errors = (json as Record<string, unknown>).errors;
  if (!Array.isArray(errors)) return undefined;
  return errors.slice(0, 10).map((e) => clip(typeof e === 'string' ? e : jsonText(e)));
}

/**
 * Turn a transport response into the document bytes, or throw the error code that says what the
 * endpoint did wrong: `ERR_HTTP_REDIRECT`, `ERR_ENDPOINT_ERROR` (an `{"errors": [...]}` body, any
 * status), `ERR_HTTP` (other non-2xx), `ERR_RESPONSE_FORMAT` (not JSON, no document field, bad
 * base64).
 *
 * @example
 * ```ts
 * const { document, manifest } = parseEndpointResponse(response, 'https://x/attestation');
 * ```
 */
export function parseEndpointResponse(response: AttestationResponse, url: string): EndpointAnswer {
  if (response.redirect) {
    const where = response.location ? ` to ${clip(response.location)}` : '';
    throw new EnclaveVerifyError(
      'ERR_HTTP_REDIRECT',
      `${url} answered with a redirect${where} (HTTP ${response.status}); redirects are never followed because the attestation must come from the host you named: use the final URL directly if you trust it`,
      { details: { url, status: response.status, location: response.location } },
    );
  }
  const json = parseJson(response.body);
  const errors = endpointErrors(json);
  if (errors !== undefined) {
    throw new EnclaveVerifyError(
      'ERR_ENDPOINT_ERROR',
      `the attestation endpoint ${url} reported an error (HTTP ${response.status}): ${errors.length > 0 ? errors.join('; ') : '(empty error list)'}; check the enclave's logs or try again later`,
      { details: { url, status: response.status, errors } },
    );
  }
  if (response.status < 200 || response.status > 299) {
    const text = decodeUtf8(response.body.subarray(0, 2048));
    const snippet = text ? `: ${clip(text)}` : '';
    throw new EnclaveVerifyError(
      'ERR_HTTP',
      `${url} answered HTTP ${response.status}${snippet}; check that the URL is the enclave's attestation endpoint`,
      { details: { url, status: response.status } },
    );
  }
  if (json === undefined) {
    throw new EnclaveVerifyError(
      'ERR_RESPONSE_FORMAT',
      `the response of ${url} is not JSON (${response.body.length} bytes); an attestation endpoint answers {"document": "<base64>"}: check the URL`,
      { details: { url } },
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new EnclaveVerifyError(
      'ERR_RESPONSE_FORMAT',
      `the response of ${url} is JSON but not an object; expected {"document": "<base64>"}`,
      { details: { url } },
    );
  }
  const record = json as Record<string, unknown>;
  let documentField: EndpointAnswer['documentField'];
  if (Object.hasOwn(record, 'document')) documentField = 'document';
  else if (Object.hasOwn(record, 'attestation_document')) documentField = 'attestation_document';
  else {
    const keys = Object.keys(record).slice(0, 10).map(clip).join(', ');
    throw new EnclaveVerifyError(
      'ERR_RESPONSE_FORMAT',
      `the response of ${url} has no "document" (or older "attestation_document") field (keys: ${keys || 'none'}); check that this is a Caution-style attestation endpoint`,
      { details: { url, keys: Object.keys(record).slice(0, 10) } },
    );
  }
  const value = record[documentField];
  if (typeof value !== 'string' || value.length === 0) {
    throw new EnclaveVerifyError(
      'ERR_RESPONSE_FORMAT',
      `the "${documentField}" field of the response of ${url} is not a non-empty base64 string`,
      { details: { url, field: documentField } },
    );
  }
  let document: Uint8Array;
  try {
    document = fromBase64(value, `the "${documentField}" field`);
  } catch (cause) {
    throw new EnclaveVerifyError(
      'ERR_RESPONSE_FORMAT',
      `${(cause as Error).message} in the response of ${url}; the endpoint must send standard base64`,
      { cause, details: { url, field: documentField } },
    );
  }
  return { document, documentField, manifest: record.manifest };
}

/**
 * The endpoint URL for a user-given URL: a bare origin (`https://host` or `https://host/`) means
 * `https://host/attestation`; any other path is used as given. Only http and https are accepted.
 *
 * @example
 * ```ts
 * attestationUrl('https://enclave.example'); // 'https://enclave.example/attestation'
 * attestationUrl('https://enclave.example/custom/attest'); // unchanged
 * ```
 */
export function attestationUrl(input: string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch (cause) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `'${clip(input)}' is not a URL; give the enclave's address, e.g. https://enclave.example`,
      { cause },
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `'${clip(input)}' uses ${url.protocol}; only https: (or http: for local tests) is supported`,
    );
  }
  if (url.username || url.password) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      'remove the user name and password from the URL; the endpoint needs none',
    );
  }
  url.hash = '';
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/attestation';
  return url;
}
