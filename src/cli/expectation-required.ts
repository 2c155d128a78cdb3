/**
 * Secure default of `verify` and `deployment` (issue 16): a check without any expected PCRs only
 * proves that the document is genuine, not which code runs, so a script such as
 * `enclave-verify deployment https://x && send-secrets` would trust any enclave on any AWS
 * account. The CLI therefore refuses to run without an expectation unless the user says, with
 * `--any-pcrs`, that genuineness alone is what they want. The library keeps its API (callers pass
 * `expectedPcrs` or not); this rule is the command line's.
 */
import { EnclaveVerifyError } from '../errors.js';

/**
 * The flags that state an expectation, per command, in the order the message names them. A new
 * expectation source (e.g. a canary statement flag) is added here, and counts at once.
 */
export const EXPECTATION_FLAGS = {
  verify: ['--pcr', '--expect-pcrs', '--eif', '--kernel', '--rebuild'],
  deployment: ['--pcr', '--expect-pcrs', '--eif', '--rebuild'],
} as const satisfies Record<string, readonly string[]>;

/** What the report says when `--any-pcrs` was chosen. */
export const ANY_PCRS_TEXT = '--any-pcrs: no PCRs expected; only genuineness is checked, NOT which code runs';

/**
 * Throw `ERR_USAGE` unless exactly one of "an expectation flag was given" and `--any-pcrs` holds.
 * `values` are the parsed flags, keyed without dashes (as node:util parseArgs gives them).
 *
 * @example
 * ```ts
 * requireExpectation('verify', { pcr: ['0=ab...'] }); // passes
 * requireExpectation('verify', {}); // throws ERR_USAGE naming --pcr ... and --any-pcrs
 * ```
 */
export function requireExpectation(
  command: keyof typeof EXPECTATION_FLAGS,
  values: Record<string, unknown>,
): void {
  const flags = EXPECTATION_FLAGS[command];
  const set = (name: string) => {
    const v = values[name];
    return v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0);
  };
  // Measuring from parts takes three flags; any of them means the user meant to give one, and
  // the parts reader names what is missing.
  const given = flags.filter((f) =>
    f === '--kernel' ? set('kernel') || set('cmdline') || set('ramdisk') : set(f.slice(2)),
  );
  const anyPcrs = values['any-pcrs'] === true;
  if (given.length > 0 && anyPcrs) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `--any-pcrs says no PCRs are expected, but ${given.join(', ')} ${given.length === 1 ? 'gives' : 'give'} expected PCRs: drop one of them; see \`enclave-verify ${command} --help\``,
    );
  }
  if (given.length === 0 && !anyPcrs) {
    const names = flags.map((f) => (f === '--kernel' ? '--kernel/--cmdline/--ramdisk' : f));
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `no expected PCRs given: without them ${command} proves only that the document is genuine, not which code runs. Say what you expect with ${names.join(', ')}, or pass --any-pcrs to check genuineness only; see \`enclave-verify ${command} --help\``,
    );
  }
}
