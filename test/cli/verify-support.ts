// In-process runs of `enclave-verify verify|inspect` through the CLI dispatcher, run from the
// Nitro vector folder unless told otherwise.
import { type CliRun, runCli } from '../support/cli.js';

export const NITRO = new URL('../../vectors/real/nitro/', import.meta.url);
export const CAUTION = new URL('../../vectors/real/caution/', import.meta.url);

export function cli(
  argv: string[],
  options: { cwd?: string; stdin?: string | Uint8Array } = {},
): Promise<CliRun> {
  return runCli(argv, { ...options, cwd: options.cwd ?? new URL('.', NITRO).pathname });
}
