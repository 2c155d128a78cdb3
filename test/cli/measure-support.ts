// In-process runs of the measure / pcr / build-eif commands with captured output.
import type { Command } from '../../src/cli/context.js';
import { type CliRun, captureContext } from '../support/cli.js';

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

/** Call one command module directly (not through the dispatcher) with captured output. */
export async function runCommand(run: Command, argv: string[], cwd: string, tty = false): Promise<CliRun> {
  const { ctx, out } = captureContext({ cwd, tty });
  const code = await run(argv, ctx);
  return { code, ...out };
}
