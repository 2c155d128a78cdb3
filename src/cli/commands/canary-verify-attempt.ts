/**
 * `enclave-verify canary verify-attempt --target ID --attempt N ...`: one past attempt of the
 * node's history, its statement judged at its own issued_at (an audit, not proof of now).
 */
import { checkPinnedKeys, verifyCanaryAttempt } from '../../canary/flows.js';
import { parseFlags } from '../args.js';
import type { Command } from '../context.js';
import { EXIT } from '../context.js';
import { attestFromFlags, NODE_FLAG_HELP, NODE_FLAG_OPTIONS, nodeLines } from './canary-node.js';
import { type CanaryVerdict, canaryUsage, failure, printVerdict, readTrustedKeys } from './canary-support.js';
import { targetLines } from './canary-verify.js';

const HELP = `usage: enclave-verify canary verify-attempt --canary-url URL (--expect-pcrs F | --pcr N=HEX...)
                  --trusted-keys FILE --target ID --attempt N [--root F] [--ca F] [--json]

Verify one attempt from a node's history (/targets/ID/history/N) after attesting the node and
checking the pinned keys as 'canary verify' does. The statement is verified at its own
issued_at (an audit of a past result, not proof the target passes now); its evidence, if any,
must match it and replay to the signed reason.

${NODE_FLAG_HELP}
  --trusted-keys FILE  the keys pinned by 'canary save-keys'
  --target ID          the target
  --attempt N          the attempt id from the history

exit codes: 0 the attempt was VERIFIED, 1 otherwise, 2 usage or input error
`;

/**
 * Run `canary verify-attempt`.
 *
 * @example
 * ```ts
 * await run(['--canary-url', url, '--pcr', '0=..', '--pcr', '1=..', '--pcr', '2=..', '--trusted-keys', 'k.json', '--target', 'web', '--attempt', '3'], ctx);
 * ```
 */
export const run: Command = async (argv, ctx) => {
  const { values } = parseFlags(
    {
      args: argv,
      options: {
        ...NODE_FLAG_OPTIONS,
        'trusted-keys': { type: 'string' },
        target: { type: 'string' },
        attempt: { type: 'string' },
      },
      allowPositionals: false,
    },
    (m) => canaryUsage('verify-attempt', m),
  );
  if (values.help) {
    ctx.stdout.write(HELP);
    return EXIT.VERIFIED;
  }
  if (!values['trusted-keys']) throw canaryUsage('verify-attempt', '--trusted-keys FILE is required');
  if (!values.target) throw canaryUsage('verify-attempt', '--target ID is required');
  if (!values.attempt || !/^\d{1,15}$/.test(values.attempt))
    throw canaryUsage('verify-attempt', '--attempt N (a non-negative integer) is required');
  const pinned = await readTrustedKeys(ctx, values['trusted-keys']);
  let verdict: CanaryVerdict;
  try {
    const { node, http, roots, fields } = await attestFromFlags(ctx, values, 'verify-attempt');
    checkPinnedKeys(pinned.bytes, node);
    const v = await verifyCanaryAttempt(node, values.target, Number(values.attempt), {
      http,
      ...(roots ? { roots } : {}),
    });
    const attempt = {
      target: v.id,
      attempt: Number(values.attempt),
      status: v.status ?? null,
      reason: v.reason ?? null,
      replay_reason: v.replayReason ?? null,
      issued_at: v.statement?.issued_at ?? null,
      observed_at: v.statement?.observed_at ?? null,
      evidence_digest: v.evidenceDigest ?? null,
    };
    const lines = [
      ...nodeLines(node),
      `attempt ${values.attempt}, judged at its issued_at ${v.statement?.issued_at ?? '-'}:`,
      ...targetLines([v]),
    ];
    verdict = v.ok
      ? { ok: true, code: null, fields: { ...fields, attempt }, lines }
      : { ok: false, code: v.code!, message: v.message ?? '', fields: { ...fields, attempt }, lines };
  } catch (e) {
    verdict = failure(e);
  }
  return printVerdict(ctx, verdict, {
    json: values.json,
    command: 'verify-attempt',
    summary: 'the attempt was VERIFIED',
  });
};
