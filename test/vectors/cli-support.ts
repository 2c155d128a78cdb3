// In-process runs of `enclave-verify vectors` through the CLI dispatcher, from the project root,
// with the process environment (plus `env`).
import { type CliRun, runCli } from '../support/cli.js';

export const PROJECT = new URL('../../', import.meta.url);

export function cli(argv: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return runCli(['vectors', ...argv], { cwd: PROJECT.pathname, env: { ...process.env, ...env } });
}
