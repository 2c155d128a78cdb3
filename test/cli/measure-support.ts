// In-process runs of the measure / pcr / build-eif commands with captured output.
import { PassThrough, Writable } from 'node:stream';
import type { CliContext, Command } from '../../src/cli/context.js';

export const OFFICIAL = new URL('../../../shared/vectors/eif/official/', import.meta.url);

export interface Case {
  case: string;
  command: string;
  cmdline: string;
  kernel: string;
  ramdisks: string[];
  eif: string;
  eif_sha256: string;
  pcrs: Record<string, string>;
}

export async function runCommand(run: Command, argv: string[], cwd: string, tty = false) {
  let stdout = '';
  let stderr = '';
  const sink = (f: (s: string) => void) =>
    Object.assign(
      new Writable({
        write(chunk, _enc, done) {
          f(String(chunk));
          done();
        },
      }),
      { isTTY: tty },
    );
  const ctx: CliContext = {
    stdout: sink((s) => {
      stdout += s;
    }),
    stderr: sink((s) => {
      stderr += s;
    }),
    stdin: new PassThrough(),
    env: {},
    cwd,
  };
  const code = await run(argv, ctx);
  return { code, stdout, stderr };
}
