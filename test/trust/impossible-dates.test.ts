// Defect: the CRL time reader believed impossible dates (Feb 31 read as March 3, hour 24 as the
// next day), while the certificate reader refused them. Every DER UTCTime/GeneralizedTime reader
// now goes through one strict function: certificates (ERR_CHAIN_INVALID), CRLs (ERR_CRL_INVALID)
// and the EIF signing certificate describe-eif prints (ERR_EIF_SIGNATURE). Each edited element
// is signed again by the real (test) issuer key, so only the time is wrong.
import { beforeAll, describe, expect, test } from 'vitest';
import { issueTestCrl } from '../../src/forge/crl.js';
import { issueAttestation } from '../../src/forge/index.js';
import { createTestPki, type TestPki } from '../../src/forge/pki.js';
import { signingCertificateFacts } from '../../src/measure/certificate.js';
import { parseCertificate } from '../../src/trust/certificate.js';
import { parseCrl } from '../../src/trust/crl.js';
import { checkAttestation } from '../../src/verify.js';
import { elements, reissue, signCertificate, tlv } from '../support/der-edit.js';
import { codeOf } from '../support/errors.js';

const AT = new Date('2025-01-01T00:00:00Z');
const ascii = (s: string) => new TextEncoder().encode(s);
const time = (s: string) => tlv(s.length === 13 ? 0x17 : 0x18, ascii(s));

/** Times no calendar has, each written the way RFC 5280 would otherwise accept. */
const IMPOSSIBLE: Array<[string, string]> = [
  ['Feb 31', '250231120000Z'],
  ['Feb 29 in the common year 2023', '230229120000Z'],
  ['Feb 29 in 2100 (not a leap year)', '21000229120000Z'],
  ['hour 24 (24:00:00)', '250101240000Z'],
  ['minute 60', '250101126000Z'],
  ['second 60', '250101235960Z'],
  ['month 13', '251301120000Z'],
  ['month 00', '250001120000Z'],
  ['day 00', '250100120000Z'],
  ['Apr 31', '250431120000Z'],
  ['GeneralizedTime Feb 30 2052', '20520230000000Z'],
];

/** Real dates at the edges, with the instant each names. */
const REAL: Array<[string, string, string]> = [
  ['Feb 29 2024 (a leap year)', '240229120000Z', '2024-02-29T12:00:00Z'],
  ['Feb 29 2000 (divisible by 400)', '000229235959Z', '2000-02-29T23:59:59Z'],
  ['GeneralizedTime Feb 29 2052', '20520229000000Z', '2052-02-29T00:00:00Z'],
];

let pki: TestPki;
let crl: Uint8Array;

beforeAll(async () => {
  pki = await createTestPki({ at: AT, label: 'dates' });
  crl = await issueTestCrl(pki.zonal, {
    thisUpdate: AT,
    nextUpdate: new Date('2025-01-08T00:00:00Z'),
    revoked: [{ certificate: pki.leaf, at: new Date('2024-12-31T10:00:00Z'), reason: 1 }],
  });
});

// TBSCertList: version, signature, issuer, thisUpdate, nextUpdate, revokedCertificates, ...
const THIS_UPDATE = 3;
const NEXT_UPDATE = 4;
const REVOKED = 5;
type CrlSlot = 'thisUpdate' | 'nextUpdate' | 'revocationDate';

/** The test CRL with one time replaced, signed again by the zonal CA. */
async function crlWith(slot: CrlSlot, t: string): Promise<Uint8Array> {
  const parts = elements(elements(crl)[0]!);
  expect(parts[THIS_UPDATE]![0]).toBe(0x17); // the layout this edit assumes
  if (slot === 'thisUpdate') parts[THIS_UPDATE] = time(t);
  else if (slot === 'nextUpdate') parts[NEXT_UPDATE] = time(t);
  else {
    const [entry] = elements(parts[REVOKED]!);
    const [serial, , ...rest] = elements(entry!);
    parts[REVOKED] = tlv(0x30, tlv(0x30, serial!, time(t), ...rest));
  }
  return signCertificate(tlv(0x30, ...parts), pki.zonal.keys.privateKey);
}

const readCrlTime = (c: Uint8Array, slot: CrlSlot) => {
  const parsed = parseCrl(c);
  if (slot === 'thisUpdate') return parsed.thisUpdateMs;
  if (slot === 'nextUpdate') return parsed.nextUpdateMs;
  return [...parsed.revoked.values()][0]!.revokedAtMs;
};

// TBSCertificate: version, serial, signature, issuer, validity, subject, SPKI, extensions.
type CertSlot = 'notBefore' | 'notAfter';
const leafWith = (slot: CertSlot, t: string) =>
  reissue(pki.leaf.der, pki.instance.keys.privateKey, (tbs) => {
    const [nb, na] = elements(tbs[4]!);
    return [
      ...tbs.slice(0, 4),
      slot === 'notBefore' ? tlv(0x30, time(t), na!) : tlv(0x30, nb!, time(t)),
      ...tbs.slice(5),
    ];
  });

describe('impossible DER dates are refused by every time reader', () => {
  test('control: the re-signed CRL and leaf with unchanged times read back exactly', async () => {
    expect(readCrlTime(await crlWith('thisUpdate', '250101000000Z'), 'thisUpdate')).toBe(AT.getTime());
    const leaf = await leafWith('notBefore', '250101000000Z');
    expect(parseCertificate(leaf).notBeforeMs).toBe(AT.getTime());
  });

  for (const slot of ['thisUpdate', 'nextUpdate', 'revocationDate'] as const) {
    test.each(IMPOSSIBLE)(`CRL ${slot}: %s is ERR_CRL_INVALID`, async (_what, t) => {
      const edited = await crlWith(slot, t);
      expect(codeOf(() => parseCrl(edited))).toBe('ERR_CRL_INVALID');
      expect(() => parseCrl(edited)).toThrow(/not a real calendar date and time/);
    });
    test.each(REAL)(`CRL ${slot}: %s is read as that instant`, async (_what, t, iso) => {
      expect(readCrlTime(await crlWith(slot, t), slot)).toBe(Date.parse(iso));
    });
  }

  test('CRL: a GeneralizedTime before 2050 is refused as in certificates (RFC 5280 5.1.2.4)', async () => {
    const edited = await crlWith('thisUpdate', '20250101000000Z');
    expect(codeOf(() => parseCrl(edited))).toBe('ERR_CRL_INVALID');
    expect(() => parseCrl(edited)).toThrow(/GeneralizedTime before 2050/);
  });

  for (const slot of ['notBefore', 'notAfter'] as const) {
    test.each(IMPOSSIBLE)(`certificate ${slot}: %s is ERR_CHAIN_INVALID`, async (_what, t) => {
      const leaf = await leafWith(slot, t);
      expect(codeOf(() => parseCertificate(leaf, 'leaf'))).toBe('ERR_CHAIN_INVALID');
      expect(() => parseCertificate(leaf, 'leaf')).toThrow(/not a real calendar date and time/);
    });
    test.each(REAL)(`certificate ${slot}: %s is read as that instant`, async (_what, t, iso) => {
      const parsed = parseCertificate(await leafWith(slot, t));
      expect(slot === 'notBefore' ? parsed.notBeforeMs : parsed.notAfterMs).toBe(Date.parse(iso));
    });
  }

  test('a whole document whose leaf starts on Feb 31 2024 is ERR_CHAIN_INVALID; on Feb 29 2024 it verifies', async () => {
    const outcome = async (notBefore: string) => {
      const bytes = await issueAttestation(pki, { certificate: await leafWith('notBefore', notBefore) });
      const r = await checkAttestation(bytes, { trustedRoots: [pki.rootPem], currentDate: 'document' });
      return r.ok ? 'ok' : r.error!.code;
    };
    expect(await outcome('240231120000Z')).toBe('ERR_CHAIN_INVALID');
    expect(await outcome('240229120000Z')).toBe('ok');
  });

  test.each(IMPOSSIBLE)(
    'EIF signing certificate (describe-eif facts): %s is ERR_EIF_SIGNATURE',
    async (_what, t) => {
      const cert = await leafWith('notAfter', t);
      expect(codeOf(() => signingCertificateFacts(cert))).toBe('ERR_EIF_SIGNATURE');
    },
  );

  test('EIF signing certificate: real edge dates print as OpenSSL prints them', async () => {
    const facts = signingCertificateFacts(await leafWith('notBefore', '240229120000Z'));
    expect(facts.notBefore).toBe('Feb 29 12:00:00 2024 GMT');
    expect(signingCertificateFacts(await leafWith('notAfter', '20520229000000Z')).notAfter).toBe(
      'Feb 29 00:00:00 2052 GMT',
    );
    expect(signingCertificateFacts(await leafWith('notAfter', '000301090807Z')).notAfter).toBe(
      'Mar  1 09:08:07 2000 GMT',
    );
  });
});
