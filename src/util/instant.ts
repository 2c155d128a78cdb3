/**
 * One reading of a time typed by a person (`verify --at`, the web page's verification time, any
 * later command that takes one). A time without a zone would be read as the machine's local time
 * by `Date.parse` and as UTC elsewhere, so the verdict would depend on the TZ setting: a zone is
 * required, `Z` or an offset, and the calendar fields must exist (no Feb 31 rolling into March).
 */
import { EnclaveVerifyError } from '../errors.js';
import { calendarMs } from './calendar.js';

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

const EXAMPLE = '2025-12-23T17:20:16Z or 2025-12-23T18:20:16+01:00';

/**
 * The instant an ISO 8601 / RFC 3339 date-time names: `YYYY-MM-DDTHH:MM[:SS[.fff]]` followed by
 * `Z` or `+HH:MM` / `-HH:MM`. Anything else, a time without a zone in particular, is `ERR_USAGE`
 * naming `what`.
 *
 * @example
 * ```ts
 * parseInstant('2025-12-23T17:20:16Z', '--at').toISOString(); // '2025-12-23T17:20:16.000Z'
 * parseInstant('2025-12-23T17:20:16', '--at'); // throws ERR_USAGE: no time zone
 * ```
 */
export function parseInstant(text: string, what: string): Date {
  const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  const m = INSTANT.exec(text.trim());
  if (!m) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `${what} '${shown}' is not an ISO 8601 time with a time zone; write e.g. ${EXAMPLE}`,
    );
  }
  const [, y, mo, d, h, mi, s, frac, z, sign, oh, om] = m;
  if (z === undefined && sign === undefined) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `${what} '${shown}' has no time zone, so it would depend on this machine's TZ setting; add Z for UTC or an offset, e.g. ${EXAMPLE}`,
    );
  }
  const fields = [y, mo, d, h, mi, s ?? '0'].map(Number) as [number, number, number, number, number, number];
  const [year, month, day, hour, minute, second] = fields;
  const offsetMinutes = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const local = calendarMs(year, month, day, hour, minute, second);
  if (local === undefined || Number(oh ?? 0) > 23 || Number(om ?? 0) > 59) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `${what} '${shown}' is not a real date and time; write e.g. ${EXAMPLE}`,
    );
  }
  // Milliseconds from the fraction (digits past the third cannot be represented by a Date).
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  return new Date(local + ms - offsetMinutes * 60_000);
}
