/**
 * Calendar fields to an instant, refusing what no calendar has. `Date.UTC` quietly rolls Feb 31
 * into March 3 and hour 24 into the next day, so a time written by someone else (a certificate,
 * a CRL, a person at the command line) must be checked field by field before it is believed.
 */

/**
 * Days in `month` (1..12) of `year` in the proleptic Gregorian calendar; 0 for a month that
 * does not exist.
 *
 * @example
 * ```ts
 * daysInMonth(2024, 2); // 29
 * daysInMonth(2023, 2); // 28
 * ```
 */
export function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
}

/**
 * Milliseconds since the epoch of a UTC date and time given as integers, or undefined when the
 * fields name no real instant: month outside 1..12, a day the month lacks (Feb 29 outside leap
 * years), hour past 23, minute or second past 59 (leap seconds are not written by the formats
 * read here). Years 0..99 are years 0..99, not 1900..1999 as `Date.UTC` would read them.
 *
 * @example
 * ```ts
 * calendarMs(2024, 2, 29, 12, 0, 0); // 1709208000000
 * calendarMs(2025, 2, 31, 0, 0, 0); // undefined
 * ```
 */
export function calendarMs(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined {
  const fields = [year, month, day, hour, minute, second];
  if (!fields.every(Number.isInteger) || fields.some((f) => f < 0)) return undefined;
  if (day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const at = new Date(0);
  at.setUTCFullYear(year, month - 1, day);
  at.setUTCHours(hour, minute, second, 0);
  return at.getTime();
}
