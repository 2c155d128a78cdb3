/**
 * Node-only transport for the attestation protocol over `node:https` / `node:http`. Unlike fetch
 * it exposes the TLS leaf certificate of the very connection that carried the response, which is
 * what Caution's TLS binding (`certfp`) is about. Each request opens its own connection
 * (`agent: false`) so the certificate cannot come from some other pooled socket.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import { createSecureContext, rootCertificates, type SecureContext, type TLSSocket } from 'node:tls';
import { EnclaveVerifyError } from '../../errors.js';
import { ByteChunks } from '../../util/bytes.js';
import type { AttestationResponse, DeploymentTransport } from '../transport.js';
import { tooLarge } from '../transport.js';

/** Options of {@link nodeTransport}. */
export interface NodeTransportOptions {
  /**
   * Extra PEM certificates to trust for the TLS connection, added to Node's bundled public
   * roots (self-hosted endpoints, the demo's self-signed certificate). Certificate checking is
   * never turned off.
   */
  ca?: string | string[];
  /**
   * Name resolution for the connection (node:net's `lookup`), e.g. one that returns an address
   * resolved and checked beforehand, so the request cannot be re-pointed between check and use.
   */
  lookup?: LookupFunction;
  /** Fail with `ERR_TIMEOUT` when the TCP (and TLS) connection is not up within this many ms. */
  connectTimeoutMs?: number;
  /** A TLS context to reuse (see {@link trustContext}); overrides `ca`. */
  secureContext?: SecureContext;
}

/**
 * A TLS context trusting Node's bundled roots plus `extra` PEM CAs. Building one parses every
 * root (about 40 ms of CPU), so callers making many requests build it once.
 *
 * @example
 * ```ts
 * const transport = nodeTransport({ secureContext: trustContext([demoPem]) });
 * ```
 */
export function trustContext(extra: readonly string[]): SecureContext {
  return createSecureContext({ ca: [...rootCertificates, ...extra] });
}

/**
 * A {@link DeploymentTransport} over node:https/http that reports `peerCertificate`.
 *
 * @example
 * ```ts
 * const transport = nodeTransport({ ca: fs.readFileSync('demo-tls.pem', 'utf8') });
 * await verifyDeployment('https://127.0.0.1:8443', { transport, trustedRoots, expectedPcrs });
 * ```
 */
export function nodeTransport(options: NodeTransportOptions = {}): DeploymentTransport {
  const extra = options.ca === undefined ? [] : Array.isArray(options.ca) ? options.ca : [options.ca];
  // One context for every request of this transport, not one per request.
  const secureContext = options.secureContext ?? (extra.length > 0 ? trustContext(extra) : undefined);
  return (request) =>
    new Promise<AttestationResponse>((resolve, reject) => {
      const url = new URL(request.url);
      const secure = url.protocol === 'https:';
      const headers = {
        'content-type': 'application/json',
        accept: 'application/json',
        'content-length': String(request.body.byteLength),
      };
      const common = {
        method: 'POST',
        headers,
        agent: false as const,
        signal: request.signal,
        ...(options.lookup ? { lookup: options.lookup } : {}),
      };
      let settled = false;
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        req.destroy();
        reject(error);
      };
      const req = secure
        ? https.request(url, { ...common, ...(secureContext ? { secureContext } : {}) })
        : http.request(url, common);
      req.on('error', (error) => fail(connectionError(error, request.url, request.signal)));
      if (options.connectTimeoutMs !== undefined) {
        const limit = options.connectTimeoutMs;
        req.on('socket', (socket: Socket) => {
          const timer = setTimeout(() => {
            fail(
              new EnclaveVerifyError(
                'ERR_TIMEOUT',
                `${request.url}: no connection within ${limit} ms; check that the enclave is up`,
                { details: { url: request.url, connectTimeoutMs: limit } },
              ),
            );
          }, limit);
          const done = (): void => clearTimeout(timer);
          socket.once(secure ? 'secureConnect' : 'connect', done);
          socket.once('close', done);
        });
      }
      req.on('response', (res) => {
        // Read the certificate now, from the socket that carried this response.
        let peerCertificate: Uint8Array | undefined;
        if (secure) {
          const raw = (res.socket as TLSSocket).getPeerCertificate?.(false)?.raw;
          if (raw && raw.length > 0) peerCertificate = new Uint8Array(raw);
        }
        const status = res.statusCode ?? 0;
        const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
        if (status >= 300 && status < 400) {
          res.resume();
          settled = true;
          req.destroy();
          resolve({ status, redirect: true, location, body: new Uint8Array(0), peerCertificate });
          return;
        }
        const declared = Number(res.headers['content-length'] ?? Number.NaN);
        if (Number.isFinite(declared) && declared > request.maxResponseBytes) {
          fail(tooLarge(request.url, request.maxResponseBytes));
          return;
        }
        const chunks = new ByteChunks();
        res.on('data', (chunk: Uint8Array) => {
          if (chunks.length + chunk.byteLength > request.maxResponseBytes) {
            fail(tooLarge(request.url, request.maxResponseBytes));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (error) => fail(connectionError(error, request.url, request.signal)));
        res.on('aborted', () =>
          fail(connectionError(new Error('response aborted'), request.url, request.signal)),
        );
        res.on('end', () => {
          if (settled) return;
          settled = true;
          resolve({ status, redirect: false, location: undefined, body: chunks.join(), peerCertificate });
        });
      });
      req.end(request.body);
    });
}

/** Map a socket/TLS failure to ERR_HTTP with a hint; an abort is passed through untouched. */
function connectionError(error: unknown, url: string, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason ?? error;
  const e = error as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  let hint = 'check the URL and that the enclave is reachable';
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|ALTNAME/.test(code)) {
    hint =
      "the server's TLS certificate is not trusted for this host; for a self-hosted or demo endpoint pass its CA certificate with --ca PEM";
  } else if (code === 'ECONNREFUSED') {
    hint = 'nothing listens on that port; is the enclave (or `enclave-verify demo --serve`) running?';
  }
  return new EnclaveVerifyError(
    'ERR_HTTP',
    `request to ${url} failed${code ? ` (${code})` : ''}: ${e?.message ?? String(error)}; ${hint}`,
    { cause: error, details: { url, ...(code ? { code } : {}) } },
  );
}
