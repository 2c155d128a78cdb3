// One probe against simulated enclaves on loopback, each behaviour named with Canary's reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDemoFleet,
  type DemoCanaryEnclave,
  type DemoFleet,
  startDemoCanaryEnclave,
} from '../../src/canary/node/demo-enclaves.js';
import { checkTargetUrl, classifyAddress, resolvePinned } from '../../src/canary/node/network.js';
import { canaryReason, probeTarget } from '../../src/canary/node/probe.js';
import { EnclaveVerifyError } from '../../src/errors.js';

let fleet: DemoFleet;
let enclave: DemoCanaryEnclave;
beforeAll(async () => {
  fleet = await createDemoFleet();
  enclave = await startDemoCanaryEnclave(fleet);
});
afterAll(async () => {
  await enclave.close();
});

function options(timeoutMs = 3000) {
  return {
    network: { allowPrivate: true, ca: [fleet.tls.certPem] },
    trustedRoots: [fleet.pki.rootPem],
    timeoutMs,
  };
}
const target = (tls: boolean) => ({
  id: 't',
  attestation_url: enclave.url,
  ...(tls ? { e2e_mode: 'tls' as const } : {}),
  expected_pcrs: fleet.expectedPcrs,
});

describe('probeTarget', () => {
  it('passes an honest tls-bound enclave with the binding of this connection', async () => {
    enclave.behaviour = 'honest';
    const r = await probeTarget(target(true), options());
    expect(r.reason).toBe('ALL_CHECKS_PASSED');
    expect(r.observedAt?.getTime()).toBe(r.attemptedAt.getTime());
    expect(r.attemptedAt.getUTCMilliseconds()).toBe(0);
    expect(r.authenticated && r.nonceVerified).toBe(true);
    expect(r.observedPcrs).toEqual(fleet.expectedPcrs);
    expect(r.tls).toEqual({
      attested_mode: 'tls',
      attested_domain: 'localhost',
      attested_certfp: fleet.certfp,
      observed_certfp: fleet.certfp,
    });
    expect(r.hasManifest).toBe(true);
    expect(r.nonce).toHaveLength(32);
  });

  it.each([
    ['pcr-change', true, 'PCR_MISMATCH'],
    ['bad-nonce', true, 'NONCE_MISMATCH'],
    ['wrong-certfp', true, 'TLS_BINDING_MISMATCH'],
    ['wrong-certfp', false, 'ALL_CHECKS_PASSED'],
    ['http-error', true, 'HTTP_ERROR'],
    ['drop-connection', true, 'UNREACHABLE'],
  ] as const)('%s (tls target: %s) -> %s', async (behaviour, tls, reason) => {
    enclave.behaviour = behaviour;
    const r = await probeTarget(target(tls), options());
    expect(r.reason).toBe(reason);
    const definitive = !['HTTP_ERROR', 'UNREACHABLE'].includes(reason);
    expect(r.observedAt !== undefined).toBe(definitive);
    expect(r.document !== undefined).toBe(definitive);
  });

  it('a hung enclave is TIMEOUT', async () => {
    enclave.behaviour = 'hang';
    const r = await probeTarget(target(false), options(300));
    expect(r.reason).toBe('TIMEOUT');
    expect(r.error?.code).toBe('ERR_TIMEOUT');
  });

  it('keeps the observed PCRs out of a document whose nonce failed', async () => {
    enclave.behaviour = 'bad-nonce';
    const r = await probeTarget(target(false), options());
    expect(r.authenticated).toBe(true);
    expect(r.nonceVerified).toBe(false);
    expect(r.observedPcrs).toBeNull();
  });

  it('refuses loopback targets without --allow-private, before any request', async () => {
    enclave.behaviour = 'honest';
    const before = enclave.issued;
    const r = await probeTarget(target(false), { ...options(), network: { ca: [fleet.tls.certPem] } });
    expect(r.reason).toBe('UNREACHABLE');
    expect(r.error?.message).toMatch(/resolves to 127\.0\.0\.1 \(loopback\).*--allow-private/);
    expect(enclave.issued).toBe(before);
  });
});

describe('network rules', () => {
  it('classifies addresses', () => {
    expect(
      ['127.0.0.2', '10.0.0.1', '172.20.1.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0'].map(
        classifyAddress,
      ),
    ).toEqual(['loopback', 'private', 'private', 'private', 'link-local', 'private', 'unspecified']);
    expect(['::1', '::', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1', 'ff02::1'].map(classifyAddress)).toEqual([
      'loopback',
      'unspecified',
      'private',
      'link-local',
      'private',
      'multicast',
    ]);
    expect(classifyAddress('93.184.216.34')).toBe('public');
    expect(classifyAddress('2606:4700::1111')).toBe('public');
  });

  it('refuses a name with any non-public address, and pins the first one otherwise', async () => {
    const resolve = async () => [
      { address: '203.0.113.7', family: 4 },
      { address: '10.1.1.1', family: 4 },
    ];
    await expect(resolvePinned('x.example', { resolve })).rejects.toMatchObject({ code: 'ERR_HTTP' });
    expect(await resolvePinned('x.example', { resolve, allowPrivate: true })).toEqual({
      address: '203.0.113.7',
      family: 4,
    });
  });

  it('accepts https only (http with allowHttp), without credentials or fragments', () => {
    expect(checkTargetUrl('https://a.example:8443/attestation?x=1', {}).port).toBe('8443');
    expect(() => checkTargetUrl('http://a.example/', {})).toThrow(/not https/);
    expect(checkTargetUrl('http://a.example/', { allowHttp: true }).protocol).toBe('http:');
    expect(() => checkTargetUrl('https://u:p@a.example/', {})).toThrow(/user name, password or fragment/);
    expect(() => checkTargetUrl('https://a.example/#', {})).toThrow(/fragment/);
  });

  it('maps deployment error codes to reasons', () => {
    const e = (c: 'ERR_HTTP' | 'ERR_CERT_EXPIRED' | 'ERR_HTTP_REDIRECT' | 'ERR_CBOR_MALFORMED') =>
      new EnclaveVerifyError(c, 'x');
    expect(canaryReason(e('ERR_HTTP'))).toBe('UNREACHABLE');
    expect(canaryReason(e('ERR_HTTP'), 500)).toBe('HTTP_ERROR');
    expect(canaryReason(e('ERR_CERT_EXPIRED'))).toBe('INVALID_CERTIFICATE_CHAIN');
    expect(canaryReason(e('ERR_HTTP_REDIRECT'))).toBe('HTTP_ERROR');
    expect(canaryReason(e('ERR_CBOR_MALFORMED'))).toBe('MALFORMED_EVIDENCE');
    expect(canaryReason(new Error('bug'))).toBe('INTERNAL_ERROR');
  });
});
