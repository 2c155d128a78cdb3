// Runs the CLI in-process through src/cli/main.ts with captured streams, so tests exercise the
// same dispatch, error printing and exit codes as the installed binary.
import { PassThrough, Writable } from 'node:stream';
import type { CliContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';

/**
 * Every sub-command a user can type, written out here rather than read from src/cli/main.ts so
 * that the dispatch and help tests notice a command that goes missing.
 */
export const COMMANDS = [
  'verify',
  'inspect',
  'measure',
  'pcr',
  'build-eif',
  'rebuild',
  'ramdisk',
  'deployment',
  'demo',
  'ui',
  'vectors',
  'canary',
] as const;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** What a captured run may set: working directory, standard input, TTY-ness of the sinks, environment. */
export interface CaptureOptions {
  cwd?: string;
  stdin?: string | Uint8Array;
  tty?: boolean;
  env?: Record<string, string | undefined>;
}

/** A context whose stdout/stderr are collected into strings (readable while the command runs). */
export function captureContext(options: CaptureOptions = {}) {
  const out = { stdout: '', stderr: '' };
  const sink = (key: 'stdout' | 'stderr') =>
    Object.assign(
      new Writable({
        write(chunk, _enc, done) {
          out[key] += String(chunk);
          done();
        },
      }),
      { isTTY: options.tty ?? false },
    );
  const stdin = new PassThrough();
  stdin.end(options.stdin ?? '');
  const ctx: CliContext = {
    stdout: sink('stdout'),
    stderr: sink('stderr'),
    stdin,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
  };
  return { ctx, out };
}

/** `enclave-verify ...argv` in-process. */
export async function runCli(argv: string[], options: CaptureOptions = {}): Promise<CliRun> {
  const { ctx, out } = captureContext(options);
  const code = await main(argv, ctx);
  return { code, ...out };
}

/** The control characters (C0 but newline, DEL, C1) in `text`, as code points (for terminal-safety checks). */
export function controlCharacters(text: string): number[] {
  return [...text]
    .map((c) => c.codePointAt(0) ?? 0)
    .filter((n) => (n < 0x20 && n !== 0x0a) || (n >= 0x7f && n < 0xa0));
}
