import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { fromBase64, toHex } from '../../src/util/bytes.js';
import { checkAttestation, verifyAttestation } from '../../src/verify.js';
import { codeOfAsync as codeOf } from '../support/errors.js';

const NITRO = new URL('../../vectors/real/nitro/', import.meta.url);
const CAUTION = new URL('../../vectors/real/caution/', import.meta.url);

interface ManifestEntry {
  name: string;
  file: string;
  expected: string;
  module_id: string;
  timestamp: number;
  pcr_count: number;
  pcr012_all_zero: boolean;
  pcr0: string;
  pcr1: string;
  pcr2: string;
}
const manifest = JSON.parse(readFileSync(new URL('manifest.json', NITRO), 'utf8')) as ManifestEntry[];
const valid = manifest.filter((m) => m.file.startsWith('valid/'));
const read = (m: ManifestEntry) => new Uint8Array(readFileSync(new URL(m.file, NITRO)));

describe('real documents in vectors/real/nitro/valid', () => {
  test('the manifest lists all 12 valid documents', () => {
    expect(valid.length).toBe(12);
  });

  test.each(valid.map((m) => [m.name, m] as const))(
    '%s verifies at its own timestamp with exact PCRs',
    async (_n, m) => {
      const expectedPcrs = { 0: m.pcr0, 1: m.pcr1, 2: m.pcr2 };
      const r = await verifyAttestation(read(m), {
        currentDate: 'document',
        expectedPcrs,
        allowDebug: m.pcr012_all_zero,
      });
      expect(r.timeSource).toBe('document');
      expect(r.verifiedAt.getTime()).toBe(m.timestamp);
      expect(r.document.moduleId).toBe(m.module_id);
      expect(r.document.timestampMs).toBe(m.timestamp);
      expect(r.document.pcrs.size).toBe(m.pcr_count);
      expect(toHex(r.document.pcrs.get(0)!)).toBe(m.pcr0);
      expect(toHex(r.document.pcrs.get(1)!)).toBe(m.pcr1);
      expect(toHex(r.document.pcrs.get(2)!)).toBe(m.pcr2);
      expect(r.pcrs.filter((row) => row.match === true).map((row) => row.index)).toEqual([0, 1, 2]);
      expect(r.chain).toHaveLength(5);
      expect(r.chain[4]!.sha256).toBe('641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b');
      expect(r.checks.every((c) => c.ok)).toBe(true);
      expect(r.debug).toBe(m.pcr012_all_zero);
    },
  );

  test.each(valid.map((m) => [m.name, m] as const))(
    "%s fails at today's date with ERR_CERT_EXPIRED",
    async (_n, m) => {
      expect(await codeOf(verifyAttestation(read(m), { allowDebug: true }))).toBe('ERR_CERT_EXPIRED');
    },
  );

  test('debug documents fail with ERR_DEBUG_MODE unless allowDebug', async () => {
    const debug = valid.filter((m) => m.pcr012_all_zero);
    expect(debug.map((m) => m.name)).toEqual(['evervault_2022-10-12_debug']);
    for (const m of debug) {
      expect(await codeOf(verifyAttestation(read(m), { currentDate: 'document' }))).toBe('ERR_DEBUG_MODE');
      const r = await verifyAttestation(read(m), { currentDate: 'document', allowDebug: true });
      expect(r.debug).toBe(true);
    }
  });

  test('a wrong expected PCR fails with ERR_PCR_MISMATCH and marks the row', async () => {
    const m = valid[0]!;
    const r = await checkAttestation(read(m), {
      currentDate: 'document',
      expectedPcrs: { 0: 'ab'.repeat(48) },
    });
    expect(r.error?.code).toBe('ERR_PCR_MISMATCH');
    expect(r.pcrs.find((row) => row.index === 0)).toEqual({
      index: 0,
      actual: m.pcr0,
      expected: ['ab'.repeat(48)],
      match: false,
    });
  });
});

describe('real documents at the times their source projects used (manifest "valid@<seconds>")', () => {
  test('signal and base verify at their later test times', async () => {
    for (const name of ['signal_2023-05-24', 'base_2024-11-30']) {
      const m = valid.find((x) => x.name === name)!;
      const at = new Date(Number(m.expected.split('@')[1]) * 1000);
      expect(at.getTime()).toBeGreaterThan(m.timestamp);
      const r = await verifyAttestation(read(m), { currentDate: at });
      expect(r.timeSource).toBe('given');
    }
  });

  test('sequence at its test time, 92 minutes BEFORE its own timestamp: ERR_FUTURE unless the skew allows it', async () => {
    // Decision: a document dated after the verification time (beyond clockSkewMs, default 60 s)
    // is refused even when every certificate is already valid; the source project accepted it.
    const m = valid.find((x) => x.name === 'sequence_2025-04-04')!;
    const at = new Date(1743786436 * 1000);
    expect(await codeOf(verifyAttestation(read(m), { currentDate: at }))).toBe('ERR_FUTURE');
    const r = await verifyAttestation(read(m), { currentDate: at, clockSkewMs: 2 * 3_600_000 });
    expect(r.checks.find((c) => c.name === 'freshness')?.ok).toBe(true);
  });
});

describe('real documents in vectors/real/nitro/invalid', () => {
  test('bad COSE signature: ERR_SIGNATURE_INVALID at its own time', async () => {
    const m = manifest.find((x) => x.name === 'neg_eternis_bad_signature')!;
    expect(await codeOf(verifyAttestation(read(m), { currentDate: 'document', allowDebug: true }))).toBe(
      'ERR_SIGNATURE_INVALID',
    );
  });
  test('mock root: ERR_CHAIN_UNTRUSTED at its own time and now', async () => {
    const m = manifest.find((x) => x.name === 'neg_oyster_mock_root')!;
    expect(await codeOf(verifyAttestation(read(m), { currentDate: 'document' }))).toBe('ERR_CHAIN_UNTRUSTED');
    expect(await codeOf(verifyAttestation(read(m)))).toBe('ERR_CHAIN_UNTRUSTED');
  });
});

describe('Caution evidence vector', () => {
  const evidence = JSON.parse(readFileSync(new URL('evidence-v0-vector.json', CAUTION), 'utf8')) as {
    document: string;
    nonce: string;
    observed_at: string;
  };
  const bytes = fromBase64(evidence.document);
  const nonce = fromBase64(evidence.nonce);

  test('verifies with its nonce at the observation time and at the document time', async () => {
    expect(toHex(nonce)).toBe('d041b23bce8678bbc7c174bd8494c4f9759386eec963ec69bfd45c1452b10636');
    const r = await verifyAttestation(bytes, { nonce, currentDate: new Date(evidence.observed_at) });
    expect(r.timeSource).toBe('given');
    expect(r.checks.find((c) => c.name === 'nonce')?.ok).toBe(true);
    await verifyAttestation(bytes, { nonce, currentDate: 'document' });
  });

  test('fails with any other nonce (ERR_NONCE_MISMATCH)', async () => {
    for (const i of [0, 15, 31]) {
      const other = nonce.slice();
      other[i]! ^= 1;
      expect(await codeOf(verifyAttestation(bytes, { nonce: other, currentDate: 'document' }))).toBe(
        'ERR_NONCE_MISMATCH',
      );
    }
    expect(
      await codeOf(verifyAttestation(bytes, { nonce: nonce.subarray(0, 31), currentDate: 'document' })),
    ).toBe('ERR_NONCE_MISMATCH');
  });
});
