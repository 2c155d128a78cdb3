// Revocation checking against CRLs issued by the test PKI and served over loopback HTTP: every
// status (good, revoked, unavailable) with its code, the cache, offline CRLs, and a real Nitro
// chain's distribution points (requested through a recording transport: no internet).
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EnclaveVerifyError } from '../../src/errors.js';
import { issueAttestation, testPcrs } from '../../src/forge/attestation.js';
import { issueTestCrl } from '../../src/forge/crl.js';
import { createTestPki, type PkiLevel, type TestPki } from '../../src/forge/pki.js';
import { ChainCache } from '../../src/trust/cache.js';
import { parseCrl } from '../../src/trust/crl.js';
import type { CrlTransport } from '../../src/trust/crl-fetch.js';
import { checkAttestation, type RevocationOptions, verifyAttestation } from '../../src/verify.js';

const AT = new Date('2026-06-01T12:00:00Z');
const DAY = 86_400_000;
const KU = x509.KeyUsageFlags;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const routes = new Map<string, Handler>();
const hits = new Map<string, number>();
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    const h = routes.get(req.url!);
    if (h) h(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const serve = (path: string, der: Uint8Array) =>
  routes.set(path, (_req, res) => res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(der));

let counter = 0;
/**
 * A test PKI whose regional, zonal, instance and leaf certificates name CRLs at `/<case>/<issuer>.crl`
 * (AWS names them on the regional and zonal CAs; the instance CA and leaf get one here so their
 * revocation can be tested too), with good empty lists served for every issuer.
 */
async function setup(urlOf?: (issuer: PkiLevel) => string) {
  const id = `c${++counter}`;
  const url = urlOf ?? ((issuer: PkiLevel) => `${base}/${id}/${issuer}.crl`);
  const pki = await createTestPki({
    at: AT,
    knobs: {
      regional: { crlDistributionPoints: [url('root')] },
      zonal: { crlDistributionPoints: [url('regional')] },
      // The instance CA signs the leaf's CRL, so it needs cRLSign here (AWS: keyCertSign only).
      instance: {
        crlDistributionPoints: [url('zonal')],
        keyUsage: KU.keyCertSign | KU.cRLSign,
      },
      leaf: { crlDistributionPoints: [url('instance')] },
    },
  });
  for (const level of ['root', 'regional', 'zonal', 'instance'] as const) {
    serve(
      `/${id}/${level}.crl`,
      await issueTestCrl(pki[level], { thisUpdate: new Date(AT.getTime() - DAY) }),
    );
  }
  const doc = await issueAttestation(pki, { timestamp: AT, pcrs: testPcrs() });
  return { id, pki, doc };
}

function options(pki: TestPki, checkRevocation: RevocationOptions | true = true, cache?: ChainCache) {
  return {
    trustedRoots: [pki.rootPem],
    currentDate: AT,
    expectedPcrs: { 0: testPcrs().get(0)! },
    checkRevocation,
    ...(cache ? { cache } : {}),
  };
}

async function rejection(p: Promise<unknown>): Promise<EnclaveVerifyError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EnclaveVerifyError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('checkRevocation with CRLs served over loopback', () => {
  test('good: every certificate with a distribution point is good, the root is not applicable', async () => {
    const { id, pki, doc } = await setup();
    const cache = new ChainCache();
    // The cache expires lists by the wall clock: pretend it is the documents' time.
    const atAT = { now: () => AT.getTime() };
    const result = await verifyAttestation(doc, options(pki, atAT, cache));
    expect(result.revocation!.map((s) => s.status)).toEqual([
      'good',
      'good',
      'good',
      'good',
      'not-applicable',
    ]);
    expect(result.revocation![2]!.crl).toMatchObject({
      url: `${base}/${id}/regional.crl`,
      source: 'download',
      thisUpdate: new Date(AT.getTime() - DAY),
      nextUpdate: new Date(AT.getTime() + 6 * DAY),
      entries: 0,
    });
    const check = result.checks.find((c) => c.name === 'chain.revocation')!;
    expect(check).toMatchObject({ ok: true });
    expect(check.incomplete).toBeUndefined();
    // Cached by URL until nextUpdate: a second document of the same chain downloads nothing.
    expect(cache.crls.size).toBe(4);
    const again = await verifyAttestation(doc, options(pki, atAT, cache));
    expect(again.revocation!.slice(0, 4).map((s) => s.crl?.source)).toEqual([
      'cache',
      'cache',
      'cache',
      'cache',
    ]);
    expect(hits.get(`/${id}/zonal.crl`)).toBe(1);
    // Past its nextUpdate by the wall clock, a list is fetched again.
    const later = await verifyAttestation(doc, options(pki, { now: () => AT.getTime() + 7 * DAY }, cache));
    expect(later.revocation![1]!.crl?.source).toBe('download');
    expect(hits.get(`/${id}/zonal.crl`)).toBe(2);
  });

  test('revoked leaf: ERR_CERT_REVOKED with serial, time and reason', async () => {
    const { id, pki, doc } = await setup();
    const revokedAt = new Date(AT.getTime() - 2 * 3_600_000);
    serve(
      `/${id}/instance.crl`,
      await issueTestCrl(pki.instance, {
        thisUpdate: new Date(AT.getTime() - 3_600_000),
        revoked: [{ certificate: pki.leaf, at: revokedAt, reason: 1 }],
      }),
    );
    const e = await rejection(verifyAttestation(doc, options(pki)));
    const serial = new x509.X509Certificate(new Uint8Array(pki.leaf.der)).serialNumber.toLowerCase();
    expect(e.code).toBe('ERR_CERT_REVOKED');
    expect(e.details).toMatchObject({
      serial,
      revokedAt: revokedAt.toISOString(),
      reason: 'keyCompromise',
      crl: `${base}/${id}/instance.crl`,
    });
    expect(e.message).toContain(`serial ${serial}`);
    const report = await checkAttestation(doc, options(pki));
    expect(report.revocation![0]).toMatchObject({ status: 'revoked', code: 'ERR_CERT_REVOKED', revokedAt });
    expect(report.checks.at(-1)).toMatchObject({
      name: 'chain.revocation',
      ok: false,
      code: 'ERR_CERT_REVOKED',
    });
  });

  test('revoked intermediate (regional CA, listed by the root): ERR_CERT_REVOKED', async () => {
    const { id, pki, doc } = await setup();
    serve(
      `/${id}/root.crl`,
      await issueTestCrl(pki.root, { revoked: [{ certificate: pki.regional, reason: 2 }], thisUpdate: AT }),
    );
    const report = await checkAttestation(doc, options(pki));
    expect(report.error?.code).toBe('ERR_CERT_REVOKED');
    expect(report.revocation!.map((s) => s.status)).toEqual([
      'good',
      'good',
      'good',
      'revoked',
      'not-applicable',
    ]);
    expect(report.revocation![3]).toMatchObject({ revocationReason: 'cACompromise', revokedAt: AT });
  });

  test('unavailable statuses, each with its code; shown, failing only with require', async () => {
    const { id, pki, doc } = await setup();
    // expired list (nextUpdate before the verification time)
    serve(
      `/${id}/regional.crl`,
      await issueTestCrl(pki.regional, {
        thisUpdate: new Date(AT.getTime() - 9 * DAY),
        nextUpdate: new Date(AT.getTime() - DAY),
      }),
    );
    // list signed by the wrong key
    const stranger = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, [
      'sign',
    ])) as CryptoKeyPair;
    serve(`/${id}/zonal.crl`, await issueTestCrl(pki.zonal, { signingKey: stranger.privateKey }));
    // redirect to a good list
    routes.set(`/${id}/instance.crl`, (_req, res) =>
      res.writeHead(302, { location: `/${id}/zonal.crl` }).end(),
    );
    // oversized: 2 MiB streamed without a length
    routes.set(`/${id}/root.crl`, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/pkix-crl' });
      const chunk = new Uint8Array(64 * 1024);
      let sent = 0;
      const more = () => {
        while (sent < 32) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });
    const report = await checkAttestation(doc, options(pki));
    expect(report.ok).toBe(true);
    expect(report.revocation!.map((s) => [s.status, s.code])).toEqual([
      ['unavailable', 'ERR_HTTP_REDIRECT'],
      ['unavailable', 'ERR_CRL_SIGNATURE'],
      ['unavailable', 'ERR_CRL_OUTDATED'],
      ['unavailable', 'ERR_RESPONSE_TOO_LARGE'],
      ['not-applicable', undefined],
    ]);
    expect(report.revocation![2]!.reason).toContain(
      `expired at its nextUpdate ${new Date(AT.getTime() - DAY).toISOString()}`,
    );
    const check = report.checks.find((c) => c.name === 'chain.revocation')!;
    expect(check).toMatchObject({ ok: true, incomplete: true });
    expect(check.detail).toMatch(/^NOT CHECKED for 4 certificate\(s\)/);
    // Nothing bad was cached.
    const e = await rejection(verifyAttestation(doc, options(pki, { require: true })));
    expect(e.code).toBe('ERR_REVOCATION_UNAVAILABLE');
    expect(e.message).toContain('ERR_CRL_SIGNATURE');
  });

  test('unreachable and timeout: ERR_HTTP and ERR_TIMEOUT', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const id = `c${counter + 1}`;
    const { pki, doc } = await setup((issuer) =>
      issuer === 'root' ? `http://127.0.0.1:${deadPort}/root.crl` : `${base}/${id}/${issuer}.crl`,
    );
    routes.set(`/${id}/regional.crl`, () => {}); // never answers
    const report = await checkAttestation(doc, options(pki, { timeoutMs: 300 }));
    expect(report.revocation!.map((s) => [s.status, s.code])).toEqual([
      ['good', undefined],
      ['good', undefined],
      ['unavailable', 'ERR_TIMEOUT'],
      ['unavailable', 'ERR_HTTP'],
      ['not-applicable', undefined],
    ]);
  });

  test('offline CRLs (--crl): an audit uses the list valid at that time; a later list is outdated', async () => {
    const { pki, doc } = await setup(() => 'http://crl.invalid/never-fetched.crl');
    const old = [
      await issueTestCrl(pki.root, { thisUpdate: new Date(AT.getTime() - DAY) }),
      await issueTestCrl(pki.regional, { thisUpdate: new Date(AT.getTime() - DAY) }),
      await issueTestCrl(pki.zonal, { thisUpdate: new Date(AT.getTime() - DAY) }),
      // a later list revoking the leaf, issued after the document: not used for the audit
      await issueTestCrl(pki.instance, {
        thisUpdate: new Date(AT.getTime() + DAY),
        revoked: [{ certificate: pki.leaf }],
      }),
    ];
    const report = await checkAttestation(doc, options(pki, { crls: old, fetch: false }));
    expect(report.revocation!.map((s) => [s.status, s.code, s.crl?.source])).toEqual([
      ['unavailable', 'ERR_CRL_OUTDATED', undefined],
      ['good', undefined, 'given'],
      ['good', undefined, 'given'],
      ['good', undefined, 'given'],
      ['not-applicable', undefined, undefined],
    ]);
    expect(report.revocation![0]!.reason).toContain('after the verification time');
    // Given the list valid at the document's time, the leaf is good too (no download attempted).
    const valid = await issueTestCrl(pki.instance, { thisUpdate: new Date(AT.getTime() - 3_600_000) });
    const full = await verifyAttestation(
      doc,
      options(pki, { crls: [...old, valid], fetch: false, require: true }),
    );
    expect(full.revocation!.map((s) => s.status)).toEqual(['good', 'good', 'good', 'good', 'not-applicable']);
  });

  test('PEM input, lists that cannot be used, and a malformed download', async () => {
    const { id, pki, doc } = await setup();
    const critical = await issueTestCrl(pki.root, {
      thisUpdate: AT,
      extensions: [{ oid: '1.3.6.1.4.1.99999.7', critical: true, value: new Uint8Array([0x05, 0x00]) }],
    });
    expect(parseCrl(critical).unusable).toEqual([
      'it has the unknown critical extension 1.3.6.1.4.1.99999.7',
    ]);
    serve(`/${id}/root.crl`, critical);
    routes.set(`/${id}/regional.crl`, (_req, res) => res.writeHead(200).end('not a crl'));
    const zonal = await issueTestCrl(pki.zonal, { thisUpdate: AT });
    const pem = `-----BEGIN X509 CRL-----\n${Buffer.from(zonal).toString('base64')}\n-----END X509 CRL-----\n`;
    routes.set(`/${id}/zonal.crl`, (_req, res) => res.writeHead(200).end(pem));
    const report = await checkAttestation(doc, options(pki));
    expect(report.revocation!.map((s) => [s.status, s.code])).toEqual([
      ['good', undefined],
      ['good', undefined],
      ['unavailable', 'ERR_CRL_INVALID'],
      ['unavailable', 'ERR_CRL_INVALID'],
      ['not-applicable', undefined],
    ]);
  });
});

test('a transport that ignores its abort signal still times out (ERR_TIMEOUT), never hangs', async () => {
  const { pki, doc } = await setup(() => 'http://crl.invalid/x.crl');
  const deaf: CrlTransport = () => new Promise<Uint8Array>(() => {});
  const report = await checkAttestation(doc, options(pki, { transport: deaf, timeoutMs: 100 }));
  expect(report.revocation!.slice(0, 4).map((s) => s.code)).toEqual([
    'ERR_TIMEOUT',
    'ERR_TIMEOUT',
    'ERR_TIMEOUT',
    'ERR_TIMEOUT',
  ]);
});

describe('real Nitro chain', () => {
  test('asks exactly for the CRLs its regional and zonal certificates name; the rest name none', async () => {
    const doc = new Uint8Array(
      readFileSync(new URL('../../vectors/real/nitro/valid/signal_2023-05-24.cbor', import.meta.url)),
    );
    const asked: string[] = [];
    const offline: CrlTransport = async ({ url }) => {
      asked.push(url);
      throw new EnclaveVerifyError('ERR_HTTP', `offline test: ${url} not fetched`);
    };
    const report = await checkAttestation(doc, {
      currentDate: 'document',
      checkRevocation: { transport: offline },
    });
    expect(report.ok).toBe(true);
    expect(asked.sort()).toEqual([
      'http://aws-nitro-enclaves-crl.s3.amazonaws.com/crl/ab4960cc-7d63-42bd-9e9f-59338cb67f84.crl',
      'http://crl-us-east-1-aws-nitro-enclaves.s3.us-east-1.amazonaws.com/crl/9732a9ff-9dea-457a-9212-20e407bafb1c.crl',
    ]);
    expect(report.revocation!.map((s) => [s.status, s.code])).toEqual([
      ['not-applicable', undefined],
      ['not-applicable', undefined],
      ['unavailable', 'ERR_HTTP'],
      ['unavailable', 'ERR_HTTP'],
      ['not-applicable', undefined],
    ]);
    const withRequire = await checkAttestation(doc, {
      currentDate: 'document',
      checkRevocation: { transport: offline, require: true },
    });
    expect(withRequire.error?.code).toBe('ERR_REVOCATION_UNAVAILABLE');
  });
});
