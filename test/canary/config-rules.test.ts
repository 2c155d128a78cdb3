// CANARY.md 2: one test per configuration rule, each on an otherwise valid config, so removing a
// rule makes its test fail. Spec/code differences are named in the test titles.
import { describe, expect, it } from 'vitest';
import {
  configDigest,
  configDocument,
  parseCanaryConfig,
  parseConfigDocument,
  targetOrigin,
  validateCanaryConfig,
} from '../../src/canary/config.js';
import { canonicalJson } from '../../src/canary/jcs.js';

const PCR = 'ab'.repeat(48);
const target = (over: Record<string, unknown> = {}) => ({
  id: 'web',
  name: 'Web',
  attestation_url: 'https://web.example.com/attestation',
  expected_pcrs: { '0': PCR, '1': PCR, '2': PCR },
  ...over,
});
const config = (over: Record<string, unknown> = {}) => ({
  version: 0,
  node_id: 'canary-1',
  targets: [target()],
  ...over,
});
const text = (v: unknown) => JSON.stringify(v);

function ruleOf(source: string): string | undefined {
  try {
    parseCanaryConfig(source);
    return undefined;
  } catch (e) {
    expect((e as { code: string }).code).toBe('ERR_CANARY_CONFIG');
    return (e as { details: { rule: string } }).details.rule;
  }
}

describe('canary.json rules (CANARY.md 2)', () => {
  it('accepts the base config and fills the defaults', () => {
    const c = parseCanaryConfig(text(config()));
    expect(c.probe_interval_seconds).toBe(60);
    expect(c.history_limit).toBe(1000);
  });

  it.each([
    ['strict JSON: duplicate member', '{"version":0,"version":0,"node_id":"n","targets":[]}', 'json'],
    ['strict JSON: trailing text', `${text(config())} x`, 'json'],
    ['unknown member at the top', text(config({ extra: 1 })), 'schema'],
    ['unknown member in a target', text(config({ targets: [target({ extra: 1 })] })), 'schema'],
    [
      'unknown member in expected_pcrs',
      text(config({ targets: [target({ expected_pcrs: { '0': PCR, '1': PCR, '2': PCR, '3': PCR } })] })),
      'schema',
    ],
    [
      'missing PCR2',
      text(config({ targets: [target({ expected_pcrs: { '0': PCR, '1': PCR } })] })),
      'schema',
    ],
    ['missing node_id', text({ version: 0, targets: [target()] }), 'schema'],
    [
      'integer as a float literal (60.0)',
      text(config()).replace('"targets"', '"probe_interval_seconds":60.0,"targets"'),
      'schema',
    ],
    ['negative integer', text(config({ history_limit: -1 })), 'schema'],
    ['string where an integer goes', text(config({ version: '0' })), 'schema'],
    ['e2e_mode other than "tls"', text(config({ targets: [target({ e2e_mode: 'mtls' })] })), 'schema'],
    ['name not a string', text(config({ targets: [target({ name: 5 })] })), 'schema'],
  ])('refuses %s', (_, source, rule) => {
    expect(ruleOf(source)).toBe(rule);
  });

  it.each([
    ['1. version 1', config({ version: 1 }), 'version'],
    ['2. empty node_id', config({ node_id: '' }), 'node_id'],
    ['2. node_id with a dot', config({ node_id: 'canary.1' }), 'node_id'],
    ['3. no target', config({ targets: [] }), 'targets_count'],
    [
      '3. 101 targets',
      config({ targets: Array.from({ length: 101 }, (_, i) => target({ id: `t${i}` })) }),
      'targets_count',
    ],
    ['4. probe interval 5', config({ probe_interval_seconds: 5 }), 'probe_interval_seconds'],
    ['4. probe interval 86401', config({ probe_interval_seconds: 86401 }), 'probe_interval_seconds'],
    ['5. history limit 0', config({ history_limit: 0 }), 'history_limit'],
    ['5. history limit 10001', config({ history_limit: 10001 }), 'history_limit'],
    ['6. target id not an identifier', config({ targets: [target({ id: 'a b' })] }), 'target_id'],
    ['6. duplicate target ids', config({ targets: [target(), target()] }), 'target_id_unique'],
    ['6. target id equal to node_id', config({ targets: [target({ id: 'canary-1' })] }), 'target_id_unique'],
    [
      '6. URL that does not parse',
      config({ targets: [target({ attestation_url: 'https://' })] }),
      'url_parse',
    ],
    [
      '6. http URL',
      config({ targets: [target({ attestation_url: 'http://web.example.com/' })] }),
      'url_scheme',
    ],
    [
      '6. user name in URL',
      config({ targets: [target({ attestation_url: 'https://u@web.example.com/' })] }),
      'url_credentials',
    ],
    [
      '6. password in URL',
      config({ targets: [target({ attestation_url: 'https://:p@web.example.com/' })] }),
      'url_credentials',
    ],
    [
      '6. fragment',
      config({ targets: [target({ attestation_url: 'https://web.example.com/#x' })] }),
      'url_fragment',
    ],
    [
      '6. empty fragment "#"',
      config({ targets: [target({ attestation_url: 'https://web.example.com/#' })] }),
      'url_fragment',
    ],
    [
      '6. tls mode with an IPv4 host',
      config({ targets: [target({ e2e_mode: 'tls', attestation_url: 'https://10.0.0.1/' })] }),
      'tls_host',
    ],
    [
      '6. tls mode with an IPv6 host',
      config({ targets: [target({ e2e_mode: 'tls', attestation_url: 'https://[::1]/' })] }),
      'tls_host',
    ],
    [
      '6. tls mode with a hex IPv4 host (normalised)',
      config({ targets: [target({ e2e_mode: 'tls', attestation_url: 'https://0x7f.1/' })] }),
      'tls_host',
    ],
    [
      '6. PCR of 95 digits',
      config({ targets: [target({ expected_pcrs: { '0': PCR.slice(1), '1': PCR, '2': PCR } })] }),
      'pcr_format',
    ],
    [
      '6. uppercase PCR',
      config({ targets: [target({ expected_pcrs: { '0': PCR, '1': PCR.toUpperCase(), '2': PCR } })] }),
      'pcr_format',
    ],
    [
      '6. all-zero PCR',
      config({ targets: [target({ expected_pcrs: { '0': PCR, '1': PCR, '2': '0'.repeat(96) } })] }),
      'pcr_zero',
    ],
  ])('rule %s', (_, value, rule) => {
    expect(ruleOf(text(value))).toBe(rule);
  });

  it('checks the rules in Canary order (version before node_id before targets)', () => {
    expect(ruleOf(text(config({ version: 2, node_id: '', targets: [] })))).toBe('version');
    expect(ruleOf(text(config({ node_id: '', targets: [] })))).toBe('node_id');
    expect(ruleOf(text(config({ targets: [], probe_interval_seconds: 1 })))).toBe('targets_count');
  });

  it('code: ports and query strings are allowed in target URLs', () => {
    const c = parseCanaryConfig(
      text(config({ targets: [target({ attestation_url: 'https://web.example.com:8443/a?x=1' })] })),
    );
    expect(c.targets[0]!.attestation_url).toBe('https://web.example.com:8443/a?x=1');
    expect(targetOrigin(c.targets[0]!.attestation_url)).toBe('https://web.example.com:8443');
  });

  it('code: e2e_mode null is read as absent and left out of the digest', async () => {
    const withNull = parseCanaryConfig(text(config({ targets: [target({ e2e_mode: null })] })));
    const without = parseCanaryConfig(text(config()));
    expect(withNull.targets[0]).not.toHaveProperty('e2e_mode');
    expect(await configDigest(withNull)).toBe(await configDigest(without));
  });

  it('digests the default-filled config, URLs as written', async () => {
    const omitted = parseCanaryConfig(text(config()));
    const explicit = parseCanaryConfig(text(config({ probe_interval_seconds: 60, history_limit: 1000 })));
    expect(await configDigest(omitted)).toBe(await configDigest(explicit));
    expect(canonicalJson(omitted)).toContain('"probe_interval_seconds":60');
    const other = parseCanaryConfig(
      text(config({ targets: [target({ attestation_url: 'https://WEB.example.com/attestation' })] })),
    );
    expect(await configDigest(other)).not.toBe(await configDigest(omitted));
  });

  it('/config.json: the served digest must be the recomputed one', async () => {
    const c = validateCanaryConfig(config());
    const doc = await configDocument(c);
    const parsed = await parseConfigDocument(canonicalJson(doc));
    expect(parsed.configDigest).toBe(doc.config_digest);
    const forged = canonicalJson({ ...doc, config_digest: `sha256:${'0'.repeat(64)}` });
    await expect(parseConfigDocument(forged)).rejects.toMatchObject({
      code: 'ERR_CANARY_CONFIG',
      details: { rule: 'config_digest' },
    });
    await expect(parseConfigDocument(canonicalJson({ ...doc, extra: 1 }))).rejects.toMatchObject({
      details: { rule: 'schema' },
    });
  });
});
