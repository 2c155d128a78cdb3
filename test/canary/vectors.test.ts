// The public Canary vectors, reproduced byte for byte (CANARY.md; vectors/real/canary/PROVENANCE.md).
import { describe, expect, it } from 'vitest';
import { configDigest, parseCanaryConfig } from '../../src/canary/config.js';
import { decodeBase64Canonical, encodeBase64Url } from '../../src/canary/encoding.js';
import { evidenceBundleText, parseEvidenceBundle, replayEvidence } from '../../src/canary/evidence.js';
import { canonicalJson } from '../../src/canary/jcs.js';
import {
  deriveCanaryKeys,
  keysDocumentBytes,
  keysetDigest,
  parseKeysDocument,
  parseMasterSeed,
} from '../../src/canary/keys.js';
import {
  parseStatement,
  signStatement,
  statementSignedBytes,
  verifyStatement,
} from '../../src/canary/statement.js';
import { fromBase64, toBase64 } from '../../src/util/bytes.js';
import { CONFIG_DIGEST, EVIDENCE_PCRS, KEYSET_DIGEST, statementVector, vectorText } from './support.js';

const v = statementVector();
const seed = parseMasterSeed(v.master_seed);
const keys = deriveCanaryKeys(seed, 'caution-canary-demo');
const statementText = JSON.stringify(v.statement);
const keysBytes = new TextEncoder().encode(canonicalJson(v.keys));

describe('statement vector', () => {
  it('derives the published keys from master_seed (32 x 0x11)', () => {
    expect(seed).toEqual(new Uint8Array(32).fill(0x11));
    expect(keysDocumentBytes(keys)).toEqual(keysBytes);
    expect(encodeBase64Url(keys.ed25519.publicKey)).toBe('QZQB0wimCi4S3oz3y3d2t2_g0r10LbnxHDs1jQSin00');
  });

  it('has the keyset_digest of its canonical keys document', async () => {
    const parsed = parseKeysDocument(keysBytes);
    expect(parsed.canonical).toBe(true);
    expect(await keysetDigest(keysBytes)).toBe(KEYSET_DIGEST);
  });

  it('signs the published message with the randomizer into both published signatures, byte for byte', () => {
    const envelope = parseStatement(statementText);
    expect(toBase64(statementSignedBytes(envelope.payload))).toBe(v.signed_message);
    const signed = signStatement(envelope.payload, keys, {
      mlDsaRandomness: fromBase64(v.ml_dsa_randomizer),
    });
    expect(signed).toEqual(envelope);
    expect(canonicalJson(signed)).toBe(canonicalJson(v.statement));
  });

  it('verifies at verification_time and is refused as expired at expires_at', async () => {
    const at = new Date(v.verification_time);
    const ok = await verifyStatement(statementText, keysBytes, { now: at });
    expect(ok.payload.status).toBe('VERIFIED');
    expect(ok.payload.target_id).toBe('payments-prod');
    await expect(
      verifyStatement(statementText, keysBytes, { now: new Date('2026-07-17T12:03:00Z') }),
    ).rejects.toMatchObject({
      code: 'ERR_CANARY_EXPIRED',
    });
    // One millisecond earlier it still holds.
    const last = await verifyStatement(statementText, keysBytes, {
      now: new Date('2026-07-17T12:02:59.999Z'),
    });
    expect(last.payload.expires_at).toBe('2026-07-17T12:03:00Z');
  });
});

describe('evidence vector', () => {
  const text = vectorText('evidence-v0-vector.json');

  it('parses, and is written back byte for byte in Canary form', async () => {
    const parsed = await parseEvidenceBundle(text);
    expect(parsed.bundle.evidence_digest).toBe(
      'sha256:6afe913ae239fc83c44fd21c367f6ca9bf1b1b31d737c4720fd42cd49deb2c47',
    );
    expect(parsed.observedAt.toISOString()).toBe('2025-12-23T17:20:16.000Z');
    expect(evidenceBundleText(parsed.bundle)).toBe(text);
    expect(decodeBase64Canonical(parsed.bundle.nonce)?.length).toBe(32);
  });

  it('replays with its PCRs at observed_at', async () => {
    const replay = await replayEvidence(await parseEvidenceBundle(text), { expectedPcrs: EVIDENCE_PCRS });
    expect(replay.ok).toBe(true);
    expect(replay.reason).toBe('ALL_CHECKS_PASSED');
    expect(replay.report.verifiedAt.toISOString()).toBe('2025-12-23T17:20:16.000Z');
  });

  it('fails with PCR_MISMATCH against another PCR2', async () => {
    const replay = await replayEvidence(await parseEvidenceBundle(text), {
      expectedPcrs: { ...EVIDENCE_PCRS, 2: EVIDENCE_PCRS[0] },
    });
    expect(replay.ok).toBe(false);
    expect(replay.reason).toBe('PCR_MISMATCH');
    expect(replay.code).toBe('ERR_PCR_MISMATCH');
  });
});

describe('config vector', () => {
  it('validates canary.json and gives its config_digest', async () => {
    const config = parseCanaryConfig(vectorText('canary.json'));
    expect(config.targets.map((t) => t.id)).toEqual(['caddy-poc', 'xwing-poc', 'x25519-poc']);
    expect(await configDigest(config)).toBe(CONFIG_DIGEST);
  });
});
