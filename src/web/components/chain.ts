/**
 * The certificate chain drawn as validity bars on one time axis centred on the verification time.
 *
 * Nitro lifetimes range from 3 hours (leaf) to 30 years (root), so a linear axis would squash the
 * leaf into a pixel. The axis is symmetric-logarithmic in the distance from the verification
 * time: hours, days and years each get room, and "does this bar cross the red line" stays the
 * question that matters. The same facts are written out in text for screen readers.
 */
import { h } from '../dom.js';

/** One certificate to draw. */
export interface ChainCert {
  /** Role in the chain, e.g. "AWS root", "intermediate 1", "signing certificate". */
  role: string;
  /** Subject, shortest readable form (CN or the full DN). */
  subject: string;
  notBefore: Date;
  notAfter: Date;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365.25 * DAY;
/** Half-width of the axis: log10(1 + 40 years / 1 minute), so every real chain fits. */
const HALF_RANGE = Math.log10(1 + (40 * YEAR) / MINUTE);

/**
 * Position (0..100 %) of `t` on the axis centred on `at`.
 *
 * @example
 * ```ts
 * axisPercent(at, at); // 50
 * ```
 */
export function axisPercent(t: Date, at: Date): number {
  const d = t.getTime() - at.getTime();
  const x = Math.sign(d) * Math.log10(1 + Math.abs(d) / MINUTE);
  return Math.min(100, Math.max(0, 50 + (50 * x) / HALF_RANGE));
}

/** Axis ticks; minor ones are hidden on narrow screens where their labels would collide. */
const TICKS: [number, string, boolean][] = [
  [-10 * YEAR, '−10 y', true],
  [-YEAR, '−1 y', false],
  [-30 * DAY, '−30 d', true],
  [-DAY, '−1 d', false],
  [-HOUR, '−1 h', false],
  [HOUR, '+1 h', false],
  [DAY, '+1 d', false],
  [30 * DAY, '+30 d', true],
  [YEAR, '+1 y', false],
  [10 * YEAR, '+10 y', true],
];

/**
 * Format a date as `YYYY-MM-DD HH:MM:SS UTC`, the form used across the page.
 *
 * @example
 * ```ts
 * utcText(new Date(0)); // '1970-01-01 00:00:00 UTC'
 * ```
 */
export function utcText(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * Render the chain (root first, signing certificate last) against the verification time.
 *
 * @example
 * ```ts
 * report.append(renderChain(certs, new Date(doc.timestamp), 'the document timestamp'));
 * ```
 */
export function renderChain(certs: readonly ChainCert[], at: Date, atLabel: string): HTMLElement {
  const place = (el: HTMLElement, left: number, width?: number) => {
    el.style.left = `${left}%`;
    if (width !== undefined) el.style.width = `${width}%`;
    return el;
  };
  const rows = certs.map((cert, i) => {
    const covers = cert.notBefore.getTime() <= at.getTime() && at.getTime() <= cert.notAfter.getTime();
    const from = axisPercent(cert.notBefore, at);
    const to = axisPercent(cert.notAfter, at);
    return h(
      'li',
      { class: 'chain-row', 'data-covers': covers ? 'yes' : 'no', 'data-index': i },
      h(
        'div',
        { class: 'cert-text' },
        h('strong', {}, cert.role),
        ': ',
        cert.subject,
        h('br'),
        h('span', { class: 'hint' }, `valid ${utcText(cert.notBefore)} → ${utcText(cert.notAfter)} `),
        h(
          'span',
          { class: `badge ${covers ? 'badge-ok' : 'badge-bad'}` },
          covers ? 'valid at the verification time' : 'NOT valid at the verification time',
        ),
      ),
      h(
        'div',
        { class: 'track', 'aria-hidden': 'true' },
        place(h('div', { class: `bar ${covers ? 'ok' : 'bad'}` }), from, Math.max(0, to - from)),
        place(h('div', { class: 'at-line' }), 50),
      ),
    );
  });
  const axis = h(
    'div',
    { class: 'axis', 'aria-hidden': 'true' },
    TICKS.map(([offset, label, minor]) =>
      place(
        h('span', { class: minor ? 'tick minor' : 'tick' }, label),
        axisPercent(new Date(at.getTime() + offset), at),
      ),
    ),
    place(h('div', { class: 'at-line' }), 50),
    place(h('span', { class: 'at-label' }, 'verification time'), 50),
  );
  return h(
    'section',
    { class: 'chain', 'aria-labelledby': 'chain-heading' },
    h('h3', { id: 'chain-heading' }, 'Certificate chain'),
    h(
      'p',
      { class: 'hint' },
      `Checked at ${utcText(at)} (${atLabel}). Bars show each certificate's validity on a logarithmic axis around that time; the red line is the verification time.`,
    ),
    h('ol', { class: 'chain-rows', id: 'chain-list' }, rows),
    axis,
  );
}
