/**
 * The monitor's read-only HTTP API, with canaryd's routes, shapes and status codes
 * (CANARY.md section 8): `/health`, `/status.json`, `/config.json`, `/keys.json` (exact
 * canonical bytes), `/targets/{id}/statement|evidence|evidence/claims|history[/{n}[/evidence/claims]]`;
 * plus `/metrics` (Prometheus) and the status page at `/`. GET only, `Cache-Control: no-store`,
 * 503 until the monitor is ready.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { EnclaveVerifyError } from '../../errors.js';
import { parseHistoryPaging } from '../observation.js';
import { renderMetrics } from './metrics.js';
import type { CanaryMonitor } from './monitor.js';
import { renderStatusPage } from './status-page.js';

/** A running API server. */
export interface RunningApi {
  /** `http://host:port`. */
  url: string;
  port: number;
  /** Serve this monitor from now on (before: 503 not_ready). */
  ready(monitor: CanaryMonitor): void;
  close(): Promise<void>;
}

/** Options of {@link startApi}. */
export interface ApiOptions {
  host?: string;
  port?: number;
  /** Serve HTTPS with this key and certificate (PEM); canaryctl only talks https to a node. */
  tls?: { certPem: string; keyPem: string };
  /**
   * `POST /attestation` (Bootproofd's route on a real node, which embeds DIR/metadata.json in
   * the enclave's attestation): answered only when given, e.g. by a simulated node.
   */
  attestation?: (nonce: Uint8Array) => Promise<{ document: Uint8Array; manifest?: unknown }>;
}

const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function json(res: http.ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', `${JSON.stringify(body)}`);
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Uint8Array): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  res.writeHead(status, { ...BASE_HEADERS, 'content-type': type, 'content-length': bytes.length });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

function attest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  hook: NonNullable<ApiOptions['attestation']>,
  ready: boolean,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > 4096) req.destroy();
    else chunks.push(c);
  });
  req.on('end', () => {
    if (!ready) return json(res, 503, { error: 'not_ready' });
    let nonce: Uint8Array;
    try {
      const raw = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { nonce?: unknown }).nonce;
      if (typeof raw !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(raw)) throw new Error('nonce');
      nonce = new Uint8Array(Buffer.from(raw, 'base64'));
    } catch {
      return json(res, 400, { errors: ['send {"nonce": "<standard base64 of 32 bytes>"}'] });
    }
    hook(nonce).then(
      (a) =>
        json(res, 200, {
          document: Buffer.from(a.document).toString('base64'),
          ...(a.manifest === undefined ? {} : { manifest: a.manifest }),
        }),
      () => json(res, 500, { errors: ['attestation failed'] }),
    );
  });
}

async function route(monitor: CanaryMonitor, url: URL, res: http.ServerResponse): Promise<void> {
  const path = url.pathname;
  switch (path) {
    case '/status.json':
      return json(res, 200, monitor.status());
    case '/config.json':
      return json(res, 200, monitor.configDocument);
    case '/keys.json':
      return send(res, 200, 'application/json', monitor.keysBytes);
    case '/metrics':
      return send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', renderMetrics(monitor));
    case '/':
      res.setHeader('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
      return send(res, 200, 'text/html; charset=utf-8', renderStatusPage(monitor));
  }
  const m =
    /^\/targets\/([A-Za-z0-9_-]+)\/(statement|evidence|evidence\/claims|history|history\/([0-9]{1,15})(\/evidence\/claims)?)$/.exec(
      path,
    );
  if (!m || !monitor.has(m[1]!)) return json(res, 404, { error: 'not_found' });
  const id = m[1]!;
  const what = m[2]!;
  if (what === 'statement') return json(res, 200, monitor.statement(id));
  if (what === 'evidence') {
    const text = monitor.evidenceText(id);
    return text ? send(res, 200, 'application/json', text) : json(res, 404, { error: 'no_evidence' });
  }
  if (what === 'evidence/claims') {
    const claims = monitor.claims(id);
    return claims ? json(res, 200, claims) : json(res, 404, { error: 'no_evidence' });
  }
  if (what === 'history') {
    const paging = parseHistoryPaging(url.searchParams);
    if (!paging) return json(res, 400, { error: 'invalid_history_pagination' });
    return json(res, 200, {
      target_id: id,
      observations: monitor.store.list(id, paging.offset, paging.limit),
    });
  }
  const attempt = await monitor.store.get(id, Number(m[3]));
  if (!attempt) return json(res, 404, { error: 'not_found' });
  if (m[4]) return attempt.claims ? json(res, 200, attempt.claims) : json(res, 404, { error: 'no_evidence' });
  // The bundle is kept as Canary's text (exact numbers); splice it in rather than re-serialise.
  const evidence = typeof attempt.evidence === 'string' ? attempt.evidence.trimEnd() : 'null';
  return send(
    res,
    200,
    'application/json',
    `{"observation":${JSON.stringify(attempt.observation)},"statement":${JSON.stringify(attempt.statement)},"evidence":${evidence}}`,
  );
}

/**
 * Start the API on `host:port` (loopback by default); it answers 503 until {@link RunningApi.ready}.
 *
 * @example
 * ```ts
 * const api = await startApi({ host: '127.0.0.1', port: 8080 });
 * api.ready(await CanaryMonitor.start(options));
 * ```
 */
export async function startApi(options: ApiOptions = {}): Promise<RunningApi> {
  let monitor: CanaryMonitor | undefined;
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (req.method === 'POST' && options.attestation && (req.url ?? '').split('?')[0] === '/attestation') {
      attest(req, res, options.attestation, monitor !== undefined);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume();
      json(res, 405, { error: 'method_not_allowed' });
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://monitor.invalid');
    } catch {
      json(res, 404, { error: 'not_found' });
      return;
    }
    if (url.pathname === '/health') {
      if (monitor) json(res, 200, { status: 'ok' });
      else json(res, 503, { status: 'starting' });
      return;
    }
    if (!monitor) {
      json(res, 503, { error: 'not_ready' });
      return;
    }
    route(monitor, url, res).catch(() => {
      if (!res.headersSent) json(res, 500, { error: 'internal_error' });
      else res.destroy();
    });
  };
  const server = options.tls
    ? https.createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, listener)
    : http.createServer(listener);
  // A read-only API needs no slow clients: bound what one connection may hold.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.maxHeadersCount = 50;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause: NodeJS.ErrnoException) =>
      reject(
        new EnclaveVerifyError(
          'ERR_IO',
          `cannot listen on ${host}:${options.port ?? 0} (${cause.code ?? cause.message}); choose another --listen`,
          {
            cause,
          },
        ),
      ),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    url: `${options.tls ? 'https' : 'http'}://${hostPart}:${port}`,
    port,
    ready(m) {
      monitor = m;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
