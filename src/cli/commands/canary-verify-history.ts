/**
 * `enclave-verify canary verify-history DIR`: re-verify, offline, every statement and evidence
 * bundle a `canary watch` stored in DIR.
 */
import { resolve } from 'node:path';
import { type CanaryConfig, configDigest, parseCanaryConfig } from '../../canary/config.js';
import { verifyHistory } from '../../canary/node/history-verify.js';
import { printable } from '../../deployment/response.js';
import { type ExpectedPcrs, parseExpectedPcrs } from '../../policy/expected-pcrs.js';
import { parseFlags, readFileBytes, readFileText, readRootFile, usageError } from '../args.js';
import type { Command } from '../context.js';
import { EXIT } from '../context.js';

const HELP = `usage: enclave-verify canary verify-history DIR --trusted-keys FILE (--config canary.json | --expect-pcrs FILE) [options]

Re-verify, without network, every attempt a \`canary watch --data DIR\` stored: each statement
with the pinned keys at its own issued_at (Ed25519 and ML-DSA-65, Canary's payload rules), each
evidence bundle parsed strictly and replayed at its observed_at (chain to the trusted root, COSE
signature, nonce, expected PCR0/1/2), and each attempt's statement, evidence and observation
against each other. A torn last line (a crash mid-append) is ignored, as the monitor ignores it.
Reads line by line: memory does not grow with the history.

  --trusted-keys FILE   pinned /keys.json of the node (repeatable: an ephemeral node has new keys
                        at every restart)
  --config FILE         the node's canary.json: expected PCRs per target and its config_digest
  --expect-pcrs FILE    expected PCRs for every target instead (any format \`verify\` reads; a
                        canary config gives each target its own)
  --root FILE           trust this root (PEM or DER) instead of the AWS Nitro root (repeatable)
  --json                one JSON object on stdout
  --help                show this help

Exit codes: 0 every attempt verified, 1 a problem was found, 2 usage or input error.
`;

/**
 * Run `canary verify-history`.
 *
 * @example
 * ```ts
 * await run(['canary-data', '--trusted-keys', 'keys.json', '--config', 'canary.json'], ctx);
 * ```
 */
export const run: Command = async (argv, ctx) => {
  const { values, positionals } = parseFlags(
    {
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'trusted-keys': { type: 'string', multiple: true },
        config: { type: 'string' },
        'expect-pcrs': { type: 'string' },
        root: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    },
    (message) => usageError('canary verify-history', message),
  );
  if (values.help) {
    ctx.stdout.write(HELP);
    return EXIT.VERIFIED;
  }
  if (positionals.length !== 1) throw usageError('canary verify-history', 'give exactly one data directory');
  if (!values['trusted-keys']?.length) {
    throw usageError('canary verify-history', 'give the pinned keys with --trusted-keys FILE');
  }
  if (!values.config === !values['expect-pcrs']) {
    throw usageError('canary verify-history', 'give exactly one of --config and --expect-pcrs');
  }
  const trustedKeys: Uint8Array[] = [];
  for (const k of values['trusted-keys']) {
    trustedKeys.push(await readFileBytes(resolve(ctx.cwd, k), `--trusted-keys ${k}`));
  }
  let config: CanaryConfig | undefined;
  let common: ExpectedPcrs | undefined;
  const file = (values.config ?? values['expect-pcrs'])!;
  const text = await readFileText(
    resolve(ctx.cwd, file),
    `${values.config ? '--config' : '--expect-pcrs'} ${file}`,
  );
  if (values.config) config = parseCanaryConfig(text);
  else {
    try {
      config = parseCanaryConfig(text);
    } catch {
      common = parseExpectedPcrs(text);
    }
  }
  const roots: Uint8Array[] = [];
  for (const r of values.root ?? []) roots.push(await readRootFile(resolve(ctx.cwd, r), r));
  const report = await verifyHistory(resolve(ctx.cwd, positionals[0]!), {
    trustedKeys,
    expectedFor: (id) => {
      const pcrs = config?.targets.find((t) => t.id === id)?.expected_pcrs;
      return common ?? (pcrs ? { ...pcrs } : undefined);
    },
    ...(values.config && config ? { configDigest: await configDigest(config) } : {}),
    ...(roots.length > 0 ? { roots } : {}),
  });
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify({ ok: report.ok, targets: report.targets })}\n`);
  } else {
    for (const t of report.targets) {
      ctx.stdout.write(
        `${t.problemCount === 0 && t.attempts > 0 ? 'ok  ' : 'FAIL'} ${t.target}: ${t.attempts} attempt(s), ${t.statementsVerified} statement(s) verified, ${t.evidenceReplayed} evidence bundle(s) replayed${t.tornBytes > 0 ? `, torn last line of ${t.tornBytes} bytes ignored` : ''}\n`,
      );
      for (const p of t.problems) ctx.stdout.write(`       ${printable(p)}\n`);
      if (t.problemCount > t.problems.length)
        ctx.stdout.write(`       ... and ${t.problemCount - t.problems.length} more\n`);
    }
    ctx.stdout.write(report.ok ? 'history verified\n' : 'history NOT verified\n');
  }
  return report.ok ? EXIT.VERIFIED : EXIT.REJECTED;
};
