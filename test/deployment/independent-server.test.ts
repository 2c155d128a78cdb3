/**
 * The deployment client against a minimal attestation server written here, independent of the
 * demo server: it signs documents with the forge PKI and misbehaves per path. Real HTTPS on
 * loopback; each outcome asserted by error code.
 */
import { createHash } from 'node:crypto';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDemoTlsCertificate } from '../../src/deployment/demo/tls-certificate.js';
import { nodeTransport } from '../../src/deployment/node/transport.js';
import { probeDeployment } from '../../src/deployment/verify-deployment.js';
import { createTestPki, issueAttestation, type TestPki, testPcrs } from '../../src/forge/index.js';
import { toHex } from '../../src/util/bytes.js';

let server: https.Server;
let port: number;
let pki: TestPki;
let caPem: string;
let certfp: string;

/** How each path answers: which nonce, timestamp and binding it signs, and under which key. */
type Twist = {
  nonce?: 'other';
  age?: number;
  certfp?: string;
  domain?: string;
  key?: 'attestation_document';
};
const twists: Record<string, Twist> = {
  '/attestation': {},
  '/old-key': { key: 'attestation_document' },
  '/wrong-nonce': { nonce: 'other' },
  '/stale': { age: 10 * 60_000 },
  '/wrong-certfp': { certfp: 'ab'.repeat(32) },
  '/wrong-domain': { domain: 'enclave.example' },
};

beforeAll(async () => {
  const tls = await createDemoTlsCertificate();
  caPem = tls.certPem;
  certfp = createHash('sha256').update(tls.certDer).digest('hex');
  pki = await createTestPki({ label: 'independent' });
  server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c;
    });
    req.on('end', async () => {
      const twist = twists[req.url ?? ''];
      if (!twist) {
        res.writeHead(404).end();
        return;
      }
      const nonce = Buffer.from(JSON.parse(body).nonce, 'base64');
      const userData = Buffer.from(
        JSON.stringify({
          tls: { mode: 'tls', domain: twist.domain ?? '127.0.0.1', certfp: twist.certfp ?? certfp },
        }),
      );
      const doc = await issueAttestation(pki, {
        nonce: twist.nonce ? crypto.getRandomValues(new Uint8Array(32)) : new Uint8Array(nonce),
        timestamp: Date.now() - (twist.age ?? 0),
        userData: new Uint8Array(userData),
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ [twist.key ?? 'document']: Buffer.from(doc).toString('base64') }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const options = () => ({
  transport: nodeTransport({ ca: caPem }),
  trustedRoots: [pki.rootPem],
  expectedPcrs: { 0: testPcrs().get(0)!, 1: testPcrs().get(1)!, 2: testPcrs().get(2)! },
  timeoutMs: 10_000,
});

describe('independent attestation server', () => {
  test('success: verified with the TLS binding passed', async () => {
    const p = await probeDeployment(`https://127.0.0.1:${port}`, options());
    expect(p.error).toBeUndefined();
    expect(p.ok).toBe(true);
    expect(p.tlsBinding?.status).toBe('passed');
    expect(p.tlsBinding?.observedCertfp).toBe(certfp);
    expect(toHex(p.verification!.document!.nonce!)).toBe(toHex(p.nonce));
  });

  test('the older attestation_document key is accepted', async () => {
    const p = await probeDeployment(`https://127.0.0.1:${port}/old-key`, options());
    expect(p.ok).toBe(true);
    expect(p.documentField).toBe('attestation_document');
  });

  test.each([
    ['/wrong-nonce', 'ERR_NONCE_MISMATCH'],
    ['/stale', 'ERR_STALE'],
    ['/wrong-certfp', 'ERR_TLS_BINDING'],
    ['/wrong-domain', 'ERR_TLS_BINDING'],
  ])('%s is rejected with %s', async (path, code) => {
    const p = await probeDeployment(`https://127.0.0.1:${port}${path}`, options());
    expect(p.ok).toBe(false);
    expect(p.error?.code).toBe(code);
  });

  test('a document 10 min old passes with --max-age 15m', async () => {
    const p = await probeDeployment(`https://127.0.0.1:${port}/stale`, {
      ...options(),
      maxAgeMs: 15 * 60_000,
    });
    expect(p.ok).toBe(true);
  });
});
