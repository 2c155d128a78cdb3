// NitroTPM attestation documents (SPEC 1.5, issue 16): the real documents of vectors/real/nitrotpm
// verify at their own time with every PCR exact, the kind is detected and can be required, the
// enclave debug rule does not apply, unmeasured PCRs never satisfy an expectation, and tampered
// copies are refused with their exact codes.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { decodeAttestation } from '../../src/parse/document.js';
import { fromHex, toHex } from '../../src/util/bytes.js';
import { checkAttestation, verifyAttestation } from '../../src/verify.js';
import { codeOfAsync as codeOf } from '../support/errors.js';

const TPM = new URL('../../vectors/real/nitrotpm/', import.meta.url);
const NITRO = new URL('../../vectors/real/nitro/', import.meta.url);

interface TpmEntry {
  name: string;
  file: string;
  module_id: string;
  timestamp: number;
  nitrotpm_pcrs: Record<string, string>;
  nonce: string;
  public_key: string;
  user_data: null;
  leaf_not_before: string;
  leaf_not_after: string;
}
const manifest = JSON.parse(readFileSync(new URL('manifest.json', TPM), 'utf8')) as TpmEntry[];
const read = (m: TpmEntry) => new Uint8Array(readFileSync(new URL(m.file, TPM)));
const isReset = (hex: string) => /^(00)+$/.test(hex) || /^(ff)+$/.test(hex);
const measured = (m: TpmEntry) =>
  Object.fromEntries(Object.entries(m.nitrotpm_pcrs).filter(([, v]) => !isReset(v)));
const AWS_ROOT_SHA256 = '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b';

describe('real NitroTPM documents', () => {
  test('the manifest lists both documents, 24 PCRs each', () => {
    expect(manifest.map((m) => m.name)).toEqual(['vaportpm_2026-02-02', 'vaportpm_2026-02-01_nonce-ascii']);
    for (const m of manifest) expect(Object.keys(m.nitrotpm_pcrs)).toHaveLength(24);
  });

  test.each(manifest.map((m) => [m.name, m] as const))(
    '%s verifies at its own timestamp with its nonce, public key and measured PCRs; all 24 PCRs exact',
    async (_n, m) => {
      const r = await verifyAttestation(read(m), {
        currentDate: 'document',
        expectedPcrs: measured(m),
        nonce: fromHex(m.nonce),
        publicKey: fromHex(m.public_key),
        kind: 'nitrotpm',
      });
      expect(r.document.kind).toBe('nitrotpm');
      expect(r.document.moduleId).toBe(m.module_id);
      expect(r.document.timestampMs).toBe(m.timestamp);
      expect(r.verifiedAt.getTime()).toBe(m.timestamp);
      // Every one of the 24 values, by index, exactly as the manifest (read with Python's cbor2).
      const actual = Object.fromEntries([...r.document.pcrs].map(([i, v]) => [String(i), toHex(v)]));
      expect(actual).toEqual(m.nitrotpm_pcrs);
      expect(r.document.userData).toBeUndefined();
      expect(r.debug).toBe(false);
      expect(r.chain).toHaveLength(5);
      expect(r.chain[0]!.subject).toContain(m.module_id);
      expect(r.chain[4]!.sha256).toBe(AWS_ROOT_SHA256);
      expect(r.checks.map((c) => [c.name, c.ok])).toEqual([
        ['parse', true],
        ['chain.path', true],
        ['chain.constraints', true],
        ['chain.signatures', true],
        ['chain.validity', true],
        ['signature', true],
        ['kind', true],
        ['debug', true],
        ['pcrs', true],
        ['nonce', true],
        ['public_key', true],
        ['freshness', true],
      ]);
      expect(r.checks.find((c) => c.name === 'debug')?.detail).toMatch(/^NitroTPM document: no debug mode/);
      // Only measured PCRs were expected: 0..10 (plus 8/23 where extended), never the reset ones.
      expect(r.pcrs.filter((row) => row.match === true).map((row) => row.index)).toEqual(
        Object.keys(measured(m)).map(Number),
      );
      expect(r.pcrs.filter((row) => row.unmeasured).length).toBe(24 - Object.keys(measured(m)).length);
    },
  );

  test.each(manifest.map((m) => [m.name, m] as const))(
    "%s fails at today's date with ERR_CERT_EXPIRED and at its leaf's notAfter + 1 ms",
    async (_n, m) => {
      expect(await codeOf(verifyAttestation(read(m), { expectedPcrs: { 4: m.nitrotpm_pcrs['4']! } }))).toBe(
        'ERR_CERT_EXPIRED',
      );
      const after = new Date(Date.parse(m.leaf_not_after) + 1000);
      const r = await checkAttestation(read(m), { currentDate: after, expectedPcrs: measured(m) });
      expect([r.error?.code, r.checks.at(-1)?.name]).toEqual(['ERR_CERT_EXPIRED', 'chain.validity']);
    },
  );

  test('decodeAttestation names the kind; the enclave documents stay enclave', () => {
    expect(decodeAttestation(read(manifest[0]!)).kind).toBe('nitrotpm');
    const enclave = new Uint8Array(readFileSync(new URL('valid/anjuna_2021-03-17_prod.cbor', NITRO)));
    expect(decodeAttestation(enclave).kind).toBe('enclave');
  });

  test('requiring the other kind fails with ERR_KIND_MISMATCH, both ways, after a genuine chain', async () => {
    const m = manifest[0]!;
    const tpm = await checkAttestation(read(m), {
      currentDate: 'document',
      expectedPcrs: { 4: m.nitrotpm_pcrs['4']! },
      kind: 'enclave',
    });
    expect(tpm.error?.code).toBe('ERR_KIND_MISMATCH');
    expect(tpm.checks.find((c) => c.name === 'signature')?.ok).toBe(true);
    expect(tpm.error?.message).toMatch(
      /^the document is a nitrotpm document .* but an enclave document was required/,
    );
    const enclave = new Uint8Array(readFileSync(new URL('valid/anjuna_2021-03-17_prod.cbor', NITRO)));
    const r = await checkAttestation(enclave, { currentDate: 'document', kind: 'nitrotpm' });
    expect(r.error?.code).toBe('ERR_KIND_MISMATCH');
    // An unknown kind is a caller error, before any work.
    expect(await codeOf(checkAttestation(enclave, { kind: 'vm' as 'enclave' }))).toBe('ERR_USAGE');
  });

  test('an expectation naming a PCR still at its reset value is a mismatch, even of that value', async () => {
    const m = manifest[0]!;
    for (const index of ['12', '17']) {
      const r = await checkAttestation(read(m), {
        currentDate: 'document',
        expectedPcrs: { 4: m.nitrotpm_pcrs['4']!, [index]: m.nitrotpm_pcrs[index]! },
      });
      expect(r.error?.code).toBe('ERR_PCR_MISMATCH');
      const row = r.pcrs.find((x) => x.index === Number(index))!;
      expect([row.actual, row.match, row.unmeasured]).toEqual([m.nitrotpm_pcrs[index], false, true]);
      expect(r.pcrs.find((x) => x.index === 4)?.match).toBe(true);
      expect(r.error?.message).toContain(
        `PCR${index} (${index === '12' ? 'all zero' : 'all ff'}: nothing measured, so it cannot confirm any expectation)`,
      );
      expect(r.error?.message).toContain('the instance did not boot the expected software');
    }
  });

  test("another instance's PCR1 (firmware data) is a mismatch; the shared PCR0 matches", async () => {
    const [a, b] = manifest as [TpmEntry, TpmEntry];
    expect(a.nitrotpm_pcrs['0']).toBe(b.nitrotpm_pcrs['0']);
    const same = await checkAttestation(read(a), {
      currentDate: 'document',
      expectedPcrs: { 0: b.nitrotpm_pcrs['0']! },
    });
    expect(same.ok).toBe(true);
    const other = await checkAttestation(read(a), {
      currentDate: 'document',
      expectedPcrs: { 1: b.nitrotpm_pcrs['1']! },
    });
    expect(other.error?.code).toBe('ERR_PCR_MISMATCH');
  });

  test('tampered copies are refused with their exact codes', async () => {
    for (const m of manifest) {
      const original = read(m);
      const flip = (offset: number, value?: number) => {
        const copy = original.slice();
        copy[offset] = value ?? copy[offset]! ^ 0x01;
        return copy;
      };
      const find = (needle: Uint8Array) => Buffer.from(original).indexOf(Buffer.from(needle));
      const options = { currentDate: new Date(m.timestamp), expectedPcrs: { 4: m.nitrotpm_pcrs['4']! } };
      const pcr4 = find(fromHex(m.nitrotpm_pcrs['4']!));
      const moduleId = find(new TextEncoder().encode(m.module_id));
      const key = find(new TextEncoder().encode('nitrotpm_pcrs'));
      expect([pcr4 > 0, moduleId > 0, key > 0]).toEqual([true, true, true]);
      expect(await codeOf(verifyAttestation(flip(pcr4), options))).toBe('ERR_SIGNATURE_INVALID');
      expect(await codeOf(verifyAttestation(flip(moduleId + 5), options))).toBe('ERR_SIGNATURE_INVALID');
      expect(await codeOf(verifyAttestation(flip(original.length - 1), options))).toBe(
        'ERR_SIGNATURE_INVALID',
      );
      // The PCR map's key renamed: no PCR map at all.
      const renamed = await checkAttestation(flip(key + 12, 0x72), options);
      expect([renamed.error?.code, renamed.error?.details?.field]).toEqual(['ERR_DOCUMENT_INVALID', 'pcrs']);
      // The same document still verifies untouched.
      expect((await verifyAttestation(original, options)).ok).toBe(true);
    }
  });
});
