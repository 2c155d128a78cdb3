// CANARY.md 6: node metadata parsing and the bindings of /config.json and /keys.json.
import { describe, expect, it } from 'vitest';
import { configDigest, validateCanaryConfig } from '../../src/canary/config.js';
import { canonicalJson } from '../../src/canary/jcs.js';
import {
  deriveCanaryKeys,
  keysDocument,
  keysDocumentBytes,
  keysetDigest,
  parseKeysDocument,
} from '../../src/canary/keys.js';
import { checkNodeBinding, nodeMetadata, parseNodeMetadata } from '../../src/canary/metadata.js';

const PCR = 'ab'.repeat(48);
const config = validateCanaryConfig({
  version: 0,
  node_id: 'canary-1',
  targets: [
    {
      id: 'web',
      name: 'Web',
      attestation_url: 'https://web.example.com',
      expected_pcrs: { '0': PCR, '1': PCR, '2': PCR },
    },
  ],
});
const keyPair = deriveCanaryKeys(new Uint8Array(32).fill(3), 'canary-1');
const keysBytes = keysDocumentBytes(keyPair);
const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

async function fixture() {
  const cd = await configDigest(config);
  const kd = await keysetDigest(keysBytes);
  return { cd, kd, metadata: nodeMetadata('canary-1', cd, kd) };
}

function metadataRule(v: unknown): string | undefined {
  try {
    parseNodeMetadata(v === undefined ? undefined : enc(v));
    return undefined;
  } catch (e) {
    expect((e as { code: string }).code).toBe('ERR_CANARY_METADATA');
    return (e as { details: { rule: string } }).details.rule;
  }
}

describe('node metadata (user_data)', async () => {
  const { metadata } = await fixture();
  it('parses what a node attests', () => {
    expect(parseNodeMetadata(enc(canonicalJson(metadata)))).toEqual(metadata);
    expect(parseNodeMetadata(enc({ ...metadata, identity_mode: 'ephemeral' })).identity_mode).toBe(
      'ephemeral',
    );
  });

  it.each([
    ['no user_data', undefined, 'user_data'],
    ['user_data not JSON', 'tls', 'user_data'],
    ['unknown member', { ...metadata, extra: 1 }, 'schema'],
    [
      'code: identity_mode required',
      Object.fromEntries(Object.entries(metadata).filter(([k]) => k !== 'identity_mode')),
      'schema',
    ],
    ['another protocol', { ...metadata, protocol: 'caution-canary-v1' }, 'protocol'],
    ['node_id not an identifier', { ...metadata, node_id: '' }, 'node_id'],
    ['uppercase digest', { ...metadata, keyset_digest: metadata.keyset_digest.toUpperCase() }, 'digests'],
    ['identity_mode unknown', { ...metadata, identity_mode: 'sticky' }, 'identity_mode'],
    ['key_epoch 1', { ...metadata, key_epoch: 1 }, 'key_epoch'],
  ])('refuses %s', (_, value, rule) => {
    expect(metadataRule(value)).toBe(rule);
  });
});

describe('binding of the served documents', async () => {
  const { cd, kd, metadata } = await fixture();
  const served = { config, configDigest: cd, keys: parseKeysDocument(keysBytes) };
  const bindingRule = async (m: typeof metadata, s = served) => {
    try {
      await checkNodeBinding(m, s);
      return undefined;
    } catch (e) {
      return (e as { details: { rule: string } }).details.rule;
    }
  };

  it('accepts a node whose metadata binds its config and keys', async () => {
    expect(await bindingRule(metadata)).toBeUndefined();
  });

  it.each([
    ['node_id of the metadata differs', { node_id: 'canary-2' }, 'node_id_binding'],
    [
      'config_digest not the served config',
      { config_digest: `sha256:${'1'.repeat(64)}` },
      'config_digest_binding',
    ],
    [
      'keyset_digest not the served keys',
      { keyset_digest: `sha256:${'1'.repeat(64)}` },
      'keyset_digest_binding',
    ],
  ])('refuses: %s', async (_, over, rule) => {
    expect(await bindingRule({ ...metadata, ...over })).toBe(rule);
  });

  it('refuses keys of another node id', async () => {
    const other = keysDocumentBytes(deriveCanaryKeys(new Uint8Array(32).fill(3), 'canary-2'));
    expect(await bindingRule(metadata, { ...served, keys: parseKeysDocument(other) })).toBe(
      'node_id_binding',
    );
  });

  it('refuses served keys bytes that are not canonical, even when the digest binds them', async () => {
    const pretty = enc(JSON.stringify(keysDocument(keyPair), null, 2));
    const m = { ...metadata, keyset_digest: await keysetDigest(pretty) };
    expect(await bindingRule(m, { ...served, keys: parseKeysDocument(pretty) })).toBe('keys_not_canonical');
    expect(kd).not.toBe(m.keyset_digest);
  });
});
