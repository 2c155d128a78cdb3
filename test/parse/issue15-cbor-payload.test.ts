// Issue 15 items 9 and 10: findings in the parse stage, each shown by a document the test PKI signs.
import { decode as cborx } from 'cbor-x';
import { beforeAll, describe, expect, test } from 'vitest';
import { createTestPki, issueAttestation, type TestPki } from '../../src/forge/index.js';
import { decodeCbor } from '../../src/parse/cbor.js';
import { verificationJson } from '../../src/report/attestation-json.js';
import { renderVerificationText } from '../../src/report/attestation-text.js';
import { toHex } from '../../src/util/bytes.js';
import { encodeCbor } from '../../src/util/cbor-encode.js';
import { checkAttestation } from '../../src/verify.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki({ at: new Date('2025-01-01T00:00:00Z'), label: 'issue15' });
});
const opts = () => ({ trustedRoots: [pki.rootPem], currentDate: 'document' as const });

describe('issue 15 item 9: CBOR strips a leading U+FEFF from text', () => {
  test('text keeps its BOM, as cbor-x decodes it', () => {
    const bytes = encodeCbor('\uFEFFnonce');
    expect(decodeCbor(bytes)).toBe('\uFEFFnonce');
    expect(cborx(bytes)).toBe('\uFEFFnonce');
  });

  test('a payload key "\\uFEFFnonce" does not act as the nonce', async () => {
    const nonce = new Uint8Array(32).fill(7);
    const bytes = await issueAttestation(
      pki,
      {},
      { nullOptionals: false, payloadEntries: (e) => [...e, ['\uFEFFnonce', nonce]] },
    );
    const r = await checkAttestation(bytes, { ...opts(), nonce });
    expect(r.document?.nonce).toBeUndefined();
    expect(r.error?.code).toBe('ERR_NONCE_MISMATCH');
  });
});

describe('issue 15 item 10: a genuine document with a 0-byte public_key is refused', () => {
  test('a document with an empty public_key signed by the test PKI verifies, shown as (empty)', async () => {
    const bytes = await issueAttestation(pki, { publicKey: new Uint8Array(0) });
    const r = await checkAttestation(bytes, {
      ...opts(),
      expectedPcrs: { 0: toHex(new Uint8Array(48).fill(0x10)) },
    });
    expect(r.error?.code).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.document?.publicKey).toEqual(new Uint8Array(0));
    expect(renderVerificationText(r)).toMatch(/^public key +\(empty\)$/m);
    expect(verificationJson(r).document?.publicKey).toBe('');
  });

  test('an expected public key is still compared: an empty one does not match a non-empty expectation', async () => {
    const bytes = await issueAttestation(pki, { publicKey: new Uint8Array(0) });
    const r = await checkAttestation(bytes, { ...opts(), publicKey: new Uint8Array([1]) });
    expect(r.error?.code).toBe('ERR_PUBLIC_KEY_MISMATCH');
  });

  test('public_key over 1024 bytes is still refused', async () => {
    const bytes = await issueAttestation(pki, { publicKey: new Uint8Array(1025) });
    const r = await checkAttestation(bytes, opts());
    expect(r.error?.code).toBe('ERR_DOCUMENT_INVALID');
  });
});
