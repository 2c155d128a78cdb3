// Issue 15 item 4, "Lax DER / X.509 parsing": each certificate below is signed by a real (test) CA,
// so only the parser stands between it and a verified chain. Each was accepted before the DER
// reader became strict and must now be refused with ERR_CHAIN_INVALID.
import { beforeAll, describe, expect, test } from 'vitest';
import { createTestPki, issueAttestation, type TestPki } from '../../src/forge/index.js';
import { checkAttestation } from '../../src/verify.js';
import {
  concat,
  contentOf,
  ecdsaDer,
  elements,
  reissue,
  replaceExtension,
  tlv,
  unhex,
} from '../support/der-edit.js';

const AT = new Date('2025-01-01T00:00:00Z');
const BASIC_CONSTRAINTS = '551d13';
const KEY_USAGE = '551d0f';
let pki: TestPki;

beforeAll(async () => {
  pki = await createTestPki({ at: AT, label: 'strict-der' });
});

/** Verify a document whose leaf (or instance CA) is replaced; returns 'ok' or the error code. */
async function outcome(certs: { leaf?: Uint8Array; instance?: Uint8Array }): Promise<string> {
  const bytes = await issueAttestation(pki, {
    ...(certs.leaf ? { certificate: certs.leaf } : {}),
    ...(certs.instance ? { cabundle: [...pki.cabundle.slice(0, 3), certs.instance] } : {}),
  });
  const r = await checkAttestation(bytes, { trustedRoots: [pki.rootPem], currentDate: 'document' });
  return r.ok ? 'ok' : r.error!.code;
}

// Leaf re-issued by the instance CA with its TBS edited.
const leafWith = (edit: (tbs: Uint8Array[]) => Uint8Array[]) =>
  reissue(pki.leaf.der, pki.instance.keys.privateKey, edit);
const withExt = (tbs: Uint8Array[], oid: string, build: (ext: Uint8Array[]) => Uint8Array[]) =>
  tbs.map((e, i) => (i === tbs.length - 1 ? replaceExtension(e, oid, build) : e));
const bcValue = (content: string) => (ext: Uint8Array[]) => [...ext.slice(0, -1), tlv(0x04, unhex(content))];
const utc = (s: string) => tlv(0x17, new TextEncoder().encode(s));
const gen = (s: string) => tlv(0x18, new TextEncoder().encode(s));

describe('issue 15 item 4: lax DER / X.509 parsing', () => {
  test('control: the re-issued leaf without edits verifies (the harness signs correctly)', async () => {
    expect(await outcome({ leaf: await leafWith((t) => t) })).toBe('ok');
  });

  test('two [3] extension blocks: the first one (unknown critical extension) is not ignored', async () => {
    const unknownCritical = tlv(
      0xa3,
      tlv(
        0x30,
        tlv(0x30, tlv(0x06, unhex('2b0601040186ff1f01')), tlv(0x01, unhex('ff')), tlv(0x04, unhex('0500'))),
      ),
    );
    const leaf = await leafWith((t) => [...t.slice(0, -1), unknownCritical, t[t.length - 1]!]);
    expect(await outcome({ leaf })).toBe('ERR_CHAIN_INVALID');
  });

  test('basicConstraints {TRUE, FALSE}: a repeated cA field is refused, not read "last wins"', async () => {
    const leaf = await leafWith((t) => withExt(t, BASIC_CONSTRAINTS, bcValue('30060101ff010100')));
    expect(await outcome({ leaf })).toBe('ERR_CHAIN_INVALID');
  });

  test('BER boolean 0x01 in basicConstraints is refused, not read as FALSE', async () => {
    const leaf = await leafWith((t) => withExt(t, BASIC_CONSTRAINTS, bcValue('3003010101')));
    expect(await outcome({ leaf })).toBe('ERR_CHAIN_INVALID');
  });

  test('trailing bytes inside the version [0]', async () => {
    const leaf = await leafWith((t) => [tlv(0xa0, unhex('0201020500')), ...t.slice(1)]);
    expect(await outcome({ leaf })).toBe('ERR_CHAIN_INVALID');
  });

  test('trailing bytes inside the extensions [3]', async () => {
    const leaf = await leafWith((t) => [
      ...t.slice(0, -1),
      tlv(0xa3, contentOf(t[t.length - 1]!), unhex('0500')),
    ]);
    expect(await outcome({ leaf })).toBe('ERR_CHAIN_INVALID');
  });

  test('trailing bytes inside an extnValue (basicConstraints)', async () => {
    const leaf = await leafWith((t) => withExt(t, BASIC_CONSTRAINTS, bcValue('30000500')));
    expect(await outcome({ leaf })).toBe('ERR_CHAIN_INVALID');
  });

  test('a non-minimal version INTEGER (02 02 00 02)', async () => {
    const leaf = await leafWith((t) => [tlv(0xa0, unhex('02020002')), ...t.slice(1)]);
    expect(await outcome({ leaf })).toBe('ERR_CHAIN_INVALID');
  });

  test('an impossible date (Feb 30) is refused, not normalised to March 1', async () => {
    const leaf = await leafWith((t) => [
      ...t.slice(0, 4),
      tlv(0x30, utc('240230000000Z'), elements(t[4]!)[1]!),
      ...t.slice(5),
    ]);
    expect(await outcome({ leaf })).toBe('ERR_CHAIN_INVALID');
  });

  test('GeneralizedTime before 2050 is refused (RFC 5280: UTCTime until 2049)', async () => {
    const leaf = await leafWith((t) => [
      ...t.slice(0, 4),
      tlv(0x30, gen('20241231000000Z'), elements(t[4]!)[1]!),
      ...t.slice(5),
    ]);
    expect(await outcome({ leaf })).toBe('ERR_CHAIN_INVALID');
  });

  test('keyCertSign is not read from bits the unused-bits count excludes', async () => {
    // Instance CA keyUsage 03 02 07 84: only bit 0 (digitalSignature) is in use; 0x04 (keyCertSign)
    // sits in the 7 unused bits.
    const instance = await reissue(pki.instance.der, pki.zonal.keys.privateKey, (t) =>
      withExt(t, KEY_USAGE, (ext) => [...ext.slice(0, -1), tlv(0x04, unhex('03020784'))]),
    );
    expect(await outcome({ instance })).toBe('ERR_CHAIN_INVALID');
  });

  test('an empty serial number INTEGER', async () => {
    const leaf = await leafWith((t) => [t[0]!, tlv(0x02), ...t.slice(2)]);
    expect(await outcome({ leaf })).toBe('ERR_CHAIN_INVALID');
  });

  test('a signature INTEGER with a redundant leading zero (a second fingerprint, same signature)', async () => {
    const [tbs, alg, sig] = elements(pki.leaf.der);
    // Rebuild r || s from the DER signature, then re-encode r with an extra 0x00.
    const [r, s] = elements(contentOf(sig!).subarray(1)).map((i) => contentOf(i));
    const raw = new Uint8Array(96);
    const strip = (v: Uint8Array) => (v.length > 48 ? v.subarray(v.length - 48) : v);
    raw.set(strip(r!), 48 - strip(r!).length);
    raw.set(strip(s!), 96 - strip(s!).length);
    const leaf = tlv(0x30, tbs!, alg!, tlv(0x03, concat(new Uint8Array([0]), ecdsaDer(raw, true))));
    expect(await outcome({ leaf })).toBe('ERR_CHAIN_INVALID');
  });
});
