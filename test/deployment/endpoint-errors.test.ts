/**
 * The endpoint failure modes of SPEC 3.2, over real HTTPS on loopback against a minimal server
 * written here (independent of the demo server), through both transports. Every case is
 * asserted by its error code.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDemoTlsCertificate } from '../../src/deployment/demo/tls-certificate.js';
import { nodeTransport } from '../../src/deployment/node/transport.js';
import { type DeploymentTransport, fetchTransport } from '../../src/deployment/transport.js';
import { probeDeployment } from '../../src/deployment/verify-deployment.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const routes: Record<string, Handler> = {
  '/redirect': (_req, res) => {
    res.writeHead(302, { location: 'https://elsewhere.example/attestation' });
    res.end();
  },
  '/permanent': (_req, res) => {
    res.writeHead(308, { location: '/attestation' });
    res.end();
  },
  '/errors': (_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: ['nsm device unavailable'] }));
  },
  '/errors-200': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 7 }] }));
  },
  '/deep-errors': (_req, res) => {
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(`{"errors":["first",${'['.repeat(200_000)}${']'.repeat(200_000)}]}`);
  },
  '/plain-500': (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('upstream exploded');
  },
  '/huge-chunked': (_req, res) => {
    // No content-length: the cap must hold while streaming.
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    for (let i = 0; i < 17; i++) res.write(chunk);
    res.end('{}');
  },
  '/huge-declared': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1024 * 1024 + 1) });
    res.end(Buffer.alloc(1024 * 1024 + 1, 0x20));
  },
  '/slow': () => {
    // Never answers; the client's timeout must fire.
  },
  '/slow-body': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"document":');
  },
  '/not-json': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html>hello</html>');
  },
  '/array': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('[1,2]');
  },
  '/no-document': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ manifest: { app_source: { commit: 'abc' } } }));
  },
  '/bad-base64': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ document: 'not*base64' }));
  },
  '/echo': (_req, res, body) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ seen: JSON.parse(body) }));
  },
};

let server: https.Server;
let plainServer: http.Server;
let origin: string;
let plainOrigin: string;
let caPem: string;
const seenRequests: { method?: string; url?: string; contentType?: string; body: string }[] = [];

beforeAll(async () => {
  const tls = await createDemoTlsCertificate();
  caPem = tls.certPem;
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      seenRequests.push({ method: req.method, url: req.url, contentType: req.headers['content-type'], body });
      const route = routes[req.url ?? ''];
      if (route) route(req, res, body);
      else {
        res.writeHead(404);
        res.end('not found');
      }
    });
  };
  server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, listener);
  plainServer = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => plainServer.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  plainOrigin = `http://127.0.0.1:${(plainServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of [server, plainServer]) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

const transports: [string, () => DeploymentTransport, () => string][] = [
  ['node transport, https', () => nodeTransport({ ca: caPem }), () => origin],
  ['fetchTransport over a CA-trusting fetch, https', () => fetchTransport(trustingFetch()), () => origin],
  ['fetchTransport over the real global fetch, http', () => fetchTransport(), () => plainOrigin],
  ['node transport, http', () => nodeTransport(), () => plainOrigin],
];

/** fetch that trusts the test CA: Node's fetch has no per-call CA option, so route through node:https. */
function trustingFetch(): typeof fetch {
  const agentTransport = nodeTransport({ ca: caPem });
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const r = await agentTransport({
      url: String(input),
      body: init?.body as Uint8Array,
      signal: init?.signal ?? new AbortController().signal,
      maxResponseBytes: 64 * 1024 * 1024,
    });
    const headers: Record<string, string> = {};
    if (r.location) headers.location = r.location;
    // Stream the body in pieces so readCapped's cap is exercised chunk by chunk.
    const body = r.body;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let o = 0; o < body.length; o += 65536) controller.enqueue(body.subarray(o, o + 65536));
        controller.close();
      },
    });
    return new Response(r.status >= 300 && r.status < 400 ? null : stream, { status: r.status, headers });
  }) as typeof fetch;
}

describe.each(transports)('endpoint failures (%s)', (_name, make, base) => {
  const probe = (path: string, timeoutMs = 5000) =>
    probeDeployment(`${base()}${path}`, { transport: make(), timeoutMs });

  test('a redirect is not followed: ERR_HTTP_REDIRECT', async () => {
    const p = await probe('/redirect');
    expect(p.error?.code).toBe('ERR_HTTP_REDIRECT');
    expect(p.error?.details?.location).toBe('https://elsewhere.example/attestation');
    expect((await probe('/permanent')).error?.code).toBe('ERR_HTTP_REDIRECT');
  });

  test('500 with {"errors"}: ERR_ENDPOINT_ERROR carrying the messages', async () => {
    const p = await probe('/errors');
    expect(p.error?.code).toBe('ERR_ENDPOINT_ERROR');
    expect(p.error?.details?.errors).toEqual(['nsm device unavailable']);
    expect(p.error?.message).toContain('nsm device unavailable');
    expect(p.status).toBe(500);
  });

  test('200 with {"errors"}: ERR_ENDPOINT_ERROR too', async () => {
    const p = await probe('/errors-200');
    expect(p.error?.code).toBe('ERR_ENDPOINT_ERROR');
    expect(p.error?.details?.errors).toEqual(['{"code":7}']);
  });

  test('a hostile, deeply nested errors body is still reported', async () => {
    const p = await probe('/deep-errors');
    expect(p.error?.code).toBe('ERR_ENDPOINT_ERROR');
    expect(p.error?.details?.errors).toEqual(['first', '(unprintable error entry)']);
  });

  test('500 without an errors body: ERR_HTTP with the status', async () => {
    const p = await probe('/plain-500');
    expect(p.error?.code).toBe('ERR_HTTP');
    expect(p.error?.details?.status).toBe(500);
    expect(p.error?.message).toContain('upstream exploded');
  });

  test('a body over 1 MiB: ERR_RESPONSE_TOO_LARGE (streamed and declared)', async () => {
    expect((await probe('/huge-chunked')).error?.code).toBe('ERR_RESPONSE_TOO_LARGE');
    expect((await probe('/huge-declared')).error?.code).toBe('ERR_RESPONSE_TOO_LARGE');
  });

  test('a server that never answers: ERR_TIMEOUT', async () => {
    const started = Date.now();
    const p = await probe('/slow', 300);
    expect(p.error?.code).toBe('ERR_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test('non-JSON and non-object bodies: ERR_RESPONSE_FORMAT', async () => {
    expect((await probe('/not-json')).error?.code).toBe('ERR_RESPONSE_FORMAT');
    expect((await probe('/array')).error?.code).toBe('ERR_RESPONSE_FORMAT');
  });

  test('no document field, or bad base64 in it: ERR_RESPONSE_FORMAT', async () => {
    const p = await probe('/no-document');
    expect(p.error?.code).toBe('ERR_RESPONSE_FORMAT');
    expect(p.error?.details?.keys).toEqual(['manifest']);
    const b = await probe('/bad-base64');
    expect(b.error?.code).toBe('ERR_RESPONSE_FORMAT');
    expect(b.error?.details?.field).toBe('document');
  });

  test('the request is POST of {"nonce": base64 of 32 fresh bytes}', async () => {
    const p1 = await probe('/echo');
    const p2 = await probe('/echo');
    const [a, b] = seenRequests.filter((r) => r.url === '/echo').slice(-2);
    expect(a?.method).toBe('POST');
    expect(a?.contentType).toBe('application/json');
    const nonceA = JSON.parse(a?.body ?? '{}').nonce as string;
    expect(Buffer.from(nonceA, 'base64')).toEqual(Buffer.from(p1.nonce));
    expect(p1.nonce.length).toBe(32);
    expect(JSON.parse(b?.body ?? '{}').nonce).not.toBe(nonceA);
    expect(Buffer.from(p2.nonce)).not.toEqual(Buffer.from(p1.nonce));
    expect(p1.error?.code).toBe('ERR_HTTP');
  });
});

test('a stalled body also times out (node transport, and real fetch)', async () => {
  const p = await probeDeployment(`${origin}/slow-body`, {
    transport: nodeTransport({ ca: caPem }),
    timeoutMs: 300,
  });
  expect(p.error?.code).toBe('ERR_TIMEOUT');
  const f = await probeDeployment(`${plainOrigin}/slow-body`, {
    transport: fetchTransport(),
    timeoutMs: 300,
  });
  expect(f.error?.code).toBe('ERR_TIMEOUT');
});

test('node transport: an untrusted certificate is ERR_HTTP with a --ca hint, never accepted', async () => {
  const p = await probeDeployment(`${origin}/no-document`, { transport: nodeTransport(), timeoutMs: 5000 });
  expect(p.error?.code).toBe('ERR_HTTP');
  expect(p.error?.message).toContain('--ca');
});

test('a bare origin means /attestation', async () => {
  await probeDeployment(origin, { transport: nodeTransport({ ca: caPem }), timeoutMs: 5000 });
  expect(seenRequests.at(-1)?.url).toBe('/attestation');
});

test('a connection refused is ERR_HTTP', async () => {
  const p = await probeDeployment('https://127.0.0.1:1/attestation', {
    transport: nodeTransport({ ca: caPem }),
    timeoutMs: 5000,
  });
  expect(p.error?.code).toBe('ERR_HTTP');
});
