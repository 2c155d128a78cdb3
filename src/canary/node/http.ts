/**
 * The Node client of the Canary flows, over node:https with canaryctl's rules: https only,
 * no redirects, 5 s to connect, 15 s for the whole exchange, bodies capped at 256 KiB while
 * streaming. Extra CAs are added to Node's roots; certificate checking is never turned off.
 */
import * as https from 'node:https';
import { rootCertificates } from 'node:tls';
import { EnclaveVerifyError } from '../../errors.js';
import { ByteChunks } from '../../util/bytes.js';
import {
  CANARY_CONNECT_TIMEOUT_MS,
  CANARY_MAX_BODY_BYTES,
  CANARY_TOTAL_TIMEOUT_MS,
  type CanaryHttp,
  type CanaryHttpResponse,
} from '../http.js';

/** Options of {@link nodeCanaryHttp}. */
export interface NodeCanaryHttpOptions {
  /** Extra PEM CA certificates for self-hosted nodes and test servers. */
  ca?: string | string[];
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
  maxBodyBytes?: number;
}

/**
 * A {@link CanaryHttp} over node:https.
 *
 * @example
 * ```ts
 * const http = nodeCanaryHttp({ ca: await readFile('test-ca.pem', 'utf8') });
 * const keys = await http({ method: 'GET', url: 'https://canary.example.com/keys.json' });
 * ```
 */
export function nodeCanaryHttp(options: NodeCanaryHttpOptions = {}): CanaryHttp {
  const extra = options.ca === undefined ? [] : Array.isArray(options.ca) ? options.ca : [options.ca];
  const ca = extra.length > 0 ? [...rootCertificates, ...extra] : undefined;
  const connectMs = options.connectTimeoutMs ?? CANARY_CONNECT_TIMEOUT_MS;
  const totalMs = options.totalTimeoutMs ?? CANARY_TOTAL_TIMEOUT_MS;
  const maxBytes = options.maxBodyBytes ?? CANARY_MAX_BODY_BYTES;
  return (request) =>
    new Promise<CanaryHttpResponse>((resolve, reject) => {
      const url = new URL(request.url);
      if (url.protocol !== 'https:') {
        reject(
          new EnclaveVerifyError('ERR_USAGE', `only https is allowed, not ${url.protocol} (${request.url})`),
        );
        return;
      }
      let settled = false;
      const timers: ReturnType<typeof setTimeout>[] = [];
      const finish = (error: unknown, value?: CanaryHttpResponse) => {
        if (settled) return;
        settled = true;
        for (const t of timers) clearTimeout(t);
        if (error) {
          req.destroy();
          reject(error);
        } else resolve(value!);
      };
      const timeout = (what: string, ms: number) =>
        new EnclaveVerifyError(
          'ERR_TIMEOUT',
          `${request.url}: no ${what} within ${ms / 1000} s; check the URL and the node`,
          {
            details: { url: request.url, timeoutMs: ms },
          },
        );
      const req = https.request(url, {
        method: request.method,
        agent: false,
        ...(ca ? { ca } : {}),
        headers: {
          accept: 'application/json',
          ...(request.body
            ? { 'content-type': 'application/json', 'content-length': String(request.body.byteLength) }
            : {}),
        },
      });
      timers.push(setTimeout(() => finish(timeout('answer', totalMs)), totalMs));
      const connectTimer = setTimeout(() => finish(timeout('connection', connectMs)), connectMs);
      timers.push(connectTimer);
      req.on('socket', (socket) => {
        socket.once('secureConnect', () => clearTimeout(connectTimer));
      });
      req.on('error', (error) => {
        const code = (error as NodeJS.ErrnoException).code;
        finish(
          new EnclaveVerifyError(
            'ERR_HTTP',
            `request to ${request.url} failed${code ? ` (${code})` : ''}: ${error.message}`,
            {
              cause: error,
              details: { url: request.url, ...(code ? { code } : {}) },
            },
          ),
        );
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.resume();
          finish(
            new EnclaveVerifyError(
              'ERR_HTTP_REDIRECT',
              `${request.url} answered with a redirect (${status}); redirects are never followed: use the node's own origin`,
              {
                details: { url: request.url, status },
              },
            ),
          );
          return;
        }
        const tooLarge = () =>
          new EnclaveVerifyError(
            'ERR_RESPONSE_TOO_LARGE',
            `the body of ${request.url} is larger than ${maxBytes} bytes`,
            {
              details: { url: request.url, maxBytes },
            },
          );
        const declared = Number(res.headers['content-length'] ?? Number.NaN);
        if (Number.isFinite(declared) && declared > maxBytes) {
          finish(tooLarge());
          return;
        }
        const chunks = new ByteChunks();
        res.on('data', (chunk: Uint8Array) => {
          if (chunks.length + chunk.byteLength > maxBytes) finish(tooLarge());
          else chunks.push(chunk);
        });
        res.on('error', (error) =>
          finish(new EnclaveVerifyError('ERR_HTTP', `${request.url}: ${error.message}`, { cause: error })),
        );
        res.on('end', () => {
          if (status < 200 || status >= 300) {
            finish(
              new EnclaveVerifyError('ERR_HTTP', `${request.url} answered HTTP ${status}`, {
                details: { url: request.url, status },
              }),
            );
            return;
          }
          finish(undefined, { status, body: chunks.join() });
        });
      });
      req.end(request.body);
    });
}
