/**
 * End to end over real HTTPS on loopback against the demo enclave: the honest run passes with
 * every check, and each misbehaviour switch is caught by its own error code.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type DemoEnclave,
  type DemoEnclaveOptions,
  startDemoEnclave,
} from '../../src/deployment/demo/enclave.js';
import { nodeTransport } from '../../src/deployment/node/transport.js';
import { fetchTransport } from '../../src/deployment/transport.js';
import { probeDeployment, verifyDeployment } from '../../src/deployment/verify-deployment.js';
import { toHex } from '../../src/util/bytes.js';

function expectations(demo: DemoEnclave) {
  return {
    transport: nodeTransport({ ca: demo.tlsCertPem }),
    trustedRoots: [demo.rootPem],
    expectedPcrs: { 0: demo.image.pcrs.pcr0, 1: demo.image.pcrs.pcr1, 2: demo.image.pcrs.pcr2 },
    timeoutMs: 10_000,
  };
}

async function withDemo<T>(options: DemoEnclaveOptions, fn: (demo: DemoEnclave) => Promise<T>): Promise<T> {
  const demo = await startDemoEnclave(options);
  try {
    return await fn(demo);
  } finally {
    await demo.close();
  }
}

describe('honest demo enclave', () => {
  let demo: DemoEnclave;
  beforeAll(async () => {
    demo = await startDemoEnclave();
  });
  afterAll(() => demo.close());

  test('passes: chain to the demo root, signature, PCRs of the EIF, nonce, freshness, TLS binding', async () => {
    const r = await verifyDeployment(demo.origin, expectations(demo));
    expect(r.ok).toBe(true);
    expect(r.endpoint).toBe(`${demo.origin}/attestation`);
    expect(r.status).toBe(200);
    expect(r.documentField).toBe('document');
    expect(r.verification.checks.map((c) => [c.name, c.ok])).toEqual([
      ['parse', true],
      ['chain.path', true],
      ['chain.constraints', true],
      ['chain.signatures', true],
      ['chain.validity', true],
      ['signature', true],
      // The deployment protocol is an enclave's: a NitroTPM document is refused (issue 16).
      ['kind', true],
      ['debug', true],
      ['pcrs', true],
      ['nonce', true],
      ['freshness', true],
    ]);
    expect(toHex(r.verification.document.nonce!)).toBe(toHex(r.nonce));
    expect(r.verification.pcrs.filter((p) => p.match).map((p) => p.index)).toEqual([0, 1, 2]);
    expect(r.verification.chain.map((c) => c.role)).toEqual([
      'leaf',
      'intermediate',
      'intermediate',
      'intermediate',
      'root',
    ]);
    expect(
      r.verification.chain.every((c) => c.subject.includes('NOT AWS') || c.subject.includes('not-aws')),
    ).toBe(true);
    expect(r.tlsBinding.status).toBe('passed');
    expect(r.tlsBinding.observedCertfp).toBe(demo.certfp);
    expect(r.tlsBinding.claim).toEqual({ mode: 'tls', domain: '127.0.0.1', certfp: demo.certfp });
    expect(r.manifest?.signed).toBe(false);
    expect(r.manifest?.sources.map((s) => s.name)).toEqual([
      'app_source',
      'enclave_source',
      'framework_source',
    ]);
  });

  test('PCR0 == PCR1 and PCR2 is the empty constant, as on every Caution enclave', () => {
    expect(toHex(demo.image.pcrs.pcr0)).toBe(toHex(demo.image.pcrs.pcr1));
    expect(toHex(demo.image.pcrs.pcr2)).toBe(
      '21b9efbc184807662e966d34f390821309eeac6802309798826296bf3e8bec7c10edb30948c90ba67310f7b964fc500a',
    );
  });

  test('through fetch (no certificate visible) the binding is unchecked, not passed', async () => {
    const { transport: _t, ...rest } = expectations(demo);
    // Node's fetch takes no per-request CA, so a transport that hides the certificate, as a
    // browser's fetch does, stands in here (real fetch runs in the plain-HTTP test below).
    const node = nodeTransport({ ca: demo.tlsCertPem });
    const browserLike = async (req: Parameters<typeof node>[0]) => ({
      ...(await node(req)),
      peerCertificate: undefined,
    });
    const r = await verifyDeployment(demo.origin, { ...rest, transport: browserLike });
    expect(r.tlsBinding.status).toBe('unchecked');
  });

  test('a wrong expected PCR is ERR_PCR_MISMATCH, with the table still reported', async () => {
    const p = await probeDeployment(demo.origin, {
      ...expectations(demo),
      expectedPcrs: { 0: 'ab'.repeat(48) },
    });
    expect(p.error?.code).toBe('ERR_PCR_MISMATCH');
    expect(p.verification?.pcrs.find((r) => r.index === 0)?.match).toBe(false);
  });

  test('the AWS root (default) does not trust the demo PKI: ERR_CHAIN_UNTRUSTED', async () => {
    const { trustedRoots: _r, ...rest } = expectations(demo);
    const p = await probeDeployment(demo.origin, rest);
    expect(p.error?.code).toBe('ERR_CHAIN_UNTRUSTED');
  });

  test('a domain mismatch: connecting as localhost to an enclave bound to 127.0.0.1 is ERR_TLS_BINDING', async () => {
    const p = await probeDeployment(`https://localhost:${demo.port}`, expectations(demo));
    expect(p.error?.code).toBe('ERR_TLS_BINDING');
    expect(p.error?.details).toMatchObject({ claimedDomain: '127.0.0.1', host: 'localhost' });
  });

  test('each probe issues a fresh document for a fresh nonce', async () => {
    const before = demo.issued;
    const a = await verifyDeployment(demo.origin, expectations(demo));
    const b = await verifyDeployment(demo.origin, expectations(demo));
    expect(demo.issued - before).toBe(2);
    expect(toHex(a.nonce)).not.toBe(toHex(b.nonce));
    expect(a.documentSha256).not.toBe(b.documentSha256);
  });
});

describe('misbehaving demo enclave', () => {
  test.each([
    [{ badNonce: true }, 'ERR_NONCE_MISMATCH'],
    [{ stale: true }, 'ERR_STALE'],
    [{ wrongCertfp: true }, 'ERR_TLS_BINDING'],
    [{ debugPcrs: true }, 'ERR_DEBUG_MODE'],
  ] as const)('%o is rejected with %s', async (misbehave, code) => {
    await withDemo({ misbehave }, async (demo) => {
      const p = await probeDeployment(demo.origin, expectations(demo));
      expect(p.ok).toBe(false);
      expect(p.error?.code).toBe(code);
    });
  });

  test('an enclave bound to another domain is ERR_TLS_BINDING', async () => {
    await withDemo({ domain: 'enclave.example' }, async (demo) => {
      const p = await probeDeployment(demo.origin, expectations(demo));
      expect(p.error?.code).toBe('ERR_TLS_BINDING');
      expect(p.error?.details).toMatchObject({ claimedDomain: 'enclave.example', host: '127.0.0.1' });
    });
  });

  test('--debug-pcrs with allowDebug: accepted, but the expected PCRs then mismatch', async () => {
    await withDemo({ misbehave: { debugPcrs: true } }, async (demo) => {
      const p = await probeDeployment(demo.origin, { ...expectations(demo), allowDebug: true });
      expect(p.error?.code).toBe('ERR_PCR_MISMATCH');
      expect(p.verification?.debug).toBe(true);
    });
  });

  test('plain HTTP with the real global fetch: verified, channel unbound', async () => {
    await withDemo({ plainHttp: true }, async (demo) => {
      const r = await verifyDeployment(demo.origin, { ...expectations(demo), transport: fetchTransport() });
      expect(demo.origin.startsWith('http://')).toBe(true);
      expect(r.tlsBinding.status).toBe('unbound');
      const strict = await probeDeployment(demo.origin, { ...expectations(demo), requireTlsBinding: true });
      expect(strict.error?.code).toBe('ERR_TLS_BINDING');
    });
  });
});
