/**
 * `enclave-verify canary <command>`: independent verification of Caution Canary artifacts and
 * nodes. Sub-commands live in one module each, listed in {@link CANARY_COMMANDS}; adding one is
 * one entry here (the monitor's `watch` and `verify-history` plug in the same way).
 */
import { EnclaveVerifyError } from '../../errors.js';
import { parseFlags, usageError } from '../args.js';
import type { Command } from '../context.js';
import { EXIT } from '../context.js';

/** A canary sub-command: its module loader and a one-line summary for `--help`. */
export interface CanarySubcommand {
  load: () => Promise<{ run: Command }>;
  summary: string;
}

/** Sub-commands by name. Literal `import()`s so bundlers and vitest resolve them. */
export const CANARY_COMMANDS: Record<string, CanarySubcommand> = {
  'verify-statement': {
    load: () => import('./canary-verify-statement.js'),
    summary: 'verify a signed statement with a pinned keys file (CANARY.md 4)',
  },
  'verify-evidence': {
    load: () => import('./canary-verify-evidence.js'),
    summary: 'replay an evidence bundle against expected PCRs at its observed_at (CANARY.md 5)',
  },
  'check-config': {
    load: () => import('./canary-check-config.js'),
    summary: 'validate a canary.json and print its config_digest',
  },
  'check-keys': {
    load: () => import('./canary-check-keys.js'),
    summary: 'validate a /keys.json file: keyset_digest, canonical bytes',
  },
  'save-keys': {
    load: () => import('./canary-save-keys.js'),
    summary: 'attest a Canary node and pin its keys to a file',
  },
  verify: {
    load: () => import('./canary-verify.js'),
    summary: "attest a Canary node and verify its targets' current statements and evidence",
  },
  'verify-attempt': {
    load: () => import('./canary-verify-attempt.js'),
    summary: "verify one past attempt from a node's history",
  },
  watch: {
    load: () => import('./canary-watch.js'),
    summary: 'run a Canary-compatible monitor: probe targets, sign statements, serve the API',
  },
  'verify-history': {
    load: () => import('./canary-verify-history.js'),
    summary: 're-verify offline every statement and evidence bundle a monitor stored',
  },
  'add-target': {
    load: () => import('./canary-add-target.js'),
    summary: 'add a target to a canary.json (expected PCRs given, or captured on first use)',
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(CANARY_COMMANDS).map((c) => c.length));
  return [
    'usage: enclave-verify canary <command> [options]',
    '',
    'Verify Caution Canary artifacts (statements, evidence bundles, keys, configs) and live nodes.',
    '',
    'commands:',
    ...Object.entries(CANARY_COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `enclave-verify canary <command> --help` for its options. --json prints one object',
    '{ok, code, ...}. Exit codes: 0 valid, 1 invalid, 2 usage or input error.',
    '',
  ].join('\n');
}

/**
 * Run `canary`: dispatch to the sub-command.
 *
 * @example
 * ```ts
 * await run(['check-keys', 'canary-keys.json', '--json'], ctx);
 * ```
 */
export const run: Command = async (argv, ctx) => {
  const [name, ...rest] = argv;
  if (name?.startsWith('-')) {
    // Only --help comes before the sub-command; anything else is refused as parseArgs refuses it.
    parseFlags({ args: [name], options: { help: { type: 'boolean', short: 'h' } } }, (m) =>
      usageError('canary', m),
    );
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? ctx.stderr : ctx.stdout).write(usage());
    return name === undefined ? EXIT.USAGE : EXIT.VERIFIED;
  }
  const entry = Object.hasOwn(CANARY_COMMANDS, name) ? CANARY_COMMANDS[name] : undefined;
  if (!entry) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `unknown canary command '${name.slice(0, 40)}'; commands: ${Object.keys(CANARY_COMMANDS).join(', ')}`,
    );
  }
  return (await entry.load()).run(rest, ctx);
};
