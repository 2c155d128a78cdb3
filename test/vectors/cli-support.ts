// In-process runs of `enclave-verify vectors` with captured output (vite cannot follow the
// dispatcher's computed import, so the command module is called directly).
import { PassThrough, Writable } from 'node:stream';
import { run } from '../../src/cli/commands/vectors.js';
import type { CliContext } from '../../src/cli/context.js';

export const PROJECT = new URL('../../', import.meta.url);

export async function cli(argv: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const sink = (f: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        f(String(chunk));
        done();
      },
    });
  const ctx: CliContext = {
    stdout: sink((s) => {
      stdout += s;
    }),
    stderr: sink((s) => {
      stderr += s;
    }),
    stdin: new PassThrough(),
    env: { ...process.env, ...env },
    cwd: PROJECT.pathname,
  };
  const code = await run(argv, ctx);
  return { code, stdout, stderr };
}
