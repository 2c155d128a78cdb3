// In-process runs of the measure / pcr / build-eif commands with captured output.
import type { Command } from '../../src/cli/context.js';
import { type CliRun, captureContext } from '../support/cli.js';

export { OFFICIAL, OFFICIAL_CASES, type OfficialCase as Case } from '../support/official-eif.js';

/** Call one command module directly (not through the dispatcher) with captured output. */
export async function runCommand(run: Command, argv: string[], cwd: string, tty = false): Promise<CliRun> {
  const { ctx, out } = captureContext({ cwd, tty });
  const code = await run(argv, ctx);
  return { code, ...out };
}
