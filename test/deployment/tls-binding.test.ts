import { describe, expect, test } from 'vitest';
import { describeManifest } from '../../src/deployment/manifest.js';
import { attestationUrl } from '../../src/deployment/response.js';
import { bindingHost, checkTlsBinding, parseTlsBinding } from '../../src/deployment/tls-binding.js';
import { toHex, utf8 } from '../../src/util/bytes.js';
import { sha256 } from '../../src/util/digest.js';

const leaf = utf8('pretend this is the DER of a TLS leaf certificate');
const certfp = toHex(await sha256(leaf));
const binding = (domain: string, fp = certfp) =>
  utf8(JSON.stringify({ tls: { mode: 'tls', domain, certfp: fp } }));
const url = (s: string) => attestationUrl(s);

describe('parseTlsBinding', () => {
  test('reads Caution TLS mode', () => {
    expect(parseTlsBinding(binding('a.example'))).toEqual({ mode: 'tls', domain: 'a.example', certfp });
  });
  test('no claim: absent, empty, binary, non-JSON, other JSON (verifying_key)', () => {
    expect(parseTlsBinding(undefined)).toBeUndefined();
    expect(parseTlsBinding(null)).toBeUndefined();
    expect(parseTlsBinding(new Uint8Array(0))).toBeUndefined();
    expect(parseTlsBinding(new Uint8Array([0xff, 0xfe]))).toBeUndefined();
    expect(parseTlsBinding(utf8('hello'))).toBeUndefined();
    expect(parseTlsBinding(utf8('{"verifying_key":[1,2,3]}'))).toBeUndefined();
  });
  test('malformed claims are ERR_TLS_BINDING, never "no claim"', () => {
    for (const bad of [
      '{"tls":"x"}',
      '{"tls":{"domain":"a","certfp":"00"}}',
      '{"tls":{"mode":"tls","domain":"","certfp":"00"}}',
      `{"tls":{"mode":"tls","domain":"a","certfp":"${certfp.toUpperCase()}"}}`,
      `{"tls":{"mode":"tls","domain":"a","certfp":"${certfp}00"}}`,
    ]) {
      expect(() => parseTlsBinding(utf8(bad)), bad).toThrowError(
        expect.objectContaining({ code: 'ERR_TLS_BINDING' }),
      );
    }
  });
  test('an unknown mode is reported as such', () => {
    expect(parseTlsBinding(utf8('{"tls":{"mode":"e2e"}}'))).toEqual({ mode: 'e2e' });
  });
});

describe('checkTlsBinding', () => {
  test('passed: the leaf hashes to certfp and the domain is the host (port ignored)', async () => {
    const r = await checkTlsBinding(binding('enclave.example'), url('https://Enclave.Example:8443'), leaf);
    expect(r.status).toBe('passed');
    expect(r.observedCertfp).toBe(certfp);
    expect(r.host).toBe('enclave.example');
  });
  test('another certificate: ERR_TLS_BINDING with both fingerprints', async () => {
    const err = await checkTlsBinding(
      binding('enclave.example'),
      url('https://enclave.example'),
      utf8('other'),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_TLS_BINDING', details: { claimedCertfp: certfp } });
  });
  test('another domain: ERR_TLS_BINDING, even when the certificate matches', async () => {
    const err = await checkTlsBinding(binding('enclave.example'), url('https://127.0.0.1:9'), leaf).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      code: 'ERR_TLS_BINDING',
      details: { claimedDomain: 'enclave.example', host: '127.0.0.1' },
    });
  });
  test('no certificate visible (fetch): unchecked, not passed', async () => {
    const r = await checkTlsBinding(binding('enclave.example'), url('https://enclave.example'), undefined);
    expect(r.status).toBe('unchecked');
  });
  test('plain HTTP: unbound', async () => {
    const r = await checkTlsBinding(binding('127.0.0.1'), url('http://127.0.0.1:8080'), undefined);
    expect(r.status).toBe('unbound');
    expect(r.summary).toContain('unbound');
  });
  test('no claim: absent; IPv6 hosts compare without brackets', async () => {
    expect((await checkTlsBinding(undefined, url('https://[::1]:1'), leaf)).status).toBe('absent');
    expect(bindingHost(new URL('https://[::1]:1/'))).toBe('::1');
    expect((await checkTlsBinding(binding('::1'), url('https://[::1]:1'), leaf)).status).toBe('passed');
  });
});

describe('attestationUrl', () => {
  test('a bare origin means /attestation; other paths are kept', () => {
    expect(attestationUrl('https://a.example').toString()).toBe('https://a.example/attestation');
    expect(attestationUrl('https://a.example/').toString()).toBe('https://a.example/attestation');
    expect(attestationUrl('https://a.example/x/y?z=1#f').toString()).toBe('https://a.example/x/y?z=1');
  });
  test('other schemes, credentials and non-URLs are ERR_USAGE', () => {
    for (const bad of ['ftp://a.example', 'a.example', 'https://u:p@a.example']) {
      expect(() => attestationUrl(bad), bad).toThrowError(expect.objectContaining({ code: 'ERR_USAGE' }));
    }
  });
});

describe('describeManifest', () => {
  test('provenance sources are listed, the view is marked unsigned, control characters removed', () => {
    const view = describeManifest({
      version: '1',
      app_source: { url: 'https://git.example/app', commit: 'abc123' },
      enclave_source: { url: 'https://git.example/os\u001b[2J', commit: 'def456' },
      framework_source: 'https://git.example/fw',
      nested: { ignored: true },
    });
    expect(view?.signed).toBe(false);
    expect(view?.sources).toEqual([
      { name: 'app_source', url: 'https://git.example/app', commit: 'abc123' },
      { name: 'enclave_source', url: 'https://git.example/os [2J', commit: 'def456' },
      { name: 'framework_source', url: 'https://git.example/fw', commit: undefined },
    ]);
    expect(view?.fields).toEqual({ version: '1' });
    expect(describeManifest(undefined)).toBeUndefined();
    expect(describeManifest([1])).toBeUndefined();
  });

  test('a hostile, deeply nested manifest is bounded so it can be re-serialised', () => {
    const deep = JSON.parse(`{"app_source":{"commit":"x"},"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    const view = describeManifest(deep);
    expect(() => JSON.stringify(view?.raw)).not.toThrow();
    expect(JSON.stringify(view?.raw)).toContain('[nested too deep; omitted]');
    expect(view?.sources).toEqual([{ name: 'app_source', url: undefined, commit: 'x' }]);
  });
});
