import { checkStatementArtifact } from '../../canary/artifacts.js';
import { keysetDigest } from '../../canary/keys.js';
import type { StatementPayload } from '../../canary/statement.js';
import { parseFlags } from '../args.js';
import type { Command } from '../context.js';
import { EXIT } from '../context.js';
import {
  type CanaryVerdict,
  canaryUsage,
  parseAtFlag,
  printVerdict,
  readCanaryText,
  readTrustedKeys,
} from './canary-support.js';

const HELP = `usage: enclave-verify canary verify-statement FILE --trusted-keys KEYS [--at now|ISO] [--json]

Verify a Canary statement (the envelope of /targets/{id}/statement) with a node's pinned keys:
strict parse, keys of the payload's verifier_id, the payload rules, issued at most 30 s after
the verification time, not expired (time >= expires_at), one signer with exactly one Ed25519
and one ML-DSA-65 signature, both valid over the canonical payload.
A valid statement may carry any status: the output says which (a VERIFIED statement says the
target passed; FAILED, PENDING, UNREACHABLE and STALE are valid signed negative results).

  --trusted-keys KEYS  the node's /keys.json as pinned by 'canary save-keys'
  --at now|ISO         verification time (default now); e.g. 2026-07-17T12:01:00Z for audits
  --json               one object {ok, code, target_id, status, reason, ...}
--help shows this help.

exit codes: 0 valid statement, 1 invalid, 2 usage or input error
`;

/**
 * Run `canary verify-statement`.
 *
 * @example
 * ```ts
 * await run(['statement.json', '--trusted-keys', 'canary-keys.json', '--json'], ctx);
 * ```
 */
export const run: Command = async (argv, ctx) => {
  const { values, positionals } = parseFlags(
    {
      args: argv,
      options: {
        'trusted-keys': { type: 'string' },
        at: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    },
    (m) => canaryUsage('verify-statement', m),
  );
  if (values.help) {
    ctx.stdout.write(HELP);
    return EXIT.VERIFIED;
  }
  if (positionals.length !== 1) throw canaryUsage('verify-statement', 'give exactly one statement file');
  if (!values['trusted-keys']) throw canaryUsage('verify-statement', '--trusted-keys KEYS is required');
  const at = parseAtFlag(values.at, 'verify-statement');
  const keys = await readTrustedKeys(ctx, values['trusted-keys']);
  const file = positionals[0]!;
  const text = await readCanaryText(ctx, file, 'statement');
  const base = {
    verifiedAt: at.toISOString(),
    keysetDigest: await keysetDigest(keys.bytes),
    nodeId: keys.nodeId,
  };
  const checked = await checkStatementArtifact(text, keys, at);
  const payload = checked.ok ? (checked.fields as unknown as StatementPayload) : undefined;
  const verdict: CanaryVerdict = {
    ok: checked.ok,
    code: checked.code,
    ...(checked.message ? { message: checked.message } : {}),
    fields: { ...base, ...checked.fields },
    lines: payload
      ? [
          `target ${payload.target_id} (${payload.target_origin}): ${payload.status} (${payload.reason})`,
          `claim ${payload.claim_type}, signed by ${payload.verifier_id} epoch ${payload.key_epoch}`,
          `observed ${payload.observed_at ?? '-'}, issued ${payload.issued_at}, expires ${payload.expires_at}`,
          `evidence ${payload.evidence_digest ?? '-'}, config ${payload.config_digest}`,
          `checked at ${base.verifiedAt}${values.at && values.at !== 'now' ? ' (given: an audit of a past statement)' : ''}`,
          ...(payload.status === 'VERIFIED'
            ? []
            : [`note: a valid signed ${payload.status} result, not a passed check`]),
        ]
      : [],
  };
  return printVerdict(ctx, verdict, {
    json: values.json,
    command: 'verify-statement',
    summary: `statement signed by ${keys.nodeId}`,
  });
};
