/**
 * The HTTP side of a simulated attestation endpoint (SPEC 3.2): `POST /attestation` with
 * `{"nonce": "<base64>"}` answers `{"document", "manifest"}`; anything wrong answers
 * `{"errors": [...]}`. CORS is open so the web page can call it from another origin. The
 * document itself comes from a callback, so this file knows nothing about signing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { EnclaveVerifyError } from '../../errors.js';

/** What the endpoint answers for one nonce. */
export interface AttestationAnswer {
  /** COSE_Sign1 bytes of the attestation document. */
  document: Uint8Array;
  /** Unsigned build provenance, sent as-is. */
  manifest?: unknown;
}

/** Options of {@link serveAttestation}. */
export interface ServeAttestationOptions {
  /** TLS key and certificate (PEM); without them the server speaks plain HTTP. */
  tls?: { certPem: string; keyPem: string };
  /** Address to listen on; loopback by default. */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Produce the document for the client's nonce (already base64-decoded). */
  attest: (nonce: Uint8Array) => Promise<AttestationAnswer>;
}

/** A running endpoint. */
export interface RunningEndpoint {
  /** Origin, e.g. `https://127.0.0.1:43211`. */
  origin: string;
  /** Port actually bound. */
  port: number;
  /** Stop listening and drop open connections. */
  close(): Promise<void>;
}

/** Requests are `{"nonce": "<44 chars>"}`; anything much larger is not a client of ours. */
const MAX_REQUEST_BYTES = 8 * 1024;
/** Nitro accepts nonces up to 512 bytes (SPEC 1.2 lists 512/1024); take the stricter bound. */
const MAX_NONCE_BYTES = 512;

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'content-type',
  'access-control-max-age': '600',
};

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...CORS_HEADERS,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function decodeNonce(raw: unknown): Uint8Array | string {
  if (typeof raw !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(raw) || raw.length % 4 !== 0) {
    return 'nonce must be a standard base64 string';
  }
  const bytes = new Uint8Array(Buffer.from(raw, 'base64'));
  if (bytes.length === 0 || bytes.length > MAX_NONCE_BYTES)
    return `nonce must be 1..${MAX_NONCE_BYTES} bytes`;
  return bytes;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: ServeAttestationOptions,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'OPTIONS') {
    res.writeHead(204, CORS_HEADERS);
    res.end();
    return;
  }
  if (path !== '/attestation') {
    send(res, 404, {
      errors: [`no such path ${path?.slice(0, 100)}; the attestation endpoint is POST /attestation`],
    });
    return;
  }
  if (req.method !== 'POST') {
    send(res, 405, { errors: ['use POST /attestation with {"nonce": "<base64>"}'] });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) {
      // Answer first, then drop the connection rather than read the rest of the upload.
      res.once('finish', () => req.destroy());
      res.setHeader('connection', 'close');
      send(res, 413, { errors: [`request body over ${MAX_REQUEST_BYTES} bytes`] });
      return;
    }
    chunks.push(chunk as Buffer);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    send(res, 400, { errors: ['request body is not JSON; send {"nonce": "<base64>"}'] });
    return;
  }
  const nonce = decodeNonce((json as Record<string, unknown> | null)?.nonce);
  if (typeof nonce === 'string') {
    send(res, 400, { errors: [nonce] });
    return;
  }
  const answer = await options.attest(nonce);
  send(res, 200, {
    document: Buffer.from(answer.document).toString('base64'),
    ...(answer.manifest === undefined ? {} : { manifest: answer.manifest }),
  });
}

/**
 * Start an attestation endpoint on loopback.
 *
 * @example
 * ```ts
 * const ep = await serveAttestation({ tls, attest: async (nonce) => ({ document: await sign(nonce) }) });
 * console.log(`${ep.origin}/attestation`);
 * await ep.close();
 * ```
 */
export async function serveAttestation(options: ServeAttestationOptions): Promise<RunningEndpoint> {
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res, options).catch((error: unknown) => {
      if (!res.headersSent)
        send(res, 500, { errors: [`internal error: ${(error as Error)?.message ?? error}`] });
      else res.destroy();
    });
  };
  const server = options.tls
    ? https.createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, listener)
    : http.createServer(listener);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause: NodeJS.ErrnoException) =>
      reject(
        new EnclaveVerifyError(
          'ERR_IO',
          `cannot listen on ${host}:${options.port ?? 0} (${cause.code ?? cause.message}); choose another --port`,
          { cause },
        ),
      ),
    );
    server.listen(options.port ?? 0, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    origin: `${options.tls ? 'https' : 'http'}://${hostPart}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
