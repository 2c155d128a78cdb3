/**
 * DER times, X.680 UTCTime (tag 0x17) and GeneralizedTime (tag 0x18), in the one form RFC 5280
 * allows (Zulu, with seconds, no fraction) and on a real calendar. Every reader of such a time
 * (certificates and CRLs in `trust/`, the EIF signing certificate in `measure/`) goes through
 * this one function, so none of them can believe Feb 31 or hour 24 while another refuses it.
 */
import { calendarMs } from './calendar.js';

/** A DER time: its fields as written, and the instant they name. */
export interface DerTime {
  tag: 0x17 | 0x18;
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Milliseconds since the epoch. */
  ms: number;
}

const UTC_TIME = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/;

/**
 * Read the content octets of a UTCTime (two-digit years: 50..99 are 1950..1999, 00..49 are
 * 2000..2049) or GeneralizedTime. Throws a `RangeError` saying what is wrong when the tag is
 * neither, the text is not in RFC 5280's form, or the date or time does not exist (month 13,
 * day 00, Feb 31, Feb 29 in a common year, 24:00:00, second 60). The RFC 5280 choice between the
 * two types by year is the caller's: a certificate reader enforces it, a display need not.
 *
 * @example
 * ```ts
 * readDerTime(0x17, new TextEncoder().encode('240229120000Z')).ms; // 1709208000000
 * readDerTime(0x17, new TextEncoder().encode('250231000000Z')); // throws RangeError
 * ```
 */
export function readDerTime(tag: number, content: Uint8Array): DerTime {
  if (tag !== 0x17 && tag !== 0x18) throw new RangeError(`a time has tag 0x${tag.toString(16)}`);
  const kind = tag === 0x17 ? 'UTCTime' : 'GeneralizedTime';
  // Digits and 'Z' only: anything else fails the pattern, so no decoder is needed.
  const text = content.length <= 15 ? String.fromCharCode(...content) : '';
  const m = (tag === 0x17 ? UTC_TIME : GENERALIZED_TIME).exec(text);
  if (!m) throw new RangeError(`bad ${kind}`);
  const [y, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const year = tag === 0x18 ? y : y >= 50 ? 1900 + y : 2000 + y;
  const ms = calendarMs(year, month, day, hour, minute, second);
  if (ms === undefined) throw new RangeError(`${kind} ${text} is not a real calendar date and time`);
  return { tag, year, month, day, hour, minute, second, ms };
}
