/**
 * Canary's signing keys (CANARY.md 3): HKDF child keys from a 32-byte master seed, the exact
 * canonical `/keys.json` bytes, the V0 key-set rules canaryctl applies to a keys document, and
 * `keyset_digest`.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { EnclaveVerifyError } from '../errors.js';
import { bytesEqual } from '../util/bytes.js';
import { sha256Digest } from './digest.js';
import { decodeBase64UrlStrict, encodeBase64Url } from './encoding.js';
import { canonicalJson, type JsonValue, parseStrictJson } from './jcs.js';
import { isIdentifier } from './reasons.js';
import {
  readArray,
  readObject,
  readRequired,
  readString,
  readUnsigned,
  type SchemaFail,
  U32_MAX,
} from './schema.js';

/** The protocol label of keys documents and node metadata. */
export const CANARY_PROTOCOL = 'caution-canary-v0';
/** Ed25519 public keys are 32 bytes; ML-DSA-65 public keys 1952 bytes. */
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ML_DSA_65_PUBLIC_KEY_BYTES = 1952;

/** A node's two signing key pairs (`key_epoch` is always 0 in v0). */
export interface CanaryKeyPair {
  nodeId: string;
  keyEpoch: 0;
  ed25519: { secretKey: Uint8Array; publicKey: Uint8Array };
  mlDsa65: { secretKey: Uint8Array; publicKey: Uint8Array };
}

/** The public half of a node's keys, as a verifier trusts them. */
export interface CanaryPublicKeys {
  nodeId: string;
  keyEpoch: number;
  ed25519: Uint8Array;
  mlDsa65: Uint8Array;
}

const utf8 = new TextEncoder();

/**
 * Derive a node's keys from its master seed: `PRK = HKDF-Extract(SHA-256, salt =
 * "caution-canary-v0/root", seed)`, then 32-byte Expand outputs with info
 * `signing/ed25519/<node_id>/key-epoch-0` (the RFC 8032 seed) and
 * `signing/ml-dsa-65/<node_id>/key-epoch-0` (ML-DSA-65 KeyGen_internal's xi).
 *
 * @example
 * ```ts
 * const keys = deriveCanaryKeys(new Uint8Array(32).fill(0x11), 'caution-canary-demo');
 * encodeBase64Url(keys.ed25519.publicKey); // 'QZQB0wimCi4S3oz3y3d2t2_g0r10LbnxHDs1jQSin00'
 * ```
 */
export function deriveCanaryKeys(seed: Uint8Array, nodeId: string): CanaryKeyPair {
  if (seed.length !== 32) {
    throw new EnclaveVerifyError('ERR_CANARY_KEYS', `a Canary master seed is 32 bytes, not ${seed.length}`);
  }
  if (!isIdentifier(nodeId)) {
    throw new EnclaveVerifyError(
      'ERR_CANARY_KEYS',
      'node_id must be a non-empty identifier of A-Z a-z 0-9 _ -',
    );
  }
  const prk = extract(sha256, seed, utf8.encode('caution-canary-v0/root'));
  const edSeed = expand(sha256, prk, utf8.encode(`signing/ed25519/${nodeId}/key-epoch-0`), 32);
  const mlSeed = expand(sha256, prk, utf8.encode(`signing/ml-dsa-65/${nodeId}/key-epoch-0`), 32);
  const ml = ml_dsa65.keygen(mlSeed);
  return {
    nodeId,
    keyEpoch: 0,
    ed25519: { secretKey: edSeed, publicKey: ed25519.getPublicKey(edSeed) },
    mlDsa65: { secretKey: ml.secretKey, publicKey: ml.publicKey },
  };
}

/**
 * A fresh 32-byte master seed from the platform CSPRNG (an `ephemeral` node's identity).
 *
 * @example
 * ```ts
 * const keys = deriveCanaryKeys(generateSeed(), 'canary-1');
 * ```
 */
export function generateSeed(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

/**
 * Read a base64 master seed (`CANARY_MASTER_SEED`): standard alphabet, padded or not, 32 bytes.
 *
 * @example
 * ```ts
 * parseMasterSeed('ERERERERERERERERERERERERERERERERERERERERERE='); // 32 x 0x11
 * ```
 */
export function parseMasterSeed(text: string): Uint8Array {
  const std = text.replace(/={0,2}$/, '');
  const bytes = /^[A-Za-z0-9+/]*$/.test(std)
    ? decodeBase64UrlStrict(std.replace(/\+/g, '-').replace(/\//g, '_'))
    : undefined;
  if (bytes?.length !== 32) {
    throw new EnclaveVerifyError(
      'ERR_CANARY_KEYS',
      'the master seed must be standard base64 of exactly 32 bytes',
    );
  }
  return bytes;
}

/**
 * The `/keys.json` object of a node's public keys.
 *
 * @example
 * ```ts
 * keysDocument(keys).keys[0].alg; // 'Ed25519'
 * ```
 */
export function keysDocument(keys: CanaryKeyPair | CanaryPublicKeys) {
  const ed = keys.ed25519 instanceof Uint8Array ? keys.ed25519 : keys.ed25519.publicKey;
  const ml = keys.mlDsa65 instanceof Uint8Array ? keys.mlDsa65 : keys.mlDsa65.publicKey;
  return {
    protocol: CANARY_PROTOCOL,
    node_id: keys.nodeId,
    key_epoch: keys.keyEpoch,
    keys: [
      { alg: 'Ed25519', encoding: 'base64url', public_key: encodeBase64Url(ed) },
      { alg: 'ML-DSA-65', encoding: 'base64url', public_key: encodeBase64Url(ml) },
    ],
  };
}

/**
 * The exact bytes a node serves as `/keys.json`: canonical JSON, no trailing newline.
 *
 * @example
 * ```ts
 * await keysetDigest(keysDocumentBytes(keys)); // the node's keyset_digest
 * ```
 */
export function keysDocumentBytes(keys: CanaryKeyPair | CanaryPublicKeys): Uint8Array {
  return utf8.encode(canonicalJson(keysDocument(keys)));
}

/** A keys document that passed the V0 key-set rules. */
export interface ParsedKeysDocument extends CanaryPublicKeys {
  /** True when the bytes are exactly the canonical JSON of the parsed document. */
  canonical: boolean;
  /** The bytes parsed. */
  bytes: Uint8Array;
}

function keysError(message: string, path?: string): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_CANARY_KEYS', `keys document: ${message}`, {
    details: path ? { path } : {},
  });
}

const keysFail: SchemaFail = (message, path) => {
  throw keysError(message, path);
};

/**
 * Parse a `/keys.json` document with canaryctl's V0 key-set rules: protocol
 * `caution-canary-v0`, exactly two entries, one `Ed25519` and one `ML-DSA-65`, encoding
 * `base64url`, public keys canonical unpadded base64url of 32 and 1952 bytes, no unknown
 * members. Reports whether the bytes are canonical (pinned key files must be). Throws
 * `ERR_CANARY_KEYS`.
 *
 * @example
 * ```ts
 * const keys = parseKeysDocument(await readFile('canary-keys.json'));
 * if (!keys.canonical) console.log('not the exact bytes a node serves');
 * ```
 */
export function parseKeysDocument(input: Uint8Array | string): ParsedKeysDocument {
  const bytes = typeof input === 'string' ? utf8.encode(input) : input;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw keysError('not UTF-8 text');
  }
  let value: JsonValue;
  try {
    value = parseStrictJson(text);
  } catch (e) {
    throw keysError(`not strict JSON (${(e as Error).message})`);
  }
  const o = readObject(value, 'keys document', ['protocol', 'node_id', 'key_epoch', 'keys'], keysFail);
  const protocol = readString(readRequired(o, 'protocol', 'keys document', keysFail), 'protocol', keysFail);
  const nodeId = readString(readRequired(o, 'node_id', 'keys document', keysFail), 'node_id', keysFail);
  const keyEpoch = Number(
    readUnsigned(readRequired(o, 'key_epoch', 'keys document', keysFail), 'key_epoch', U32_MAX, keysFail),
  );
  const entries = readArray(readRequired(o, 'keys', 'keys document', keysFail), 'keys', keysFail).map(
    (e, i) => {
      const entry = readObject(e, `keys[${i}]`, ['alg', 'encoding', 'public_key'], keysFail);
      return {
        alg: readString(readRequired(entry, 'alg', `keys[${i}]`, keysFail), `keys[${i}].alg`, keysFail),
        encoding: readString(
          readRequired(entry, 'encoding', `keys[${i}]`, keysFail),
          `keys[${i}].encoding`,
          keysFail,
        ),
        public_key: readString(
          readRequired(entry, 'public_key', `keys[${i}]`, keysFail),
          `keys[${i}].public_key`,
          keysFail,
        ),
      };
    },
  );
  if (protocol !== CANARY_PROTOCOL) throw keysError(`protocol must be "${CANARY_PROTOCOL}"`, 'protocol');
  if (entries.length !== 2) throw keysError(`exactly 2 keys are required, not ${entries.length}`, 'keys');
  const found: Record<string, Uint8Array> = {};
  entries.forEach((entry, i) => {
    const size =
      entry.alg === 'Ed25519'
        ? ED25519_PUBLIC_KEY_BYTES
        : entry.alg === 'ML-DSA-65'
          ? ML_DSA_65_PUBLIC_KEY_BYTES
          : 0;
    if (size === 0)
      throw keysError(
        `keys[${i}].alg "${entry.alg.slice(0, 32)}" is not Ed25519 or ML-DSA-65`,
        `keys[${i}].alg`,
      );
    if (found[entry.alg])
      throw keysError(`two ${entry.alg} keys; exactly one of each is required`, `keys[${i}].alg`);
    if (entry.encoding !== 'base64url')
      throw keysError(`keys[${i}].encoding must be "base64url"`, `keys[${i}].encoding`);
    const key = decodeBase64UrlStrict(entry.public_key);
    if (!key)
      throw keysError(`keys[${i}].public_key is not canonical unpadded base64url`, `keys[${i}].public_key`);
    if (key.length !== size) {
      throw keysError(
        `keys[${i}] (${entry.alg}) has ${key.length} bytes; it must have ${size}`,
        `keys[${i}].public_key`,
      );
    }
    found[entry.alg] = key;
  });
  const canonical = bytesEqual(utf8.encode(canonicalJson(value)), bytes);
  return {
    nodeId,
    keyEpoch,
    ed25519: found.Ed25519!,
    mlDsa65: found['ML-DSA-65']!,
    canonical,
    bytes,
  };
}

/**
 * `keyset_digest`: SHA-256 of the exact `/keys.json` bytes (not of a re-serialisation).
 *
 * @example
 * ```ts
 * await keysetDigest(keysDocumentBytes(keys)); // 'sha256:...'
 * ```
 */
export async function keysetDigest(bytes: Uint8Array): Promise<string> {
  return sha256Digest(bytes);
}
