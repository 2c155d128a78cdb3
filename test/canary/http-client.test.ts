// The Node client's network rules on loopback: a stalled TLS handshake hits the connect timeout,
// a server that never answers hits the total timeout, http:// and non-2xx are refused.
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canaryNodeOrigin } from '../../src/canary/http.js';
import { nodeCanaryHttp } from '../../src/canary/node/http.js';
import { createDemoTlsCertificate } from '../../src/deployment/demo/tls-certificate.js';

let silent: Server;
let slow: ReturnType<typeof createHttpsServer>;
let ca: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  silent = createServer((s) => sockets.push(s)); // accepts TCP, never speaks TLS
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const tls = await createDemoTlsCertificate();
  ca = tls.certPem;
  slow = createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    if (req.url === '/404') {
      res.writeHead(404).end('{"error":"not_found"}');
      return;
    }
    // Never answers the other routes.
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  slow.closeAllConnections();
  await new Promise<void>((r) => silent.close(() => r()));
  await new Promise<void>((r) => slow.close(() => r()));
});

const port = (s: Server | ReturnType<typeof createHttpsServer>) => (s.address() as AddressInfo).port;

describe('nodeCanaryHttp', () => {
  it('a handshake that never completes: ERR_TIMEOUT at the connect timeout', async () => {
    const http = nodeCanaryHttp({ connectTimeoutMs: 300, totalTimeoutMs: 5000 });
    const start = Date.now();
    await expect(
      http({ method: 'GET', url: `https://127.0.0.1:${port(silent)}/keys.json` }),
    ).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
      details: { timeoutMs: 300 },
    });
    expect(Date.now() - start).toBeLessThan(3000);
  });

  it('a server that never answers: ERR_TIMEOUT at the total timeout', async () => {
    const http = nodeCanaryHttp({ ca, connectTimeoutMs: 2000, totalTimeoutMs: 600 });
    await expect(
      http({ method: 'GET', url: `https://127.0.0.1:${port(slow)}/keys.json` }),
    ).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
      details: { timeoutMs: 600 },
    });
  });

  it('non-2xx is ERR_HTTP with the status; http:// is refused', async () => {
    const http = nodeCanaryHttp({ ca });
    await expect(http({ method: 'GET', url: `https://127.0.0.1:${port(slow)}/404` })).rejects.toMatchObject({
      code: 'ERR_HTTP',
      details: { status: 404 },
    });
    await expect(http({ method: 'GET', url: 'http://127.0.0.1:1/keys.json' })).rejects.toMatchObject({
      code: 'ERR_USAGE',
    });
  });

  it('defaults are canaryctl’s: 5 s connect, 15 s total, 256 KiB', async () => {
    const { CANARY_CONNECT_TIMEOUT_MS, CANARY_TOTAL_TIMEOUT_MS, CANARY_MAX_BODY_BYTES } = await import(
      '../../src/canary/http.js'
    );
    expect([CANARY_CONNECT_TIMEOUT_MS, CANARY_TOTAL_TIMEOUT_MS, CANARY_MAX_BODY_BYTES]).toEqual([
      5000, 15000, 262144,
    ]);
  });

  it('node URLs must be bare https origins', () => {
    expect(canaryNodeOrigin('https://Canary.Example.com:443/')).toBe('https://canary.example.com');
    for (const bad of [
      'http://canary.example.com',
      'https://canary.example.com/status',
      'https://canary.example.com/?x',
      'https://u@canary.example.com',
      'https://canary.example.com#',
    ]) {
      expect(() => canaryNodeOrigin(bad)).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
    }
  });
});
