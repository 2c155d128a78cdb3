// CANARY.md 5: evidence bundle parsing rules in order, and replay with Canary's reason mapping.
import { describe, expect, it } from 'vitest';
import { buildEvidenceBundle, parseEvidenceBundle, replayEvidence } from '../../src/canary/evidence.js';
import { canonicalJson, parseStrictJson } from '../../src/canary/jcs.js';
import { createTestPki, issueAttestation } from '../../src/forge/index.js';
import { toBase64 } from '../../src/util/bytes.js';
import { EVIDENCE_PCRS, vectorText } from './support.js';

const VECTOR = vectorText('evidence-v0-vector.json');
const vector = JSON.parse(VECTOR) as Record<string, unknown>;
const text = (over: Record<string, unknown>) => JSON.stringify({ ...vector, ...over });

async function rule(source: string): Promise<string | undefined> {
  try {
    await parseEvidenceBundle(source);
    return undefined;
  } catch (e) {
    expect((e as { code: string }).code).toBe('ERR_CANARY_EVIDENCE');
    return (e as { details: { rule: string } }).details.rule;
  }
}

describe('bundle rules (evidence.rs order)', () => {
  const without = (name: string) =>
    JSON.stringify(Object.fromEntries(Object.entries(vector).filter(([k]) => k !== name)));
  it.each([
    ['unknown member', text({ extra: 1 }), 'schema'],
    ['missing manifest', without('manifest'), 'schema'],
    ['missing nonce', without('nonce'), 'schema'],
    ['duplicate member', VECTOR.replace('"protocol"', '"target_id": "x",\n  "protocol"'), 'json'],
    ['document not a string', text({ document: 5 }), 'schema'],
    ['protocol', text({ protocol: 'caution-canary-evidence-v1' }), 'protocol'],
    ['target_id not an identifier', text({ target_id: 'payments/prod' }), 'target_id'],
    [
      'document without its padding',
      text({ document: (vector.document as string).replace(/=+$/, '') }),
      'document',
    ],
    [
      'document in the URL alphabet',
      text({ document: (vector.document as string).replace(/\+/g, '-').replace(/\//g, '_') }),
      'document',
    ],
    [
      'document with a line break',
      text({
        document: `${(vector.document as string).slice(0, 76)}\n${(vector.document as string).slice(76)}`,
      }),
      'document',
    ],
    ['empty document', text({ document: '' }), 'document'],
    ['nonce of 31 bytes', text({ nonce: toBase64(new Uint8Array(31)) }), 'nonce'],
    ['nonce without padding', text({ nonce: (vector.nonce as string).replace(/=+$/, '') }), 'nonce'],
    ['observed_at with a fraction', text({ observed_at: '2025-12-23T17:20:16.000Z' }), 'observed_at'],
    ['observed_at with an offset', text({ observed_at: '2025-12-23T17:20:16+00:00' }), 'observed_at'],
    ['observed_at with a space', text({ observed_at: '2025-12-23 17:20:16Z' }), 'observed_at'],
    [
      'observed_at on a day that does not exist',
      text({ observed_at: '2025-02-30T17:20:16Z' }),
      'observed_at',
    ],
    [
      'evidence_digest in uppercase',
      text({ evidence_digest: (vector.evidence_digest as string).toUpperCase().replace('SHA256', 'sha256') }),
      'evidence_digest',
    ],
    [
      'evidence_digest of other bytes',
      text({ evidence_digest: `sha256:${'0'.repeat(64)}` }),
      'evidence_digest',
    ],
    ['manifest_digest of another manifest', text({ manifest: { a: 1 } }), 'manifest_digest'],
  ])('refuses %s', async (_, source, expected) => {
    expect(await rule(source)).toBe(expected);
  });

  it('code: the manifest may be any JSON value, even null (its digest is of "null")', async () => {
    const parsed = await parseEvidenceBundle(
      text({
        manifest: null,
        manifest_digest: 'sha256:74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b',
      }),
    );
    expect(parsed.bundle.manifest).toBeNull();
  });

  it('deliberately stricter than serde_json: a duplicate member inside the manifest is refused (Value would keep the last)', async () => {
    const text = VECTOR.replace('"manifest": {}', '"manifest": {"a": 1, "a": 2}');
    expect(await rule(text)).toBe('json');
  });

  it('code: manifest integers above 2^53 are digested with every digit', async () => {
    const manifest = '{"build":{"size":18446744073709551615}}';
    const built = await buildEvidenceBundle({
      targetId: 'payments-prod',
      document: new Uint8Array([1, 2, 3]),
      nonce: new Uint8Array(32),
      observedAt: new Date('2025-12-23T17:20:16Z'),
      manifest: parseStrictJson(manifest),
    });
    expect(built.text).toContain('"size": 18446744073709551615');
    const parsed = await parseEvidenceBundle(built.text);
    expect(canonicalJson(parsed.bundle.manifest)).toBe(manifest);
    // JSON.parse would round the integer and the digest would no longer match.
    expect(await rule(JSON.stringify(JSON.parse(built.text)))).toBe('manifest_digest');
  });
});

describe('replay (our verifier at observed_at, Canary reasons)', () => {
  it('uses observed_at as the validation time: a day later the leaf has expired', async () => {
    const replay = await replayEvidence(await parseEvidenceBundle(VECTOR), { expectedPcrs: EVIDENCE_PCRS });
    expect(replay.ok).toBe(true);
    // Replace observed_at (document and digest unchanged) by the next day.
    const later = await parseEvidenceBundle(text({ observed_at: '2025-12-24T17:20:16Z' }));
    const r = await replayEvidence(later, { expectedPcrs: EVIDENCE_PCRS });
    expect([r.ok, r.reason, r.code]).toEqual([false, 'INVALID_CERTIFICATE_CHAIN', 'ERR_CERT_EXPIRED']);
  });

  it('chain: a document signed by another root is INVALID_CERTIFICATE_CHAIN', async () => {
    const pki = await createTestPki({ at: new Date('2025-12-23T17:20:00Z') });
    const r = await replayEvidence(await parseEvidenceBundle(VECTOR), {
      expectedPcrs: EVIDENCE_PCRS,
      roots: [pki.rootPem],
    });
    expect([r.reason, r.code]).toEqual(['INVALID_CERTIFICATE_CHAIN', 'ERR_CHAIN_UNTRUSTED']);
  });

  describe('with forged documents', async () => {
    const at = new Date('2025-12-23T17:20:16Z');
    const pki = await createTestPki({ at });
    const nonce = new Uint8Array(32).fill(7);
    const pcrs = { 0: 'a1'.repeat(48), 1: 'a2'.repeat(48), 2: 'a3'.repeat(48) };
    const bundle = async (document: Uint8Array, n = nonce) =>
      parseEvidenceBundle(
        (await buildEvidenceBundle({ targetId: 't', document, nonce: n, observedAt: at, manifest: {} })).text,
      );
    const replay = async (document: Uint8Array, expected: Record<number, string> = pcrs, n = nonce) =>
      replayEvidence(await bundle(document, n), { expectedPcrs: expected, roots: [pki.rootPem] });

    it('passes with its own PCRs and nonce', async () => {
      const r = await replay(await issueAttestation(pki, { nonce, pcrs }));
      expect([r.ok, r.reason]).toEqual([true, 'ALL_CHECKS_PASSED']);
    });

    it('COSE signature -> INVALID_SIGNATURE', async () => {
      const doc = await issueAttestation(
        pki,
        { nonce, pcrs },
        { signature: (s) => s.map((b, i) => (i === 5 ? b ^ 1 : b)) },
      );
      const r = await replay(doc);
      expect([r.reason, r.code]).toEqual(['INVALID_SIGNATURE', 'ERR_SIGNATURE_INVALID']);
    });

    it('nonce -> NONCE_MISMATCH, judged before PCRs', async () => {
      const doc = await issueAttestation(pki, { nonce: new Uint8Array(32).fill(8), pcrs });
      expect((await replay(doc)).reason).toBe('NONCE_MISMATCH');
      expect((await replay(doc, { ...pcrs, 2: 'ff'.repeat(48) })).reason).toBe('NONCE_MISMATCH');
      expect((await replay(await issueAttestation(pki, { pcrs }))).reason).toBe('NONCE_MISMATCH');
    });

    it('PCR -> PCR_MISMATCH', async () => {
      const r = await replay(await issueAttestation(pki, { nonce, pcrs }), { ...pcrs, 1: 'ff'.repeat(48) });
      expect([r.reason, r.code]).toEqual(['PCR_MISMATCH', 'ERR_PCR_MISMATCH']);
    });

    it('observed all-zero PCR -> DEBUG_OR_ZERO_PCR', async () => {
      const zero = { ...pcrs, 0: '00'.repeat(48) };
      const r = await replay(await issueAttestation(pki, { nonce, pcrs: zero }), zero);
      expect(r.reason).toBe('DEBUG_OR_ZERO_PCR');
    });

    it('expected all-zero PCR -> DEBUG_OR_ZERO_PCR even when the document carries it', async () => {
      const r = await replay(await issueAttestation(pki, { nonce, pcrs }), { ...pcrs, 2: '00'.repeat(48) });
      expect(r.reason).toBe('DEBUG_OR_ZERO_PCR');
    });

    it('undecodable document -> MALFORMED_EVIDENCE', async () => {
      const r = await replay(new Uint8Array([0x84, 0x40, 0xa0, 0x40]));
      expect([r.ok, r.reason]).toEqual([false, 'MALFORMED_EVIDENCE']);
    });

    it('needs expected PCR0, 1 and 2, never taken from the bundle', async () => {
      const b = await bundle(await issueAttestation(pki, { nonce, pcrs }));
      await expect(
        replayEvidence(b, { expectedPcrs: { 0: pcrs[0], 1: pcrs[1] }, roots: [pki.rootPem] }),
      ).rejects.toMatchObject({
        code: 'ERR_USAGE',
      });
    });
  });
});
