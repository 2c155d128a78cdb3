/**
 * The document's free-form fields (user data, public key, nonce) and freshness, decoded for
 * people. user_data is attacker-chosen bytes: shown as text only when it is clean UTF-8, always
 * with its hex, and never interpreted as markup.
 */
import { h } from '../dom.js';
import { utcText } from './chain.js';

/**
 * A duration (sign ignored) at a readable scale.
 *
 * @example
 * ```ts
 * durationText(3 * 3_600_000 + 12 * 60_000); // '3 h 12 min'
 * ```
 */
export function durationText(ms: number): string {
  const abs = Math.abs(ms);
  const s = Math.round(abs / 1000);
  if (s < 90) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 90) return `${min} min`;
  const hours = Math.floor(min / 60);
  if (hours < 48) return `${hours} h ${min % 60} min`;
  return `${Math.floor(hours / 24)} days`;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Text of `bytes` when it is printable UTF-8 (tabs and newlines allowed), else undefined.
 *
 * @example
 * ```ts
 * printableText(new TextEncoder().encode('hello')); // 'hello'
 * ```
 */
export function printableText(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return undefined;
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return undefined;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
}

/**
 * A field's value: absent, empty, text (pretty-printed when JSON) plus hex.
 *
 * @example
 * ```ts
 * dd.append(renderBytes(doc.userData, toHex));
 * ```
 */
export function renderBytes(bytes: Uint8Array | undefined, toHex: (b: Uint8Array) => string): Node {
  if (bytes === undefined) return h('span', { class: 'hint' }, 'absent');
  if (bytes.length === 0) return h('span', { class: 'hint' }, 'present but empty (0 bytes)');
  const text = printableText(bytes);
  let shown: string | undefined = text;
  if (text !== undefined) {
    try {
      // Pretty-print, but keep arrays of numbers (keys as byte lists) on one line.
      shown = JSON.stringify(JSON.parse(text), null, 2).replace(
        /\[\s+(-?[\d.]+(?:,\s+-?[\d.]+)*)\s+\]/g,
        (_m, inner: string) => `[${inner.replace(/\s+/g, ' ')}]`,
      );
    } catch {
      // not JSON: show the text as is
    }
  }
  return h(
    'div',
    {},
    h('span', { class: 'hint' }, `${bytes.length} bytes${text !== undefined ? ', UTF-8 text' : ''}`),
    shown !== undefined ? h('pre', { class: 'data' }, shown) : null,
    h('details', {}, h('summary', {}, 'hex'), h('pre', { class: 'data hex' }, toHex(bytes))),
  );
}

/** What the page knows about the nonce. */
export interface NonceView {
  /** Nonce in the document. */
  inDocument: Uint8Array | undefined;
  /** Nonce this page sent (endpoint flow), when any. */
  sent?: Uint8Array;
}

/**
 * Facts list for nonce and freshness.
 *
 * @example
 * ```ts
 * report.append(renderFreshness({ inDocument: doc.nonce }, doc.timestamp, new Date(), toHex));
 * ```
 */
export function renderFreshness(
  nonce: NonceView,
  timestamp: Date,
  now: Date,
  maxAgeMs: number | undefined,
  toHex: (b: Uint8Array) => string,
): HTMLElement {
  const age = now.getTime() - timestamp.getTime();
  const ageText =
    age >= 0
      ? `${durationText(age)} before this page's clock`
      : `${durationText(age)} AHEAD of this page's clock`;
  let nonceState: Node;
  if (nonce.sent) {
    const same = nonce.inDocument !== undefined && toHex(nonce.inDocument) === toHex(nonce.sent);
    nonceState = h(
      'span',
      { class: `badge ${same ? 'badge-ok' : 'badge-bad'}`, id: 'nonce-state' },
      same ? 'matches the fresh nonce this page sent' : 'does NOT match the nonce this page sent',
    );
  } else {
    nonceState = h(
      'span',
      { class: 'badge badge-warn', id: 'nonce-state' },
      'not compared: this document was not requested by this page',
    );
  }
  return h(
    'section',
    { class: 'freshness', 'aria-labelledby': 'fresh-heading' },
    h('h3', { id: 'fresh-heading' }, 'Nonce and freshness'),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Signed at'),
      h('dd', { id: 'doc-timestamp' }, `${utcText(timestamp)} (${ageText})`),
      maxAgeMs !== undefined ? [h('dt', {}, 'Max age'), h('dd', {}, durationText(maxAgeMs))] : null,
      h('dt', {}, 'Nonce'),
      h(
        'dd',
        {},
        nonce.inDocument === undefined
          ? h('span', { class: 'hint' }, 'absent')
          : h('code', { class: 'hex', id: 'doc-nonce' }, toHex(nonce.inDocument) || '(empty)'),
        ' ',
        nonceState,
      ),
      nonce.sent
        ? [h('dt', {}, 'Nonce sent'), h('dd', {}, h('code', { class: 'hex' }, toHex(nonce.sent)))]
        : null,
    ),
  );
}
