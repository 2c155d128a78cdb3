/**
 * `enclave-verify canary verify --canary-url URL --expect-pcrs F --trusted-keys FILE
 * [--target ID]...`: CANARY.md 9 end to end; ok only when every checked target is VERIFIED.
 */
import type { TargetVerdict } from '../../canary/flows.js';
import { checkPinnedKeys, verifyCanaryTargets } from '../../canary/flows.js';
import { parseFlags } from '../args.js';
import type { Command } from '../context.js';
import { EXIT } from '../context.js';
import { attestFromFlags, NODE_FLAG_HELP, NODE_FLAG_OPTIONS, nodeLines } from './canary-node.js';
import { type CanaryVerdict, canaryUsage, failure, printVerdict, readTrustedKeys } from './canary-support.js';

const HELP = `usage: enclave-verify canary verify --canary-url URL (--expect-pcrs F | --pcr N=HEX...)
                                     --trusted-keys FILE [--target ID]... [--root F] [--ca F] [--json]

Verify a Canary node and what it says about its targets: attest the node now (fresh nonce,
its PCRs, metadata binding its config and keys), require the pinned keys file to be canonical
bytes equal to the live /keys.json, then for each target (all configured ones, or each
--target): the current statement verifies now and matches the attested config (target id,
origin, config digest, verifier, claim type); named evidence is fetched, matches the
statement (digest, observed_at) and replays against the configured PCRs to the signed reason.

${NODE_FLAG_HELP}
  --trusted-keys FILE  the keys pinned by 'canary save-keys'
  --target ID          check only this target (repeatable)

exit codes: 0 every target VERIFIED, 1 a check failed or a target is not VERIFIED, 2 usage or input error
`;

/**
 * Text lines of target verdicts.
 *
 * @example
 * ```ts
 * lines.push(...targetLines(verdicts));
 * ```
 */
export function targetLines(verdicts: TargetVerdict[]): string[] {
  return verdicts.map((v) =>
    v.ok
      ? `  ${v.id}: VERIFIED (${v.reason}) observed ${v.statement?.observed_at}, expires ${v.statement?.expires_at}${v.replayReason ? ', evidence replayed' : ''}`
      : `  ${v.id}: ${v.status ?? 'ERROR'} ${v.code}: ${v.message}`,
  );
}

/**
 * Run `canary verify`.
 *
 * @example
 * ```ts
 * await run(['--canary-url', url, '--expect-pcrs', 'node.pcrs', '--trusted-keys', 'keys.json'], ctx);
 * ```
 */
export const run: Command = async (argv, ctx) => {
  const { values } = parseFlags(
    {
      args: argv,
      options: {
        ...NODE_FLAG_OPTIONS,
        'trusted-keys': { type: 'string' },
        target: { type: 'string', multiple: true },
      },
      allowPositionals: false,
    },
    (m) => canaryUsage('verify', m),
  );
  if (values.help) {
    ctx.stdout.write(HELP);
    return EXIT.VERIFIED;
  }
  if (!values['trusted-keys'])
    throw canaryUsage('verify', '--trusted-keys FILE is required (pin it with canary save-keys)');
  const pinned = await readTrustedKeys(ctx, values['trusted-keys']);
  let verdict: CanaryVerdict;
  try {
    const { node, http, roots, fields } = await attestFromFlags(ctx, values, 'verify');
    checkPinnedKeys(pinned.bytes, node);
    const verdicts = await verifyCanaryTargets(node, {
      http,
      ...(roots ? { roots } : {}),
      ...(values.target ? { targets: values.target } : {}),
    });
    const bad = verdicts.find((v) => !v.ok);
    const targets = verdicts.map((v) => ({
      id: v.id,
      ok: v.ok,
      code: v.code ?? null,
      ...(v.message ? { message: v.message } : {}),
      status: v.status ?? null,
      reason: v.reason ?? null,
      replay_reason: v.replayReason ?? null,
      evidence_digest: v.evidenceDigest ?? null,
      observed_at: v.statement?.observed_at ?? null,
      expires_at: v.statement?.expires_at ?? null,
    }));
    const lines = [...nodeLines(node), 'pinned keys: equal to the live /keys.json', ...targetLines(verdicts)];
    verdict = bad
      ? {
          ok: false,
          code: bad.code!,
          message: `target ${bad.id}: ${bad.message}`,
          fields: { ...fields, targets },
          lines,
        }
      : { ok: true, code: null, fields: { ...fields, targets }, lines };
  } catch (e) {
    verdict = failure(e);
  }
  return printVerdict(ctx, verdict, {
    json: values.json,
    command: 'verify',
    summary: 'every target VERIFIED by an attested Canary node',
  });
};
