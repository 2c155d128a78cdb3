/**
 * The metadata a Canary node puts in the `user_data` of its own attestation (CANARY.md 6), and
 * the checks that bind a node's served `/config.json` and `/keys.json` to that attested
 * metadata. Use it only on a document that already passed chain, signature, fresh-nonce and
 * expected-Canary-PCR verification: unverified metadata binds nothing.
 */
import { EnclaveVerifyError } from '../errors.js';
import { decodeUtf8 } from '../util/bytes.js';
import type { CanaryConfig } from './config.js';
import { isDigest } from './digest.js';
import { type JsonValue, parseStrictJson } from './jcs.js';
import { CANARY_PROTOCOL, keysetDigest, type ParsedKeysDocument } from './keys.js';
import { isIdentifier } from './reasons.js';
import { readObject, readRequired, readString, readUnsigned, type SchemaFail, U32_MAX } from './schema.js';

/** A node's attested metadata. */
export interface NodeMetadata {
  protocol: typeof CANARY_PROTOCOL;
  node_id: string;
  config_digest: string;
  keyset_digest: string;
  key_epoch: number;
  identity_mode: 'stable' | 'ephemeral';
}

/** The rule the metadata or the node's documents broke; `details.rule` of `ERR_CANARY_METADATA`. */
export type MetadataRule =
  | 'user_data'
  | 'schema'
  | 'protocol'
  | 'node_id'
  | 'digests'
  | 'identity_mode'
  | 'key_epoch'
  | 'node_id_binding'
  | 'config_digest_binding'
  | 'keyset_digest_binding'
  | 'keys_not_canonical';

function metadataError(
  rule: MetadataRule,
  message: string,
  extra: Record<string, unknown> = {},
): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_CANARY_METADATA', `canary node: ${message}`, {
    details: { rule, ...extra },
  });
}

const schemaFail: SchemaFail = (message, path) => {
  throw metadataError('schema', message, { path });
};

/**
 * Parse a node's attested `user_data` strictly: `{protocol, node_id, config_digest,
 * keyset_digest, key_epoch, identity_mode}` (identity_mode required, unknown members refused).
 * Throws `ERR_CANARY_METADATA` with `details.rule`.
 *
 * @example
 * ```ts
 * const metadata = parseNodeMetadata(verified.document.userData!);
 * ```
 */
export function parseNodeMetadata(userData: Uint8Array | undefined): NodeMetadata {
  const text = userData ? decodeUtf8(userData) : undefined;
  if (text === undefined) {
    throw metadataError(
      'user_data',
      "the node's attestation carries no UTF-8 user_data; it is not a Canary node",
    );
  }
  let value: JsonValue;
  try {
    value = parseStrictJson(text);
  } catch (e) {
    throw metadataError('user_data', `user_data is not strict JSON (${(e as Error).message})`);
  }
  const fields = ['protocol', 'node_id', 'config_digest', 'keyset_digest', 'key_epoch', 'identity_mode'];
  const o = readObject(value, 'metadata', fields, schemaFail);
  const str = (name: string) =>
    readString(readRequired(o, name, 'metadata', schemaFail), `metadata.${name}`, schemaFail);
  const metadata = {
    protocol: str('protocol'),
    node_id: str('node_id'),
    config_digest: str('config_digest'),
    keyset_digest: str('keyset_digest'),
    key_epoch: Number(
      readUnsigned(
        readRequired(o, 'key_epoch', 'metadata', schemaFail),
        'metadata.key_epoch',
        U32_MAX,
        schemaFail,
      ),
    ),
    identity_mode: str('identity_mode'),
  };
  if (metadata.protocol !== CANARY_PROTOCOL)
    throw metadataError('protocol', `protocol must be "${CANARY_PROTOCOL}"`);
  if (!isIdentifier(metadata.node_id)) throw metadataError('node_id', 'node_id must be an identifier');
  if (!isDigest(metadata.config_digest) || !isDigest(metadata.keyset_digest)) {
    throw metadataError(
      'digests',
      'config_digest and keyset_digest must be "sha256:" and 64 lowercase hex digits',
    );
  }
  if (metadata.identity_mode !== 'stable' && metadata.identity_mode !== 'ephemeral') {
    throw metadataError('identity_mode', 'identity_mode must be "stable" or "ephemeral"');
  }
  if (metadata.key_epoch !== 0)
    throw metadataError('key_epoch', `key_epoch must be 0, not ${metadata.key_epoch}`);
  return metadata as NodeMetadata;
}

/** What a node served, to be bound by its metadata. */
export interface NodeDocuments {
  config: CanaryConfig;
  /** The digest of the served `/config.json` (already recomputed and compared). */
  configDigest: string;
  keys: ParsedKeysDocument;
}

/**
 * Check that attested metadata binds the node's served documents, as canaryctl does:
 * `node_id` equal in metadata, config and keys; `config_digest` equal to the served config's
 * digest; `keyset_digest` equal to the SHA-256 of the exact `/keys.json` bytes, which must be
 * canonical; `key_epoch` 0. Throws `ERR_CANARY_METADATA` with `details.rule`.
 *
 * @example
 * ```ts
 * await checkNodeBinding(metadata, { config, configDigest, keys });
 * ```
 */
export async function checkNodeBinding(metadata: NodeMetadata, served: NodeDocuments): Promise<void> {
  if (metadata.node_id !== served.config.node_id || metadata.node_id !== served.keys.nodeId) {
    throw metadataError(
      'node_id_binding',
      `the attested node_id "${metadata.node_id}" differs from the served config ("${served.config.node_id}") or keys ("${served.keys.nodeId}")`,
    );
  }
  if (metadata.config_digest !== served.configDigest) {
    throw metadataError(
      'config_digest_binding',
      `the attested config_digest ${metadata.config_digest} is not the served /config.json (${served.configDigest})`,
    );
  }
  const digest = await keysetDigest(served.keys.bytes);
  if (metadata.keyset_digest !== digest) {
    throw metadataError(
      'keyset_digest_binding',
      `the attested keyset_digest ${metadata.keyset_digest} is not the SHA-256 of the served /keys.json (${digest})`,
    );
  }
  if (!served.keys.canonical) {
    throw metadataError('keys_not_canonical', 'the served /keys.json bytes are not canonical JSON');
  }
  if (served.keys.keyEpoch !== 0 || metadata.key_epoch !== 0) {
    throw metadataError('key_epoch', 'key_epoch must be 0');
  }
}

/**
 * The metadata object a node attests (for test nodes and simulators).
 *
 * @example
 * ```ts
 * const userData = new TextEncoder().encode(canonicalJson(nodeMetadata(config.node_id, configDigest, keysetDigest)));
 * ```
 */
export function nodeMetadata(
  nodeId: string,
  configDigest: string,
  keysetDigestValue: string,
  identityMode: 'stable' | 'ephemeral' = 'stable',
): NodeMetadata {
  return {
    protocol: CANARY_PROTOCOL,
    node_id: nodeId,
    config_digest: configDigest,
    keyset_digest: keysetDigestValue,
    key_epoch: 0,
    identity_mode: identityMode,
  };
}
