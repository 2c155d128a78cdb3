/**
 * A minimal strict DER reader: just enough to walk X.509 certificates without building objects for
 * parts the checks never look at. Definite, minimally encoded lengths only; single-byte tags only
 * (every tag an X.509 certificate uses fits in one byte).
 */

import { type DerTime, readDerTime } from '../util/der-time.js';

/** One DER element: its tag and where its header and content lie in the buffer. */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  content: number;
  /** Offset just past the content. */
  end: number;
}

/**
 * Thrown by the reader; the certificate parser turns it into a coded error.
 *
 * @example
 * ```ts
 * try { readTlv(buf, 0, buf.length); } catch (e) { if (e instanceof DerError) console.log(e.message); }
 * ```
 */
export class DerError extends Error {}

/**
 * Read the element starting at `pos`, which must end at or before `limit`.
 *
 * @example
 * ```ts
 * const seq = readTlv(der, 0, der.length); // the outer SEQUENCE of a certificate
 * ```
 */
export function readTlv(buf: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new DerError('truncated element');
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  let len = buf[pos + 1]!;
  let content = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError('indefinite length is not DER');
    if (n > 3) throw new DerError('length too large');
    if (content + n > limit) throw new DerError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[content + i]!;
    if (buf[content] === 0 || len < 0x80) throw new DerError('length not minimally encoded');
    content += n;
  }
  const end = content + len;
  if (end > limit) throw new DerError('element runs past its container');
  return { tag, start: pos, content, end };
}

/**
 * Read an element and require its tag.
 *
 * @example
 * ```ts
 * const tbs = expectTlv(der, cert.content, cert.end, 0x30);
 * ```
 */
export function expectTlv(buf: Uint8Array, pos: number, limit: number, tag: number, what = 'element'): Tlv {
  const t = readTlv(buf, pos, limit);
  if (t.tag !== tag) {
    throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  }
  return t;
}

/**
 * Children of a constructed element, in order (requires that they exactly fill it).
 *
 * @example
 * ```ts
 * const [tbs, alg, sig] = children(der, readTlv(der, 0, der.length));
 * ```
 */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = parent.content;
  while (p < parent.end) {
    const t = readTlv(buf, p, parent.end);
    out.push(t);
    p = t.end;
  }
  return out;
}

/**
 * Content bytes of an element (a view, not a copy).
 *
 * @example
 * ```ts
 * const oid = contentOf(der, tlv);
 * ```
 */
export function contentOf(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.content, t.end);
}

/**
 * Dotted text of an OBJECT IDENTIFIER's content bytes, for display and lookup.
 *
 * @example
 * ```ts
 * oidToString(new Uint8Array([0x55, 0x04, 0x03])); // '2.5.4.3'
 * ```
 */
export function oidToString(bytes: Uint8Array): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < bytes.length; i++) {
    v = v * 128 + (bytes[i]! & 0x7f);
    if ((bytes[i]! & 0x80) === 0) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/**
 * A child that must be there with the given tag; `what` names it in the error.
 *
 * @example
 * ```ts
 * const tbs = need(children(der, cert)[0], 0x30, 'tbsCertificate');
 * ```
 */
export function need(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t) throw new DerError(`${what} is missing`);
  if (t.tag !== tag) throw new DerError(`${what} has tag 0x${t.tag.toString(16)}`);
  return t;
}

/**
 * Reads a certificate or CRL time: a UTCTime or GeneralizedTime in the one form RFC 5280 allows
 * (Zulu, with seconds, no fraction), on a real calendar (no Feb 31, no 24:00:00: `Date.UTC`
 * would roll those over into another day), and of the type RFC 5280 prescribes for its year
 * (sections 4.1.2.5 and 5.1.2.4: UTCTime through 2049, GeneralizedTime from 2050). Throws
 * `DerError`, which each parser turns into its own code; `wrongTag` is the message for any
 * other tag.
 *
 * @example
 * ```ts
 * const notBeforeMs = readTime(der, t, 'validity time has a wrong tag');
 * ```
 */
export function readTime(der: Uint8Array, t: Tlv, wrongTag: string): number {
  if (t.tag !== 0x17 && t.tag !== 0x18) throw new DerError(wrongTag);
  let time: DerTime;
  try {
    time = readDerTime(t.tag, contentOf(der, t));
  } catch (e) {
    throw new DerError((e as Error).message);
  }
  if (time.tag === 0x18 && time.year < 2050)
    throw new DerError('GeneralizedTime before 2050 (RFC 5280 requires UTCTime)');
  return time.ms;
}
