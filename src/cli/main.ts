/**
 * Entry point of the `enclave-verify` command: dispatches to one module per sub-command,
 * loaded on demand so that `verify` never pays for the rebuild or web code.
 */

import { printable } from '../util/terminal-text.js';
import type { CliContext, Command } from './context.js';
import { EXIT, neutralisingContext, reportError } from './context.js';

/**
 * Sub-commands, a loader for their module under `./commands/`, and a one-line summary for
 * `--help`. Each loader is a literal `import()` so bundlers and vitest can resolve it.
 */
const COMMANDS: Record<string, { load: () => Promise<{ run: Command }>; summary: string }> = {
  verify: {
    load: () => import('./commands/verify.js'),
    summary: 'verify an attestation document (chain, signature, PCRs, nonce...)',
  },
  inspect: {
    load: () => import('./commands/inspect.js'),
    summary: 'decode an attestation document WITHOUT verifying it',
  },
  measure: {
    load: () => import('./commands/measure.js'),
    summary: 'compute PCR0/1/2/8 of an EIF or of its parts',
  },
  pcr: { load: () => import('./commands/pcr.js'), summary: 'compute one PCR value as nitro-cli pcr does' },
  'build-eif': {
    load: () => import('./commands/build-eif.js'),
    summary: 'write an EIF byte-identical to eif_build',
  },
  rebuild: {
    load: () => import('./commands/rebuild.js'),
    summary: 'rebuild an enclave ramdisk and EIF from its sources',
  },
  ramdisk: {
    load: () => import('./commands/ramdisk.js'),
    summary: 'list, extract and compare ramdisk archives',
  },
  deployment: {
    load: () => import('./commands/deployment.js'),
    summary: 'verify a running enclave through its attestation endpoint',
  },
  demo: {
    load: () => import('./commands/demo.js'),
    summary: 'run a simulated enclave on loopback and verify it',
  },
  ui: { load: () => import('./commands/ui.js'), summary: 'serve the verifier web page on loopback' },
  vectors: { load: () => import('./commands/vectors.js'), summary: 'run a conformance vector suite' },
  canary: {
    load: () => import('./commands/canary.js'),
    summary: 'verify Caution Canary statements, evidence, keys, configs and live nodes',
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'usage: enclave-verify <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'Run `enclave-verify <command> --help` (or `enclave-verify help <command>`) for the options of one command.',
    'Exit codes: 0 verified, 1 rejected, 2 usage or input error.',
    '',
  ].join('\n');
}

/**
 * Run the CLI with `argv` (without `node` and the script path) and return the exit code.
 *
 * @example
 * ```ts
 * const code = await main(['verify', 'doc.cbor', '--at', 'document'], nodeContext());
 * ```
 */
export async function main(argv: string[], context: CliContext): Promise<number> {
  // Every byte of text any command prints goes through one neutralising function.
  const ctx = neutralisingContext(context);
  // `enclave-verify help verify` is `enclave-verify verify --help`.
  if (argv[0] === 'help' && argv[1] !== undefined && Object.hasOwn(COMMANDS, argv[1])) {
    return main([argv[1], '--help'], ctx);
  }
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? ctx.stderr : ctx.stdout).write(usage());
    return name === undefined ? EXIT.USAGE : EXIT.VERIFIED;
  }
  if (name === '--version') {
    ctx.stdout.write('enclave-verify 0.1.0\n');
    return EXIT.VERIFIED;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) {
    ctx.stderr.write(`enclave-verify: unknown command '${printable(name)}'\n\n${usage()}`);
    return EXIT.USAGE;
  }
  try {
    const mod = await entry.load();
    return await mod.run(rest, ctx);
  } catch (error) {
    return reportError(ctx, error, rest.includes('--json'));
  }
}

/** The context of the real process. @example await main(process.argv.slice(2), nodeContext()) */
export function nodeContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
}
