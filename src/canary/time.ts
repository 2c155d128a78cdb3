/**
 * Canary's two timestamp rules. Statement times are read leniently, as chrono's relaxed RFC 3339
 * parser does (`+00:00` offsets, fractions, a space or `t` for `T`), and compared as instants
 * with nanosecond precision; an evidence bundle's `observed_at` must be exactly
 * `YYYY-MM-DDTHH:MM:SSZ`.
 */

const RELAXED =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function daysFromCivil(y: number, m: number, d: number): number {
  // Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar.
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

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
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return undefined;
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const seconds = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offsetMinutes * 60;
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
