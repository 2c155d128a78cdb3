// The strict CRL reader and the CRL Distribution Points reader: lists written by @peculiar/x509
// (an independent writer) read back exactly, and malformed or unusable input refused or flagged.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, test } from 'vitest';
import { issueTestCrl } from '../../src/forge/crl.js';
import { createTestPki, type TestPki } from '../../src/forge/pki.js';
import { decodeAttestation } from '../../src/parse/document.js';
import { decodeCrlInput, parseCrl } from '../../src/trust/crl.js';
import { crlDistributionPoints } from '../../src/trust/crl-distribution-points.js';
import { codeOf } from '../support/errors.js';

const AT = new Date('2026-03-01T00:00:00Z');
let pki: TestPki;
let crl: Uint8Array;

beforeAll(async () => {
  pki = await createTestPki({ at: AT });
  crl = await issueTestCrl(pki.zonal, {
    thisUpdate: AT,
    nextUpdate: new Date('2026-03-08T00:00:00Z'),
    revoked: [
      { certificate: pki.instance, at: new Date('2026-02-27T10:00:00Z'), reason: 1 },
      { certificate: pki.leaf, at: new Date('2026-02-28T10:00:00Z') },
    ],
  });
});

describe('parseCrl', () => {
  test('reads issuer, window, entries and reasons exactly', () => {
    const c = parseCrl(crl);
    expect(c.signatureAlgorithm).toBe('1.2.840.10045.4.3.3');
    expect(c.signatureHash).toBe('SHA-384');
    expect(c.thisUpdateMs).toBe(AT.getTime());
    expect(c.nextUpdateMs).toBe(Date.parse('2026-03-08T00:00:00Z'));
    const x = new x509.X509Crl(new Uint8Array(crl));
    expect(Buffer.from(c.issuerRaw)).toEqual(
      Buffer.from(new x509.X509Certificate(new Uint8Array(pki.zonal.der)).subjectName.toArrayBuffer()),
    );
    const serial = (t: { der: Uint8Array }) =>
      new x509.X509Certificate(new Uint8Array(t.der)).serialNumber.toLowerCase();
    expect([...c.revoked.values()]).toEqual([
      { serialHex: serial(pki.instance), revokedAtMs: Date.parse('2026-02-27T10:00:00Z'), reason: 1 },
      { serialHex: serial(pki.leaf), revokedAtMs: Date.parse('2026-02-28T10:00:00Z') },
    ]);
    expect(x.entries).toHaveLength(2);
    expect(c.unusable).toEqual([]);
  });

  test('malformed DER is ERR_CRL_INVALID', () => {
    expect(codeOf(() => parseCrl(crl.subarray(0, crl.length - 1)))).toBe('ERR_CRL_INVALID');
    expect(codeOf(() => parseCrl(new Uint8Array([...crl, 0])))).toBe('ERR_CRL_INVALID');
    expect(codeOf(() => parseCrl(new Uint8Array([0x30, 0x80, 0, 0])))).toBe('ERR_CRL_INVALID');
    expect(codeOf(() => parseCrl(pki.leaf.der))).toBe('ERR_CRL_INVALID');
  });

  test('delta and critical-extension lists are flagged unusable', async () => {
    const delta = await issueTestCrl(pki.zonal, {
      extensions: [{ oid: '2.5.29.27', critical: true, value: new Uint8Array([0x02, 0x01, 0x05]) }],
    });
    expect(parseCrl(delta).unusable).toEqual(['it is a delta CRL (only complete CRLs are evaluated)']);
  });

  test('decodeCrlInput reads DER and every PEM block, and refuses anything else', () => {
    const b64 = Buffer.from(crl).toString('base64');
    const pem = `-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`;
    expect(decodeCrlInput(new TextEncoder().encode(pem + pem)).map((d) => d.length)).toEqual([
      crl.length,
      crl.length,
    ]);
    expect(decodeCrlInput(crl)).toEqual([crl]);
    expect(codeOf(() => decodeCrlInput(new TextEncoder().encode('hello')))).toBe('ERR_CRL_INVALID');
  });
});

describe('crlDistributionPoints', () => {
  test("a real Nitro chain: the regional and zonal CAs name their issuer's CRL, the rest none", () => {
    const doc = decodeAttestation(
      new Uint8Array(
        readFileSync(
          new URL('../../vectors/real/nitro/valid/anchorage_2022-11-09_eu-west-1.cbor', import.meta.url),
        ),
      ),
    );
    const [root, regional, zonal, instance] = doc.cabundle;
    expect(crlDistributionPoints(root!)).toEqual({ urls: [], skipped: [] });
    expect(crlDistributionPoints(instance!)).toEqual({ urls: [], skipped: [] });
    expect(crlDistributionPoints(doc.certificate)).toEqual({ urls: [], skipped: [] });
    expect(crlDistributionPoints(regional!).urls).toEqual([
      'http://aws-nitro-enclaves-crl.s3.amazonaws.com/crl/ab4960cc-7d63-42bd-9e9f-59338cb67f84.crl',
    ]);
    expect(crlDistributionPoints(zonal!).urls).toHaveLength(1);
    expect(crlDistributionPoints(zonal!).urls[0]).toMatch(
      /^http:\/\/crl-eu-west-1-aws-nitro-enclaves\.s3\.eu-west-1\.amazonaws\.com\/crl\/[0-9a-f-]{36}\.crl$/,
    );
  });

  test('only http and https are used; other schemes are listed as skipped', async () => {
    const p = await createTestPki({
      at: AT,
      knobs: {
        zonal: {
          crlDistributionPoints: [
            'ldap://ldap.example/cn=crl',
            'https://crl.example/z.crl',
            'HTTP://crl.example/Z.crl',
          ],
        },
      },
    });
    expect(crlDistributionPoints(p.zonal.der)).toEqual({
      urls: ['https://crl.example/z.crl', 'HTTP://crl.example/Z.crl'],
      skipped: ['ldap URL ldap://ldap.example/cn=crl (only http and https are fetched)'],
    });
  });
});
