// CANARY.md 4: each payload rule and each verification step, on statements that are otherwise
// valid and properly signed, so removing a rule lets its statement through and fails the test.
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { encodeBase64Url } from '../../src/canary/encoding.js';
import { canonicalJson } from '../../src/canary/jcs.js';
import { type CanaryPublicKeys, deriveCanaryKeys, keysDocumentBytes } from '../../src/canary/keys.js';
import {
  type StatementEnvelope,
  type StatementPayload,
  signStatement,
  statementSignedBytes,
  TLS_BOUND_CLAIM,
  verifyStatement,
} from '../../src/canary/statement.js';

const keys = deriveCanaryKeys(new Uint8Array(32).fill(0x11), 'caution-canary-demo');
const trusted: CanaryPublicKeys = {
  nodeId: keys.nodeId,
  keyEpoch: 0,
  ed25519: keys.ed25519.publicKey,
  mlDsa65: keys.mlDsa65.publicKey,
};
const NOW = new Date('2026-07-17T12:01:00Z');
const FP = 'ab'.repeat(32);
const D = (c: string) => `sha256:${c.repeat(64)}`;

const verified = (over: Partial<StatementPayload> = {}): StatementPayload => ({
  claim_type: 'caution.canary.pcr-match.v0',
  target_id: 'payments-prod',
  target_origin: 'https://payments.example.com',
  status: 'VERIFIED',
  reason: 'ALL_CHECKS_PASSED',
  config_digest: D('a'),
  evidence_digest: D('b'),
  observed_at: '2026-07-17T12:00:00Z',
  issued_at: '2026-07-17T12:00:00Z',
  expires_at: '2026-07-17T12:03:00Z',
  verifier_id: 'caution-canary-demo',
  key_epoch: 0,
  ...over,
});
const tlsVerified = (over: Partial<StatementPayload> = {}) =>
  verified({
    claim_type: TLS_BOUND_CLAIM,
    tls: {
      attested_mode: 'tls',
      attested_domain: 'payments.example.com',
      attested_certfp: FP,
      observed_certfp: FP,
    },
    ...over,
  });
const tlsMismatch = (over: Partial<StatementPayload> = {}) =>
  tlsVerified({
    status: 'FAILED',
    reason: 'TLS_BINDING_MISMATCH',
    tls: {
      attested_mode: 'tls',
      attested_domain: 'payments.example.com',
      attested_certfp: FP,
      observed_certfp: 'cd'.repeat(32),
    },
    ...over,
  });
const pending = (over: Partial<StatementPayload> = {}) =>
  verified({ status: 'PENDING', reason: 'PENDING', observed_at: null, evidence_digest: null, ...over });

const sign = (p: StatementPayload) => signStatement(p, keys, { unchecked: true });
const signText = (p: StatementPayload) => canonicalJson(sign(p));

async function outcome(input: string | StatementEnvelope, now = NOW, k: CanaryPublicKeys = trusted) {
  try {
    const r = await verifyStatement(input, k, { now });
    return { ok: true, status: r.payload.status };
  } catch (e) {
    const err = e as { code: string; details?: { rule?: string } };
    return { ok: false, code: err.code, rule: err.details?.rule };
  }
}

describe('valid statements of every shape verify', () => {
  it.each([
    ['VERIFIED pcr-match', verified()],
    ['VERIFIED tls-bound', tlsVerified()],
    ['FAILED tls-bound TLS_BINDING_MISMATCH', tlsMismatch()],
    [
      'FAILED without evidence_digest (nothing decodable)',
      verified({ status: 'FAILED', reason: 'MALFORMED_EVIDENCE', evidence_digest: null }),
    ],
    ['PENDING', pending()],
    ['UNREACHABLE', pending({ status: 'UNREACHABLE', reason: 'TIMEOUT' })],
    ['STALE', pending({ status: 'STALE', reason: 'STALE' })],
    ['code: a reason outside the stable list', verified({ status: 'FAILED', reason: 'SOMETHING_NEW' })],
  ])('%s', async (_, payload) => {
    expect(await outcome(signText(payload))).toEqual({ ok: true, status: payload.status });
  });
});

describe('payload rules (statement.rs order)', () => {
  it.each([
    ['claim_type unknown', verified({ claim_type: 'caution.canary.other.v0' }), 'claim_type'],
    ['target_id not an identifier', verified({ target_id: 'pay ments' }), 'identifiers'],
    ['reason empty', verified({ status: 'FAILED', reason: '' }), 'reason'],
    [
      'origin with a trailing slash',
      verified({ target_origin: 'https://payments.example.com/' }),
      'target_origin',
    ],
    [
      'origin with a path',
      verified({ target_origin: 'https://payments.example.com/attestation' }),
      'target_origin',
    ],
    [
      'origin with the default port',
      verified({ target_origin: 'https://payments.example.com:443' }),
      'target_origin',
    ],
    [
      'origin with an uppercase host',
      verified({ target_origin: 'https://Payments.example.com' }),
      'target_origin',
    ],
    ['origin over http', verified({ target_origin: 'http://payments.example.com' }), 'target_origin'],
    ['uppercase config_digest', verified({ config_digest: `sha256:${'A'.repeat(64)}` }), 'digests'],
    ['malformed evidence_digest', verified({ evidence_digest: 'sha256:bb' }), 'digests'],
    ['time that is not RFC 3339', verified({ issued_at: '17 July 2026 12:00' }), 'timestamps'],
    ['VERIFIED without observed_at', verified({ observed_at: null }), 'observed_at_required'],
    [
      'FAILED without observed_at',
      verified({ status: 'FAILED', reason: 'PCR_MISMATCH', observed_at: null }),
      'observed_at_required',
    ],
    ['VERIFIED without evidence_digest', verified({ evidence_digest: null }), 'evidence_digest_required'],
    [
      'observed_at after issued_at',
      verified({ observed_at: '2026-07-17T12:00:10Z', expires_at: '2026-07-17T12:03:10Z' }),
      'observed_after_issued',
    ],
    ['PENDING with observed_at', pending({ observed_at: '2026-07-17T12:00:00Z' }), 'not_definitive_nulls'],
    [
      'STALE with evidence_digest',
      pending({ status: 'STALE', reason: 'STALE', evidence_digest: D('b') }),
      'not_definitive_nulls',
    ],
    ['VERIFIED with a failure reason', verified({ reason: 'PCR_MISMATCH' }), 'verified_reason'],
    ['FAILED with ALL_CHECKS_PASSED', verified({ status: 'FAILED' }), 'verified_reason'],
    [
      'TLS_BINDING_MISMATCH on a pcr-match claim',
      verified({ status: 'FAILED', reason: 'TLS_BINDING_MISMATCH' }),
      'tls_mismatch_reason',
    ],
    ['TLS_BINDING_MISMATCH without evidence', tlsMismatch({ evidence_digest: null }), 'tls_mismatch_reason'],
    ['expires_at 181 s after observed_at', verified({ expires_at: '2026-07-17T12:03:01Z' }), 'expires_at'],
    [
      'PENDING whose expires_at is not issued_at + 180 s',
      pending({ issued_at: '2026-07-17T12:00:01Z' }),
      'expires_at',
    ],
    ['issued_at after expires_at', verified({ issued_at: '2026-07-17T12:03:01Z' }), 'issued_after_expires'],
    ['tls on a pcr-match claim', verified({ tls: tlsVerified().tls! }), 'tls_on_pcr_match'],
    [
      'tls-bound claim on an IP origin',
      tlsVerified({ target_origin: 'https://10.0.0.1' }),
      'tls_origin_host',
    ],
    [
      'tls with an uppercase fingerprint',
      tlsVerified({ tls: { ...tlsVerified().tls!, observed_certfp: FP.toUpperCase() } }),
      'tls_well_formed',
    ],
    [
      'tls with a trailing-dot domain',
      tlsVerified({ tls: { ...tlsVerified().tls!, attested_domain: 'payments.example.com.' } }),
      'tls_well_formed',
    ],
    [
      'tls with a PCR_MISMATCH reason',
      tlsVerified({ status: 'FAILED', reason: 'PCR_MISMATCH' }),
      'tls_reason',
    ],
    ['VERIFIED tls-bound without tls', tlsVerified({ tls: undefined }), 'tls_verified'],
    [
      'VERIFIED tls-bound, domain not the origin host',
      tlsVerified({ tls: { ...tlsVerified().tls!, attested_domain: 'other.example.com' } }),
      'tls_verified',
    ],
    [
      'VERIFIED tls-bound, fingerprints differ',
      tlsVerified({ tls: { ...tlsVerified().tls!, observed_certfp: 'cd'.repeat(32) } }),
      'tls_verified',
    ],
    [
      'VERIFIED tls-bound, mode not tls',
      tlsVerified({ tls: { ...tlsVerified().tls!, attested_mode: 'none' } }),
      'tls_verified',
    ],
    [
      'TLS_BINDING_MISMATCH whose tls values match',
      tlsMismatch({ tls: tlsVerified().tls! }),
      'tls_mismatch_matches',
    ],
  ])('%s', async (_, payload, rule) => {
    expect(await outcome(signText(payload))).toEqual({ ok: false, code: 'ERR_CANARY_STATEMENT', rule });
  });

  it('key_epoch must be 0 (even when the trusted keys claim that epoch)', async () => {
    expect(await outcome(signText(verified({ key_epoch: 1 })), NOW, { ...trusted, keyEpoch: 1 })).toEqual({
      ok: false,
      code: 'ERR_CANARY_STATEMENT',
      rule: 'key_epoch',
    });
  });

  it('TLS_BINDING_MISMATCH without tls is allowed when the binding could not be read', async () => {
    expect(await outcome(signText(tlsMismatch({ tls: undefined })))).toEqual({ ok: true, status: 'FAILED' });
  });
});

describe('verification steps', () => {
  it('parse: unknown, duplicate and mistyped members are refused', async () => {
    const text = signText(verified());
    expect(await outcome(text.replace('"payload":{', '"payload":{"extra":1,'))).toMatchObject({
      rule: 'schema',
    });
    expect(await outcome(text.replace('"payload":{', '"payload":{"status":"VERIFIED",'))).toMatchObject({
      rule: 'json',
    });
    expect(
      await outcome(text.replace('"key_epoch":0,"observed_at"', '"key_epoch":0.0,"observed_at"')),
    ).toMatchObject({
      rule: 'schema',
    });
    expect(await outcome(text.replace('"VERIFIED"', '"verified"'))).toMatchObject({ rule: 'schema' });
    expect(await outcome(text.replace('{"payload"', '{"extra":null,"payload"'))).toMatchObject({
      rule: 'schema',
    });
  });

  it('keys: the trusted keys must be those of payload.verifier_id', async () => {
    expect(await outcome(signText(verified()), NOW, { ...trusted, nodeId: 'other-node' })).toMatchObject({
      code: 'ERR_CANARY_KEY_MISMATCH',
    });
    const bytes = keysDocumentBytes(deriveCanaryKeys(new Uint8Array(32).fill(0x11), 'other-node'));
    await expect(verifyStatement(signText(verified()), bytes, { now: NOW })).rejects.toMatchObject({
      code: 'ERR_CANARY_KEY_MISMATCH',
    });
  });

  it('issued_at may be at most 30 s after now', async () => {
    const text = signText(verified());
    expect(await outcome(text, new Date('2026-07-17T11:59:30Z'))).toEqual({ ok: true, status: 'VERIFIED' });
    expect(await outcome(text, new Date('2026-07-17T11:59:29.999Z'))).toMatchObject({
      code: 'ERR_CANARY_FUTURE',
    });
  });

  it('expired from expires_at on', async () => {
    const text = signText(verified());
    expect(await outcome(text, new Date('2026-07-17T12:02:59.999Z'))).toEqual({
      ok: true,
      status: 'VERIFIED',
    });
    expect(await outcome(text, new Date('2026-07-17T12:03:00Z'))).toMatchObject({
      code: 'ERR_CANARY_EXPIRED',
    });
  });

  it('code: times are read leniently and compared as instants', async () => {
    const p = verified({
      observed_at: '2026-07-17 14:00:00+02:00',
      issued_at: '2026-07-17T12:00:00.000000001Z',
      expires_at: '2026-07-17t12:03:00z',
    });
    expect(await outcome(signText(p))).toEqual({ ok: true, status: 'VERIFIED' });
    // Nanosecond precision: expires_at 1 ns off the exact 180 s is refused.
    expect(await outcome(signText({ ...p, expires_at: '2026-07-17T12:03:00.000000001Z' }))).toMatchObject({
      rule: 'expires_at',
    });
  });

  it('code: the payload is re-canonicalised (member order, whitespace, omitted nulls, tls:null)', async () => {
    const envelope = sign(pending());
    const reordered = `{ "signers" : ${JSON.stringify(envelope.signers, null, 1)},\n "payload": ${JSON.stringify(
      Object.fromEntries(
        Object.entries(envelope.payload)
          .reverse()
          .filter(([k]) => k !== 'observed_at' && k !== 'evidence_digest'),
      ),
    )} }`;
    expect(await outcome(reordered)).toEqual({ ok: true, status: 'PENDING' });
    const tlsNull = canonicalJson(sign(verified())).replace('"target_id"', '"tls":null,"target_id"');
    expect(await outcome(tlsNull)).toEqual({ ok: true, status: 'VERIFIED' });
  });

  it('exactly one signer, naming the payload verifier and epoch', async () => {
    const e = sign(verified());
    expect(await outcome({ ...e, signers: [e.signers[0]!, e.signers[0]!] })).toMatchObject({
      rule: 'signers',
    });
    expect(await outcome({ ...e, signers: [] })).toMatchObject({ rule: 'signers' });
    expect(await outcome({ ...e, signers: [{ ...e.signers[0]!, verifier_id: 'other' }] })).toMatchObject({
      rule: 'signers',
    });
    expect(await outcome({ ...e, signers: [{ ...e.signers[0]!, key_epoch: 1 }] })).toMatchObject({
      rule: 'signers',
    });
  });

  it('exactly the two signatures, labels exact', async () => {
    const e = sign(verified());
    const [ed, ml] = e.signers[0]!.signatures as [{ alg: string; sig: string }, { alg: string; sig: string }];
    const withSigs = (signatures: { alg: string; sig: string }[]) => ({
      ...e,
      signers: [{ ...e.signers[0]!, signatures }],
    });
    expect(await outcome(withSigs([ed]))).toMatchObject({ rule: 'signatures' });
    expect(await outcome(withSigs([ed, ml, ml]))).toMatchObject({ rule: 'signatures' });
    expect(await outcome(withSigs([{ ...ed, alg: 'ed25519' }, ml]))).toMatchObject({ rule: 'signatures' });
    expect(await outcome(withSigs([ml, ed]))).toEqual({ ok: true, status: 'VERIFIED' });
  });

  it('signatures are strict unpadded base64url', async () => {
    const e = sign(verified());
    const [ed, ml] = e.signers[0]!.signatures as [{ alg: string; sig: string }, { alg: string; sig: string }];
    const withEd = (sig: string) => ({
      ...e,
      signers: [{ ...e.signers[0]!, signatures: [{ ...ed, sig }, ml] }],
    });
    expect(await outcome(withEd(`${ed.sig}==`))).toMatchObject({ rule: 'signature_encoding' });
    expect(await outcome(withEd(`+${ed.sig.slice(1)}`))).toMatchObject({ rule: 'signature_encoding' });
    expect(await outcome(withEd(`${ed.sig.slice(0, 40)} ${ed.sig.slice(40)}`))).toMatchObject({
      rule: 'signature_encoding',
    });
    // 64 bytes = 86 chars with 4 trailing bits that must be zero.
    const last = ed.sig.at(-1)!;
    const flipped = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(last) ^ 1;
    const badBits =
      ed.sig.slice(0, -1) + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[flipped];
    expect(await outcome(withEd(badBits))).toMatchObject({ rule: 'signature_encoding' });
  });

  it('both signatures must verify over prefix || 0x00 || JCS(payload)', async () => {
    const e = sign(verified());
    const other = sign(verified({ target_id: 'other' }));
    const mix = (i: 0 | 1) => ({
      ...e,
      signers: [
        {
          ...e.signers[0]!,
          signatures: e.signers[0]!.signatures.map((s, j) =>
            j === i ? other.signers[0]!.signatures[j]! : s,
          ),
        },
      ],
    });
    expect(await outcome(mix(0))).toMatchObject({ code: 'ERR_CANARY_SIGNATURE' });
    expect(await outcome(mix(1))).toMatchObject({ code: 'ERR_CANARY_SIGNATURE' });
    expect(await outcome({ ...e, payload: { ...e.payload, config_digest: D('c') } })).toMatchObject({
      code: 'ERR_CANARY_SIGNATURE',
    });
    expect(
      new TextDecoder()
        .decode(statementSignedBytes(e.payload))
        .startsWith('caution.canary.statement.v0\u0000{"claim_type"'),
    ).toBe(true);
  });

  it('Ed25519 is verified strictly (a non-canonical R that ZIP-215 accepts is refused)', async () => {
    // A = the identity point; R = the identity encoded non-canonically (y = p + 1); S = 0.
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const r = new Uint8Array(32).fill(0xff);
    r[0] = 0xee;
    r[31] = 0x7f;
    const sig = new Uint8Array(64);
    sig.set(r);
    const e = sign(verified());
    const message = statementSignedBytes(e.payload);
    expect(ed25519.verify(sig, message, identity, { zip215: true })).toBe(true);
    const forged = {
      ...e,
      signers: [
        {
          ...e.signers[0]!,
          signatures: [{ alg: 'Ed25519', sig: encodeBase64Url(sig) }, e.signers[0]!.signatures[1]!],
        },
      ],
    };
    expect(await outcome(forged, NOW, { ...trusted, ed25519: identity })).toMatchObject({
      code: 'ERR_CANARY_SIGNATURE',
    });
  });

  it('signStatement refuses payloads that break the rules or name other keys', () => {
    expect(() => signStatement(verified({ reason: 'PCR_MISMATCH' }), keys)).toThrow(
      expect.objectContaining({ code: 'ERR_CANARY_STATEMENT' }),
    );
    expect(() => signStatement(verified({ verifier_id: 'other' }), keys)).toThrow(
      expect.objectContaining({ code: 'ERR_CANARY_KEY_MISMATCH' }),
    );
  });

  it('code: canaryd signs hedged ML-DSA, so two signatures of one payload differ and both verify', async () => {
    const a = signStatement(verified(), keys);
    const b = signStatement(verified(), keys);
    expect(a.signers[0]!.signatures[1]!.sig).not.toBe(b.signers[0]!.signatures[1]!.sig);
    expect(a.signers[0]!.signatures[0]!.sig).toBe(b.signers[0]!.signatures[0]!.sig);
    expect(await outcome(a)).toEqual({ ok: true, status: 'VERIFIED' });
    expect(await outcome(b)).toEqual({ ok: true, status: 'VERIFIED' });
  });
});
