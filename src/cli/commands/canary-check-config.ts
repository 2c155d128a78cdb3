import { configDigest, parseCanaryConfig, parseConfigDocument } from '../../canary/config.js';
import type { Command } from '../context.js';
import { EXIT } from '../context.js';
import {
  type CanaryVerdict,
  failure,
  parseOneFileArgs,
  printVerdict,
  readCanaryText,
} from './canary-support.js';

const HELP = `usage: enclave-verify canary check-config FILE [--json]

Validate a Canary configuration (canary.json) with Canary's rules, in Canary's order, and print
its config_digest (of the default-filled config). A node's /config.json document
({"config", "config_digest"}) is also accepted: its served digest must be the recomputed one.
--help shows this help.

exit codes: 0 valid, 1 invalid, 2 usage or input error
`;

/**
 * Run `canary check-config`.
 *
 * @example
 * ```ts
 * await run(['canary.json', '--json'], ctx); // {"ok":true,"code":null,"config_digest":"sha256:..."}
 * ```
 */
export const run: Command = async (argv, ctx) => {
  const args = parseOneFileArgs(argv, ctx, 'check-config', HELP, 'give exactly one config file');
  if (!args) return EXIT.VERIFIED;
  const { file } = args;
  const text = await readCanaryText(ctx, file, 'config');
  let verdict: CanaryVerdict;
  try {
    const isDocument = /^\s*\{\s*"config"\s*:/.test(text) || /"config_digest"\s*:/.test(text);
    const { config, configDigest: digest } = isDocument
      ? await parseConfigDocument(text)
      : await (async () => {
          const c = parseCanaryConfig(text);
          return { config: c, configDigest: await configDigest(c) };
        })();
    verdict = {
      ok: true,
      code: null,
      fields: {
        config_digest: digest,
        node_id: config.node_id,
        probe_interval_seconds: config.probe_interval_seconds,
        history_limit: config.history_limit,
        targets: config.targets.map((t) => ({
          id: t.id,
          attestation_url: t.attestation_url,
          e2e_mode: t.e2e_mode ?? null,
        })),
      },
      lines: [
        `config_digest ${digest}`,
        `node ${config.node_id}, probe every ${config.probe_interval_seconds} s, history ${config.history_limit}`,
        ...config.targets.map((t) => `  target ${t.id}: ${t.attestation_url}${t.e2e_mode ? ' (tls)' : ''}`),
      ],
    };
  } catch (e) {
    verdict = failure(e);
  }
  return printVerdict(ctx, verdict, { json: args.json, command: 'check-config', summary: 'canary config' });
};
