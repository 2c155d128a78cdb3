/**
 * The flags and steps the live `canary` commands share: reach a node (`--canary-url`, `--ca`),
 * attest it against its expected PCRs (`--expect-pcrs`/`--pcr`, `--root`), and describe it.
 */

import { type AttestedNode, attestCanaryNode } from '../../canary/flows.js';
import type { CanaryHttp } from '../../canary/http.js';
import { canaryNodeOrigin } from '../../canary/http.js';
import { nodeCanaryHttp } from '../../canary/node/http.js';
import type { CliContext } from '../context.js';
import { canaryUsage, pcrsRecord, readCanaryPcrs, readCas, readRoots } from './canary-support.js';

/** parseArgs options of the node flags. */
export const NODE_FLAG_OPTIONS = {
  'canary-url': { type: 'string' },
  'expect-pcrs': { type: 'string' },
  pcr: { type: 'string', multiple: true },
  root: { type: 'string', multiple: true },
  ca: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Help text of the node flags. */
export const NODE_FLAG_HELP = `  --canary-url URL  the node's bare https origin (no path); redirects are refused
  --expect-pcrs F   the Canary node's own PCR0/1/2 (trusted_hashes.json, {"pcr0",...}, .pcrs...)
  --pcr N=HEX       expected node PCR N instead of a file (0, 1 and 2 all required)
  --root F          trust this root (PEM/DER) instead of the AWS Nitro root (test nodes)
  --ca F            extra CA (PEM) for the node's TLS certificate (self-hosted, tests)
  --json            one object {ok, code, ...}
  --help            this help
Network: 5 s to connect, 15 s per request, bodies up to 256 KiB, no redirects.`;

/** A node reached and attested from the command's flags. */
export interface NodeContext {
  http: CanaryHttp;
  node: AttestedNode;
  roots: Uint8Array[] | undefined;
  fields: Record<string, unknown>;
}

/**
 * Attest the node named by the flags: fresh nonce, its PCRs, metadata binding of config and keys.
 *
 * @example
 * ```ts
 * const { node, http } = await attestFromFlags(ctx, values, 'verify');
 * ```
 */
export async function attestFromFlags(
  ctx: CliContext,
  values: { 'canary-url'?: string; 'expect-pcrs'?: string; pcr?: string[]; root?: string[]; ca?: string[] },
  sub: string,
  http?: CanaryHttp,
): Promise<NodeContext> {
  if (!values['canary-url']) throw canaryUsage(sub, '--canary-url URL is required');
  const origin = canaryNodeOrigin(values['canary-url']);
  const expected = await readCanaryPcrs(ctx, values['expect-pcrs'], values.pcr, undefined, sub);
  const roots = await readRoots(ctx, values.root);
  const ca = await readCas(ctx, values.ca);
  const client = http ?? nodeCanaryHttp(ca ? { ca } : {});
  const node = await attestCanaryNode(origin, {
    http: client,
    expectedPcrs: expected,
    ...(roots ? { roots } : {}),
  });
  return { http: client, node, roots, fields: nodeFields(node, pcrsRecord(expected)) };
}

/**
 * The JSON fields describing an attested node.
 *
 * @example
 * ```ts
 * nodeFields(node, pcrs).node.config_digest;
 * ```
 */
export function nodeFields(
  node: AttestedNode,
  expectedPcrs: Record<string, string>,
): Record<string, unknown> {
  return {
    node: {
      origin: node.origin,
      node_id: node.config.node_id,
      config_digest: node.configDigest,
      keyset_digest: node.keysetDigest,
      identity_mode: node.metadata.identity_mode,
      attested_at: node.attestation.verifiedAt.toISOString(),
      expected_pcrs: expectedPcrs,
    },
  };
}

/**
 * Text lines describing an attested node.
 *
 * @example
 * ```ts
 * lines.push(...nodeLines(node));
 * ```
 */
export function nodeLines(node: AttestedNode): string[] {
  return [
    `node ${node.config.node_id} at ${node.origin}: attested now (fresh nonce, expected PCRs), identity ${node.metadata.identity_mode}`,
    `  config_digest ${node.configDigest} and keyset_digest ${node.keysetDigest} bound by its attestation`,
    ...(node.metadata.identity_mode === 'ephemeral'
      ? ['  note: an ephemeral node gets new keys at every restart; pinned keys then stop matching']
      : []),
  ];
}
