/**
 * Entry point of the `enclave-verify` command: dispatches to one module per sub-command,
 * loaded on demand so that `verify` never pays for the rebuild or web code.
 */
import type { CliContext, Command } from './context.js';
import { EXIT, reportError } from './context.js';

/** Sub-commands, their module under `./commands/`, and a one-line summary for `--help`. */
const COMMANDS: Record<string, { module: string; summary: string }> = {
  verify: { module: 'verify', summary: 'verify an attestation document (chain, signature, PCRs, nonce...)' },
  inspect: { module: 'inspect', summary: 'decode an attestation document WITHOUT verifying it' },
  measure: { module: 'measure', summary: 'compute PCR0/1/2/8 of an EIF or of its parts' },
  pcr: { module: 'pcr', summary: 'compute one PCR value as nitro-cli pcr does' },
  'build-eif': { module: 'build-eif', summary: 'write an EIF byte-identical to eif_build' },
  rebuild: { module: 'rebuild', summary: 'rebuild an enclave ramdisk and EIF from its sources' },
  ramdisk: { module: 'ramdisk', summary: 'list, extract and compare ramdisk archives' },
  deployment: { module: 'deployment', summary: 'verify a running enclave through its attestation endpoint' },
  demo: { module: 'demo', summary: 'run a simulated enclave on loopback and verify it' },
  ui: { module: 'ui', summary: 'serve the verifier web page on loopback' },
  vectors: { module: 'vectors', summary: 'run a conformance vector suite' },
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
    'Run `enclave-verify <command> --help` for the options of one command.',
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
export async function main(argv: string[], ctx: CliContext): Promise<number> {
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
    ctx.stderr.write(`enclave-verify: unknown command '${name}'\n\n${usage()}`);
    return EXIT.USAGE;
  }
  try {
    const mod = (await import(`./commands/${entry.module}.js`)) as { run: Command };
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
