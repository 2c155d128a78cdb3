/**
 * What a CLI command may touch: its arguments and streams. Commands receive this instead of
 * reaching for `process` so tests can run them in-process and capture their output.
 */
import { EnclaveVerifyError } from '../errors.js';
import { printable, terminalSafe } from '../util/terminal-text.js';

/** Streams and environment of one CLI invocation. */
export interface CliContext {
  /** Machine output (the `--json` object, reports). */
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  /** Human diagnostics, progress bars. */
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Standard input, for `-` file arguments. */
  stdin: NodeJS.ReadableStream;
  /** Environment variables. */
  env: Record<string, string | undefined>;
  /** Working directory that relative paths resolve against. */
  cwd: string;
}

/** A command takes its arguments (after the command name) and returns the process exit code. */
export type Command = (argv: string[], ctx: CliContext) => Promise<number>;

/** Exit codes fixed by the CLI contract. */
export const EXIT = { VERIFIED: 0, REJECTED: 1, USAGE: 2 } as const;

/**
 * Exit code for an error: 2 when the user gave unusable input (usage, files, encodings,
 * expected-PCR files), 1 when evidence was examined and rejected.
 *
 * @example
 * ```ts
 * exitCodeFor(new EnclaveVerifyError('ERR_USAGE', 'x')); // 2
 * exitCodeFor(new EnclaveVerifyError('ERR_PCR_MISMATCH', 'x')); // 1
 * ```
 */
export function exitCodeFor(error: unknown): number {
  if (!(error instanceof EnclaveVerifyError)) return EXIT.USAGE;
  switch (error.code) {
    case 'ERR_USAGE':
    case 'ERR_IO':
    case 'ERR_INPUT_FORMAT':
    case 'ERR_EXPECTED_PCRS_FORMAT':
      return EXIT.USAGE;
    default:
      return EXIT.REJECTED;
  }
}

/**
 * Print an error without a stack trace: `enclave-verify: ERR_CODE: message` on stderr, or with
 * `json`, one `{ ok: false, code, class, message }` object on stdout. Returns the exit code.
 *
 * @example
 * ```ts
 * return reportError(ctx, err, flags.json);
 * ```
 */
export function reportError(ctx: CliContext, error: unknown, json: boolean): number {
  const e =
    error instanceof EnclaveVerifyError
      ? error
      : new EnclaveVerifyError(
          'ERR_IO',
          `unexpected failure: ${(error as Error)?.message ?? String(error)}`,
          {
            cause: error,
          },
        );
  if (json) ctx.stdout.write(`${JSON.stringify({ ok: false, ...e.toJSON() })}\n`);
  // Messages quote archive names and document fields: no control characters to the terminal.
  else ctx.stderr.write(`enclave-verify: ${e.code}: ${printable(e.message)}\n`);
  if (!(error instanceof EnclaveVerifyError) && ctx.env.ENCLAVE_VERIFY_DEBUG) {
    ctx.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
  }
  return exitCodeFor(e);
}

type OutputStream = CliContext['stdout'];

/** Wrapped stream -> the stream it writes to, for the few writers that draw on a TTY themselves. */
const UNDERLYING = new WeakMap<OutputStream, OutputStream>();

function neutralising(stream: OutputStream): OutputStream {
  if (UNDERLYING.has(stream)) return stream;
  const clean = (chunk: unknown): unknown => (typeof chunk === 'string' ? terminalSafe(chunk) : chunk);
  const wrapped = new Proxy(stream, {
    get(target, prop) {
      if (prop === 'write')
        return (chunk: unknown, ...rest: unknown[]) =>
          (target.write as (...a: unknown[]) => boolean)(clean(chunk), ...rest);
      if (prop === 'end')
        return (chunk?: unknown, ...rest: unknown[]) =>
          (target.end as (...a: unknown[]) => unknown)(
            typeof chunk === 'function' ? chunk : clean(chunk),
            ...rest,
          );
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  UNDERLYING.set(wrapped, stream);
  return wrapped;
}

/**
 * The same context with stdout and stderr passing every text chunk through `terminalSafe`, so no
 * command (today's or one added later) can put a control character from a document, an endpoint,
 * an archive or a file name on the user's terminal, whatever its renderer forgot. Line feeds are
 * kept; JSON keeps its values (DEL and C1 become `\u00XX` escapes). Binary chunks pass unchanged.
 *
 * @example
 * ```ts
 * const code = await command.run(argv, neutralisingContext(ctx));
 * ```
 */
export function neutralisingContext(ctx: CliContext): CliContext {
  return { ...ctx, stdout: neutralising(ctx.stdout), stderr: neutralising(ctx.stderr) };
}

/**
 * The stream under a neutralised one, for the progress bar only: it draws with `\r` and
 * `ESC [2K` on a TTY, and writes nothing that came from an input.
 *
 * @example
 * ```ts
 * const bar = progressBar(unneutralised(ctx.stderr), 'measuring');
 * ```
 */
export function unneutralised(stream: OutputStream): OutputStream {
  return UNDERLYING.get(stream) ?? stream;
}
