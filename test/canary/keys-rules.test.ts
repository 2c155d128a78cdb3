// CANARY.md 3: key derivation, /keys.json bytes and canaryctl's V0 key-set rules.
import { describe, expect, it } from 'vitest';
import { encodeBase64Url } from '../../src/canary/encoding.js';
import { canonicalJson } from '../../src/canary/jcs.js';
import {
  deriveCanaryKeys,
  generateSeed,
  keysDocument,
  keysDocumentBytes,
  parseKeysDocument,
  parseMasterSeed,
} from '../../src/canary/keys.js';

const keys = deriveCanaryKeys(new Uint8Array(32).fill(0x11), 'caution-canary-demo');
const doc = keysDocument(keys);
const bytesOf = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function problem(v: unknown): string | undefined {
  try {
    parseKeysDocument(typeof v === 'string' ? v : bytesOf(v));
    return undefined;
  } catch (e) {
    expect((e as { code: string }).code).toBe('ERR_CANARY_KEYS');
    return (e as Error).message;
  }
}

describe('key derivation', () => {
  it('derives per node id: another node id gives other keys', () => {
    const other = deriveCanaryKeys(new Uint8Array(32).fill(0x11), 'other-node');
    expect(encodeBase64Url(other.ed25519.publicKey)).not.toBe(encodeBase64Url(keys.ed25519.publicKey));
    expect(other.mlDsa65.publicKey).not.toEqual(keys.mlDsa65.publicKey);
  });

  it('refuses a seed that is not 32 bytes and a node id that is not an identifier', () => {
    expect(() => deriveCanaryKeys(new Uint8Array(31), 'n')).toThrow(
      expect.objectContaining({ code: 'ERR_CANARY_KEYS' }),
    );
    expect(() => deriveCanaryKeys(new Uint8Array(32), 'a/b')).toThrow(
      expect.objectContaining({ code: 'ERR_CANARY_KEYS' }),
    );
  });

  it('code: master seeds are standard base64, padded or not', () => {
    expect(parseMasterSeed('ERERERERERERERERERERERERERERERERERERERERERE')).toEqual(
      new Uint8Array(32).fill(0x11),
    );
    expect(() => parseMasterSeed('ERERERERERERERERERERERERERERERERERERERERER_')).toThrow(
      expect.objectContaining({ code: 'ERR_CANARY_KEYS' }),
    );
    expect(() => parseMasterSeed('ERERERERERERERERERERERERERERERERERERERERER==')).toThrow(
      expect.objectContaining({ code: 'ERR_CANARY_KEYS' }),
    );
  });

  it('generates fresh 32-byte seeds', () => {
    const a = generateSeed();
    expect(a.length).toBe(32);
    expect(a).not.toEqual(generateSeed());
  });

  it('serves /keys.json as canonical JSON without a trailing newline', () => {
    const text = new TextDecoder().decode(keysDocumentBytes(keys));
    expect(
      text.startsWith('{"key_epoch":0,"keys":[{"alg":"Ed25519","encoding":"base64url","public_key":"QZQB0'),
    ).toBe(true);
    expect(text.endsWith('"node_id":"caution-canary-demo","protocol":"caution-canary-v0"}')).toBe(true);
  });
});

describe('V0 key-set rules', () => {
  const [ed, ml] = doc.keys;
  if (!ed || !ml) throw new Error('keysDocument lists an Ed25519 and an ML-DSA-65 key');
  it.each([
    ['protocol other than caution-canary-v0', { ...doc, protocol: 'caution-canary-v1' }, /protocol/],
    ['one key only', { ...doc, keys: [ed] }, /exactly 2 keys/],
    ['three keys', { ...doc, keys: [ed, ml, ed] }, /exactly 2 keys/],
    ['two Ed25519 keys', { ...doc, keys: [ed, ed] }, /two Ed25519/],
    ['another algorithm', { ...doc, keys: [ed, { ...ml, alg: 'ML-DSA-87' }] }, /not Ed25519 or ML-DSA-65/],
    ['alg label in another case', { ...doc, keys: [{ ...ed, alg: 'ed25519' }, ml] }, /not Ed25519/],
    ['encoding other than base64url', { ...doc, keys: [{ ...ed, encoding: 'base64' }, ml] }, /encoding/],
    [
      'padded base64url',
      { ...doc, keys: [{ ...ed, public_key: `${ed.public_key}=` }, ml] },
      /canonical unpadded/,
    ],
    [
      'standard alphabet',
      { ...doc, keys: [ed, { ...ml, public_key: ml.public_key!.replace(/_/g, '/') }] },
      /canonical unpadded/,
    ],
    [
      'non-zero trailing bits',
      { ...doc, keys: [{ ...ed, public_key: `${ed.public_key!.slice(0, -1)}1` }, ml] },
      /canonical unpadded/,
    ],
    [
      '31-byte Ed25519 key',
      { ...doc, keys: [{ ...ed, public_key: encodeBase64Url(new Uint8Array(31)) }, ml] },
      /31 bytes/,
    ],
    ['unknown member', { ...doc, extra: true }, /unknown member/],
    ['unknown member in a key', { ...doc, keys: [{ ...ed, kid: 'x' }, ml] }, /unknown member/],
    [
      'key_epoch as a float literal',
      JSON.stringify(doc).replace('"key_epoch":0', '"key_epoch":0.0'),
      /integer literal/,
    ],
    [
      'duplicate member',
      JSON.stringify(doc).replace('{"protocol"', '{"protocol":"x","protocol"'),
      /duplicate/,
    ],
  ])('refuses %s', (_, value, message) => {
    expect(problem(value)).toMatch(message);
  });

  it('accepts the keys in either order, but the order changes the bytes and so the digest', () => {
    const swapped = { ...doc, keys: [ml, ed] };
    const parsed = parseKeysDocument(new TextEncoder().encode(canonicalJson(swapped)));
    expect(parsed.ed25519).toEqual(keys.ed25519.publicKey);
    expect(parsed.canonical).toBe(true);
    expect(canonicalJson(swapped)).not.toBe(canonicalJson(doc));
  });

  it('reports whether the bytes are canonical (pretty or reordered JSON is not)', () => {
    expect(parseKeysDocument(keysDocumentBytes(keys)).canonical).toBe(true);
    expect(parseKeysDocument(JSON.stringify(doc, null, 2)).canonical).toBe(false);
    expect(parseKeysDocument(`${canonicalJson(doc)}\n`).canonical).toBe(false);
  });
});
