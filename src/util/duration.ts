/**
 * Bounds of durations given in milliseconds. Timers (`setTimeout`) hold a signed 32-bit count:
 * past 2^31-1 ms (about 24.8 days) Node fires them after 1 ms instead, so `--timeout 25d` would
 * time out at once and `--watch 25d` would probe back to back. Every duration option and flag is
 * therefore checked against one bound, whether it drives a timer or not, so the rule is the same
 * everywhere.
 */
import { EnclaveVerifyError } from '../errors.js';

/** The longest duration accepted anywhere: 2^31-1 ms, the largest delay `setTimeout` keeps. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** `MAX_DURATION_MS` in words, for messages. */
export const MAX_DURATION_TEXT = '2147483647 ms (24d 20h 31m 23.647s)';

/**
 * Check a duration option of the library: a number of milliseconds from 0 (or from just above 0
 * when `positive`) to {@link MAX_DURATION_MS} for a timer, unbounded above when `timer: false`
 * (a limit that is only compared); anything else (NaN, negative, too long) is `ERR_USAGE`.
 *
 * @example
 * ```ts
 * checkDurationMs('timeoutMs', options.timeoutMs ?? 30_000, { positive: true });
 * ```
 */
export function checkDurationMs(
  name: string,
  value: number,
  options: { positive?: boolean; timer?: boolean } = {},
): number {
  const low = options.positive ? value > 0 : value >= 0;
  // Only a timer overflows: a limit that is merely compared (maxAgeMs, clockSkewMs) may be as
  // large as the caller likes (Canary's replay turns the future check off with a huge skew).
  const max = options.timer === false ? Number.POSITIVE_INFINITY : MAX_DURATION_MS;
  if (typeof value !== 'number' || !low || !(value <= max)) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `${name} is ${String(value)}: give a ${options.positive ? 'positive' : 'non-negative'} number of milliseconds${max === MAX_DURATION_MS ? `, at most ${MAX_DURATION_TEXT}` : ''}`,
      { details: { option: name, value: String(value), max } },
    );
  }
  return value;
}
