/**
 * Canary's two timestamp rules. Statement times are read leniently, as chrono's relaxed RFC 3339
 * parser does (`+00:00` offsets, fractions, a space or `t` for `T`), and compared as instants
 * with nanosecond precision; an evidence bundle's `observed_at` must be exactly
 * `YYYY-MM-DDTHH:MM:SSZ`.
 */

import { calendarMs } from '../util/calendar.js';

const RELAXED =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Nanoseconds since the Unix epoch of an RFC 3339 time read leniently, or undefined when it is
 * not one (bad calendar dates and offsets beyond 23:59 included).
 *
 * @example
 * ```ts
 * parseRfc3339Nanos('2026-07-17T12:00:00Z') === parseRfc3339Nanos('2026-07-17 14:00:00.000+02:00'); // true
 * ```
 */
export function parseRfc3339Nanos(text: string): bigint | undefined {
  const m = RELAXED.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // The one calendar rule of the project (util/calendar.ts): no Feb 31, no hour 24.
  const localMs = calendarMs(y, mo, d, h, mi, s);
  if (localMs === undefined) return undefined;
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const seconds = localMs / 1000 - offsetMinutes * 60;
  const frac = BigInt((m[7] ?? '').padEnd(9, '0'));
  return BigInt(seconds) * 1_000_000_000n + frac;
}

/**
 * Nanoseconds since the epoch of a `Date`.
 *
 * @example
 * ```ts
 * dateToNanos(new Date(0)); // 0n
 * ```
 */
export function dateToNanos(date: Date): bigint {
  return BigInt(date.getTime()) * 1_000_000n;
}

/**
 * The `Date` (millisecond precision, rounded down) of an instant in nanoseconds.
 *
 * @example
 * ```ts
 * nanosToDate(1_500_000n).toISOString(); // '1970-01-01T00:00:00.001Z'
 * ```
 */
export function nanosToDate(nanos: bigint): Date {
  const ms = nanos / 1_000_000n - (nanos < 0n && nanos % 1_000_000n !== 0n ? 1n : 0n);
  return new Date(Number(ms));
}

/**
 * `YYYY-MM-DDTHH:MM:SSZ` of a time (fractions dropped): the only form an evidence
 * bundle's `observed_at` may take.
 *
 * @example
 * ```ts
 * canonicalSecondTime(new Date('2025-12-23T17:20:16.789Z')); // '2025-12-23T17:20:16Z'
 * ```
 */
export function canonicalSecondTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/**
 * The `Date` of an evidence `observed_at` if it is exactly in canonical form, else undefined.
 *
 * @example
 * ```ts
 * parseCanonicalSecondTime('2025-12-23T17:20:16Z'); // Date
 * parseCanonicalSecondTime('2025-12-23T17:20:16.000Z'); // undefined
 * ```
 */
export function parseCanonicalSecondTime(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text)) return undefined;
  const nanos = parseRfc3339Nanos(text);
  if (nanos === undefined) return undefined;
  const date = nanosToDate(nanos);
  return canonicalSecondTime(date) === text ? date : undefined;
}
