// In-process runs of `enclave-verify verify|inspect` with captured output, handling errors as
// src/cli/main.ts does (its variable dynamic import only resolves in the compiled CLI).
import { PassThrough, Writable } from 'node:stream';
import { run as inspect } from '../../src/cli/commands/inspect.js';
import { run as verify } from '../../src/cli/commands/verify.js';
import { type CliContext, reportError } from '../../src/cli/context.js';

const COMMANDS = { verify, inspect } as const;

export const NITRO = new URL('../../../shared/vectors/nitro/', import.meta.url);
export const CAUTION = new URL('../../../shared/vectors/caution/', import.meta.url);

export async function cli(argv: string[], options: { cwd?: string; stdin?: string | Uint8Array } = {}) {
  let stdout = '';
  let stderr = '';
  const sink = (f: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        f(String(chunk));
        done();
      },
    });
  const stdin = new PassThrough();
  stdin.end(options.stdin ?? '');
  const ctx: CliContext = {
    stdout: sink((s) => {
      stdout += s;
    }),
    stderr: sink((s) => {
      stderr += s;
    }),
    stdin,
    env: {},
    cwd: options.cwd ?? new URL('.', NITRO).pathname,
  };
  const [name, ...rest] = argv;
  let code: number;
  try {
    code = await COMMANDS[name as keyof typeof COMMANDS](rest, ctx);
  } catch (error) {
    code = reportError(ctx, error, rest.includes('--json'));
  }
  return { code, stdout, stderr };
}
