import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { isEnclaveVerifyError } from '../../src/errors.js';
import { decodeAttestation, parseAttestation } from '../../src/parse/document.js';
import { decodeUtf8, toHex } from '../../src/util/bytes.js';
import { verifyAttestation } from '../../src/verify.js';

const NITRO = new URL('../../vectors/real/nitro/', import.meta.url);
const read = (f: string) => new Uint8Array(readFileSync(new URL(f, NITRO)));

describe('decodeAttestation (unverified)', () => {
  test('decodes every field of the Caution document (indefinite-length payload map)', () => {
    const bytes = read('valid/caution_2025-12-23_bootproof.cbor');
    const { document, envelope } = parseAttestation(bytes);
    expect(envelope.tagged).toBe(false);
    expect(toHex(envelope.protectedBytes)).toBe('a1013822');
    expect(envelope.signature.length).toBe(96);
    expect(document.moduleId).toBe('i-00fc9beee0ec1bddb-enc019b47ec6c3e036e');
    expect(document.digest).toBe('SHA384');
    expect(document.timestampMs).toBe(1766509563435);
    expect(document.timestamp.toISOString()).toBe('2025-12-23T17:06:03.435Z');
    expect(document.pcrs.size).toBe(16);
    expect(document.cabundle.length).toBe(4);
    expect(toHex(document.nonce!)).toBe('d041b23bce8678bbc7c174bd8494c4f9759386eec963ec69bfd45c1452b10636');
    expect(decodeUtf8(document.userData!)).toMatch(/^\{"verifying_key":\[/);
    expect(document.publicKey).toBeUndefined();
  });

  test('null optionals are absent, an empty user_data stays an empty array, PCR16 is kept', () => {
    const anjuna = decodeAttestation(read('valid/anjuna_2021-03-17_prod.cbor'));
    expect('nonce' in anjuna || 'userData' in anjuna || 'publicKey' in anjuna).toBe(false);
    const oyster = decodeAttestation(read('valid/oyster_2025-04-29_pcr16.cbor'));
    expect(oyster.userData).toEqual(new Uint8Array(0));
    expect([...oyster.pcrs.keys()]).toEqual([...Array(17).keys()]);
  });

  test('returned byte fields are copies: mutating them does not touch the input', () => {
    const bytes = read('valid/anjuna_2021-03-17_prod.cbor');
    const before = bytes.slice();
    const doc = decodeAttestation(bytes);
    doc.certificate.fill(0);
    doc.pcrs.get(0)!.fill(0);
    expect(bytes).toEqual(before);
  });

  test('a real document wrapped in tag 18 still verifies (tagged and untagged accepted)', async () => {
    const bytes = read('valid/anjuna_2021-03-17_prod.cbor');
    const tagged = new Uint8Array([0xd2, ...bytes]);
    const r = await verifyAttestation(tagged, { currentDate: 'document' });
    expect(r.tagged).toBe(true);
    expect(r.document.moduleId).toBe('i-078824548edcf6519-enc01784234ec227b58');
  });

  test('input bounds: over 64 KiB refused as ERR_INPUT_TOO_LARGE before decoding', () => {
    const big = new Uint8Array(64 * 1024 + 1);
    big[0] = 0x84;
    let code = '';
    try {
      decodeAttestation(big);
    } catch (e) {
      if (isEnclaveVerifyError(e)) code = e.code;
    }
    expect(code).toBe('ERR_INPUT_TOO_LARGE');
  });
});

describe('document kind: exactly one of pcrs / nitrotpm_pcrs (SPEC 1.5)', () => {
  const fail = (bytes: Uint8Array) => {
    try {
      decodeAttestation(bytes);
    } catch (e) {
      if (isEnclaveVerifyError(e)) return [e.code, e.details?.field, e.message];
      throw e;
    }
    return ['accepted'];
  };

  test('a forged document with both maps is refused, and one with neither; each kind alone decodes', async () => {
    const { createTestPki, issueAttestation } = await import('../../src/forge/index.js');
    const { CborEntries } = await import('../../src/util/cbor-encode.js');
    const pki = await createTestPki();
    const tpm = decodeAttestation(await issueAttestation(pki, { kind: 'nitrotpm' }));
    expect([tpm.kind, tpm.pcrs.size, tpm.moduleId]).toEqual([
      'nitrotpm',
      24,
      'i-00000000000000000-tpm0000000000000000',
    ]);
    expect(decodeAttestation(await issueAttestation(pki)).kind).toBe('enclave');
    const both = await issueAttestation(
      pki,
      {},
      { payloadEntries: (e) => [...e, ['nitrotpm_pcrs', new CborEntries([[0, new Uint8Array(48)]])]] },
    );
    expect(fail(both)).toEqual([
      'ERR_DOCUMENT_INVALID',
      'pcrs',
      "attestation payload field 'pcrs' and 'nitrotpm_pcrs' are both present; a genuine document carries exactly one (an enclave's or a NitroTPM's), so this one is forged or broken; this is not a well-formed Nitro attestation document",
    ]);
    // The same refusal whichever map comes first, and when one of them is null.
    const bothTpmFirst = await issueAttestation(
      pki,
      { kind: 'nitrotpm' },
      { payloadEntries: (e) => [...e, ['pcrs', null]] },
    );
    expect(fail(bothTpmFirst)[0]).toBe('ERR_DOCUMENT_INVALID');
    expect(fail(bothTpmFirst)[2]).toMatch(/both present/);
    const neither = await issueAttestation(
      pki,
      {},
      { payloadEntries: (e) => e.filter(([k]) => k !== 'pcrs') },
    );
    expect(fail(neither).slice(0, 2)).toEqual(['ERR_DOCUMENT_INVALID', 'pcrs']);
    expect(fail(neither)[2]).toMatch(/'pcrs' is missing \(and so is 'nitrotpm_pcrs'\)/);
    // nitrotpm_pcrs follows the pcrs rules, named as its own field.
    const badSize = await issueAttestation(pki, {
      kind: 'nitrotpm',
      pcrs: new Map([[3, new Uint8Array(20)]]),
    });
    expect(fail(badSize).slice(0, 2)).toEqual(['ERR_DOCUMENT_INVALID', 'nitrotpm_pcrs[3]']);
    const badIndex = await issueAttestation(pki, {
      kind: 'nitrotpm',
      pcrs: new Map([[32, new Uint8Array(48)]]),
    });
    expect(fail(badIndex).slice(0, 2)).toEqual(['ERR_DOCUMENT_INVALID', 'nitrotpm_pcrs']);
  });
});
