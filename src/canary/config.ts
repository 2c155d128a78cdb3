/**
 * Canary's configuration, `canary.json` (CANARY.md 2): strict parsing, the validation rules in
 * Canary's order, `config_digest` over the default-filled config, and the `/config.json`
 * document a node serves.
 */
import { EnclaveVerifyError } from '../errors.js';
import { canonicalDigest, isDigest } from './digest.js';
import { type JsonValue, parseStrictJson } from './jcs.js';
import { isIdentifier } from './reasons.js';
import {
  type JsonObject,
  readArray,
  readObject,
  readOptional,
  readRequired,
  readString,
  readUnsigned,
  type SchemaFail,
  U32_MAX,
  U64_MAX,
} from './schema.js';

/** Expected PCR0/1/2 of a target: 96 lowercase hex digits each. */
export interface CanaryExpectedPcrs {
  '0': string;
  '1': string;
  '2': string;
}

/** One monitored enclave. */
export interface CanaryTargetConfig {
  /** Identifier, unique in the config and distinct from `node_id`. */
  id: string;
  /** Display name; any string. */
  name: string;
  /** `https` URL of the target's attestation endpoint, as written (ports and queries allowed). */
  attestation_url: string;
  /** `'tls'` when the target's attestation binds its TLS certificate; absent otherwise. */
  e2e_mode?: 'tls';
  expected_pcrs: CanaryExpectedPcrs;
}

/** A validated config with defaults filled in (what `config_digest` covers). */
export interface CanaryConfig {
  version: 0;
  node_id: string;
  probe_interval_seconds: number;
  history_limit: number;
  targets: CanaryTargetConfig[];
}

/** The rule a config broke; `details.rule` of `ERR_CANARY_CONFIG`. */
export type ConfigRule =
  | 'json'
  | 'schema'
  | 'version'
  | 'node_id'
  | 'targets_count'
  | 'probe_interval_seconds'
  | 'history_limit'
  | 'target_id'
  | 'target_id_unique'
  | 'url_parse'
  | 'url_scheme'
  | 'url_credentials'
  | 'url_fragment'
  | 'tls_host'
  | 'pcr_format'
  | 'pcr_zero'
  | 'config_digest';

/** Defaults Canary fills in before digesting. */
export const DEFAULT_PROBE_INTERVAL_SECONDS = 60;
export const DEFAULT_HISTORY_LIMIT = 1000;
export const MAX_TARGETS = 100;

function configError(rule: ConfigRule, message: string, path?: string): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_CANARY_CONFIG', `canary config: ${message}`, {
    details: { rule, ...(path ? { path } : {}) },
  });
}

const schemaFail: SchemaFail = (message, path) => {
  throw configError('schema', message, path);
};

function parseJson(text: string): JsonValue {
  try {
    return parseStrictJson(text);
  } catch (e) {
    throw configError('json', `not strict JSON (${(e as Error).message})`);
  }
}

/**
 * Parse and validate `canary.json` text: strict JSON (duplicate members refused), unknown members
 * refused at every level, integer literals for integers, then the rules of CANARY.md 2 in
 * Canary's order. Returns the config with defaults filled in. Throws `ERR_CANARY_CONFIG` whose
 * `details.rule` names the broken rule.
 *
 * @example
 * ```ts
 * const config = parseCanaryConfig(await readFile('canary.json', 'utf8'));
 * config.probe_interval_seconds; // 60 when omitted
 * ```
 */
export function parseCanaryConfig(text: string): CanaryConfig {
  return validateCanaryConfig(readConfigValue(parseJson(text), 'config'));
}

/** Schema stage: shapes and types only (what serde checks before Canary's own rules). */
function readConfigValue(value: JsonValue, path: string): CanaryConfigInput {
  const o = readObject(
    value,
    path,
    ['version', 'node_id', 'probe_interval_seconds', 'history_limit', 'targets'],
    schemaFail,
  );
  const interval = readOptional(o, 'probe_interval_seconds');
  const history = readOptional(o, 'history_limit');
  return {
    version: readUnsigned(
      readRequired(o, 'version', path, schemaFail),
      `${path}.version`,
      U32_MAX,
      schemaFail,
    ),
    node_id: readString(readRequired(o, 'node_id', path, schemaFail), `${path}.node_id`, schemaFail),
    probe_interval_seconds:
      interval === undefined
        ? undefined
        : readUnsigned(interval, `${path}.probe_interval_seconds`, U64_MAX, schemaFail),
    history_limit:
      history === undefined ? undefined : readUnsigned(history, `${path}.history_limit`, U32_MAX, schemaFail),
    targets: readArray(readRequired(o, 'targets', path, schemaFail), `${path}.targets`, schemaFail).map(
      (t, i) => readTarget(t, `${path}.targets[${i}]`),
    ),
  };
}

function readTarget(value: JsonValue, path: string): CanaryTargetConfig {
  const o = readObject(
    value,
    path,
    ['id', 'name', 'attestation_url', 'e2e_mode', 'expected_pcrs'],
    schemaFail,
  );
  const mode = readOptional(o, 'e2e_mode');
  if (mode !== undefined && mode !== 'tls') {
    schemaFail(`${path}.e2e_mode must be "tls" when present`, `${path}.e2e_mode`);
  }
  const pcrs: JsonObject = readObject(
    readRequired(o, 'expected_pcrs', path, schemaFail),
    `${path}.expected_pcrs`,
    ['0', '1', '2'],
    schemaFail,
  );
  const pcr = (i: '0' | '1' | '2') =>
    readString(
      readRequired(pcrs, i, `${path}.expected_pcrs`, schemaFail),
      `${path}.expected_pcrs.${i}`,
      schemaFail,
    );
  return {
    id: readString(readRequired(o, 'id', path, schemaFail), `${path}.id`, schemaFail),
    name: readString(readRequired(o, 'name', path, schemaFail), `${path}.name`, schemaFail),
    attestation_url: readString(
      readRequired(o, 'attestation_url', path, schemaFail),
      `${path}.attestation_url`,
      schemaFail,
    ),
    ...(mode === 'tls' ? { e2e_mode: 'tls' as const } : {}),
    expected_pcrs: { '0': pcr('0'), '1': pcr('1'), '2': pcr('2') },
  };
}

/** A config before validation: integers as read, defaults not yet filled. */
export interface CanaryConfigInput {
  version: bigint | number;
  node_id: string;
  probe_interval_seconds?: bigint | number | undefined;
  history_limit?: bigint | number | undefined;
  targets: CanaryTargetConfig[];
}

/**
 * Apply Canary's validation rules, in its order, to a config given as data (for configs built in
 * code, e.g. by `add-target`), and fill in the defaults. Throws `ERR_CANARY_CONFIG` with
 * `details.rule`.
 *
 * @example
 * ```ts
 * validateCanaryConfig({ version: 0, node_id: 'n1', targets: [target] }).history_limit; // 1000
 * ```
 */
export function validateCanaryConfig(input: CanaryConfigInput): CanaryConfig {
  if (BigInt(input.version) !== 0n) throw configError('version', `version must be 0, not ${input.version}`);
  if (!isIdentifier(input.node_id)) {
    throw configError('node_id', 'node_id must be a non-empty identifier of A-Z a-z 0-9 _ -');
  }
  if (input.targets.length < 1 || input.targets.length > MAX_TARGETS) {
    throw configError(
      'targets_count',
      `a config needs 1 to ${MAX_TARGETS} targets, not ${input.targets.length}`,
    );
  }
  const interval = BigInt(input.probe_interval_seconds ?? DEFAULT_PROBE_INTERVAL_SECONDS);
  if (interval < 6n || interval > 86400n) {
    throw configError('probe_interval_seconds', `probe_interval_seconds must be 6..86400, not ${interval}`);
  }
  const history = BigInt(input.history_limit ?? DEFAULT_HISTORY_LIMIT);
  if (history < 1n || history > 10000n) {
    throw configError('history_limit', `history_limit must be 1..10000, not ${history}`);
  }
  const seen = new Set<string>();
  input.targets.forEach((t, i) => {
    const path = `targets[${i}]`;
    if (!isIdentifier(t.id))
      throw configError('target_id', `${path}.id must be a non-empty identifier`, path);
    if (seen.has(t.id) || t.id === input.node_id) {
      throw configError(
        'target_id_unique',
        `${path}.id "${t.id}" is used twice or equals node_id; ids must be unique and differ from the node id`,
        path,
      );
    }
    seen.add(t.id);
    checkTargetUrl(t, path);
    for (const i of ['0', '1', '2'] as const) {
      const v = t.expected_pcrs[i];
      if (!/^[0-9a-f]{96}$/.test(v)) {
        throw configError('pcr_format', `${path}.expected_pcrs.${i} must be 96 lowercase hex digits`, path);
      }
      if (/^0+$/.test(v)) {
        throw configError('pcr_zero', `${path}.expected_pcrs.${i} is all zero (a debug enclave)`, path);
      }
    }
  });
  return {
    version: 0,
    node_id: input.node_id,
    probe_interval_seconds: Number(interval),
    history_limit: Number(history),
    targets: input.targets.map((t) => ({
      id: t.id,
      name: t.name,
      attestation_url: t.attestation_url,
      ...(t.e2e_mode === 'tls' ? { e2e_mode: 'tls' as const } : {}),
      expected_pcrs: { '0': t.expected_pcrs['0'], '1': t.expected_pcrs['1'], '2': t.expected_pcrs['2'] },
    })),
  };
}

function checkTargetUrl(t: CanaryTargetConfig, path: string): void {
  let url: URL;
  try {
    url = new URL(t.attestation_url);
  } catch {
    throw configError('url_parse', `${path}.attestation_url is not a URL`, path);
  }
  if (url.protocol !== 'https:')
    throw configError('url_scheme', `${path}.attestation_url must use https`, path);
  if (url.username !== '' || url.password !== '') {
    throw configError(
      'url_credentials',
      `${path}.attestation_url must not carry a user name or password`,
      path,
    );
  }
  // URL.hash is '' for an empty fragment too; any '#' starts a fragment, and Canary refuses even `#`.
  if (t.attestation_url.includes('#')) {
    throw configError('url_fragment', `${path}.attestation_url must not have a fragment`, path);
  }
  if (t.e2e_mode === 'tls' && isIpHost(url.hostname)) {
    throw configError('tls_host', `${path}: e2e_mode "tls" needs a DNS host name, not an IP address`, path);
  }
}

/**
 * True when a WHATWG-normalised host is an IP literal (IPv4 dotted quad or bracketed IPv6).
 *
 * @example
 * ```ts
 * isIpHost(new URL('https://0x7f.1/').hostname); // true (normalised to 127.0.0.1)
 * ```
 */
export function isIpHost(hostname: string): boolean {
  return hostname.startsWith('[') || /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * The canonical origin of a target URL, as statements carry it in `target_origin`.
 *
 * @example
 * ```ts
 * targetOrigin('https://Example.COM:443/attestation?x=1'); // 'https://example.com'
 * ```
 */
export function targetOrigin(attestationUrl: string): string {
  return new URL(attestationUrl).origin;
}

/**
 * The target's expected PCRs in the shape `verifyAttestation` takes.
 *
 * @example
 * ```ts
 * await verifyAttestation(doc, { expectedPcrs: targetExpectedPcrs(config.targets[0]) });
 * ```
 */
export function targetExpectedPcrs(target: CanaryTargetConfig): Record<string, string> {
  return { ...target.expected_pcrs };
}

/**
 * `config_digest`: SHA-256 of the canonical JSON of the default-filled config.
 *
 * @example
 * ```ts
 * await configDigest(parseCanaryConfig(text)); // 'sha256:06ebfb6a...'
 * ```
 */
export async function configDigest(config: CanaryConfig): Promise<string> {
  return canonicalDigest(config);
}

/** The `/config.json` document a Canary node serves. */
export interface CanaryConfigDocument {
  config: CanaryConfig;
  config_digest: string;
}

/**
 * The `/config.json` document of a config: `{config, config_digest}`.
 *
 * @example
 * ```ts
 * const body = JSON.stringify(await configDocument(config));
 * ```
 */
export async function configDocument(config: CanaryConfig): Promise<CanaryConfigDocument> {
  return { config, config_digest: await configDigest(config) };
}

/**
 * Read a node's `/config.json`: strict `{config, config_digest}`, the config validated, and its
 * digest recomputed and compared with the served one (`ERR_CANARY_CONFIG`, rule `config_digest`).
 *
 * @example
 * ```ts
 * const { config, configDigest } = await parseConfigDocument(body);
 * ```
 */
export async function parseConfigDocument(
  text: string,
): Promise<{ config: CanaryConfig; configDigest: string }> {
  const o = readObject(parseJson(text), 'config document', ['config', 'config_digest'], schemaFail);
  const served = readString(
    readRequired(o, 'config_digest', 'config document', schemaFail),
    'config_digest',
    schemaFail,
  );
  const config = validateCanaryConfig(
    readConfigValue(readRequired(o, 'config', 'config document', schemaFail), 'config'),
  );
  const digest = await configDigest(config);
  if (!isDigest(served) || served !== digest) {
    throw new EnclaveVerifyError(
      'ERR_CANARY_CONFIG',
      `canary config: the served config_digest ${served.slice(0, 80)} is not the digest of the served config (${digest})`,
      { details: { rule: 'config_digest', served, computed: digest } },
    );
  }
  return { config, configDigest: digest };
}
