/**
 * The PCR table: expected vs actual, one row per index that the document carries or the user
 * expects. Rows are marked match / mismatch / not checked in text as well as colour, so the
 * state does not depend on colour vision.
 */
import { h } from '../dom.js';

/** One row's comparison outcome. */
export type PcrRowState = 'match' | 'mismatch' | 'missing' | 'unchecked';

/** One row as the library reports it (`PcrComparison`): lowercase hex values. */
export interface PcrRow {
  index: number;
  actual?: string;
  expected: string[];
  match?: boolean;
  /** NitroTPM: the PCR holds its reset value (nothing measured); it never matches. */
  unmeasured?: true;
}

const ZERO = /^0+$/;

/**
 * State of one row, from the library's own `match` verdict.
 *
 * @example
 * ```ts
 * pcrRowState({ index: 0, actual: 'ab', expected: ['ab'], match: true }); // 'match'
 * ```
 */
export function pcrRowState(row: PcrRow): PcrRowState {
  if (row.expected.length === 0 || row.match === undefined) return 'unchecked';
  if (row.actual === undefined) return 'missing';
  return row.match ? 'match' : 'mismatch';
}

const STATE_TEXT: Record<PcrRowState, string> = {
  match: '✓ match',
  mismatch: '✗ mismatch',
  missing: '✗ not in document',
  unchecked: 'not checked',
};

/**
 * Render the table with a one-line summary above it.
 *
 * @example
 * ```ts
 * report.append(renderPcrTable(verificationReport.pcrs, false, verificationReport.document?.kind));
 * ```
 */
export function renderPcrTable(
  comparisons: readonly PcrRow[],
  showUnusedZero = false,
  kind: 'enclave' | 'nitrotpm' = 'enclave',
): HTMLElement {
  const tpm = kind === 'nitrotpm';
  const rows: HTMLTableRowElement[] = [];
  const counts: Record<PcrRowState, number> = { match: 0, mismatch: 0, missing: 0, unchecked: 0 };
  let hiddenZero = 0;
  for (const row of [...comparisons].sort((a, b) => a.index - b.index)) {
    const { index, actual, expected } = row;
    const state = pcrRowState(row);
    counts[state]++;
    const zero = actual !== undefined && ZERO.test(actual);
    if (zero && index > 2 && state === 'unchecked' && !showUnusedZero) {
      hiddenZero++;
      continue;
    }
    rows.push(
      h(
        'tr',
        { class: `${state}${zero ? ' zero' : ''}`, 'data-pcr': index, 'data-state': state },
        h('th', { scope: 'row' }, `${tpm ? 'TPM PCR' : 'PCR'}${index}`),
        h(
          'td',
          { class: 'hex expected' },
          expected.length > 0 ? expected.map((v, i) => [i > 0 ? h('br') : null, v]) : '—',
        ),
        h(
          'td',
          { class: 'hex actual' },
          actual ?? '—',
          zero && index <= 2 && !tpm
            ? [h('br'), h('span', { class: 'badge badge-warn' }, 'all zero: debug mode')]
            : null,
          row.unmeasured && state !== 'unchecked'
            ? [h('br'), h('span', { class: 'badge badge-warn' }, 'reset value: nothing measured')]
            : null,
        ),
        h('td', { class: 'status' }, STATE_TEXT[state]),
      ),
    );
  }
  const checked = counts.match + counts.mismatch + counts.missing;
  const summary =
    checked === 0
      ? 'No expected PCRs given: the values are shown, not checked.'
      : `${counts.match} of ${checked} expected PCR${checked === 1 ? '' : 's'} match.`;
  return h(
    'section',
    { class: 'pcrs', 'aria-labelledby': 'pcrs-result-heading' },
    h('h3', { id: 'pcrs-result-heading', 'data-kind': kind }, tpm ? 'NitroTPM PCRs (nitrotpm_pcrs)' : 'PCRs'),
    h('p', { id: 'pcr-summary' }, summary),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'pcr-table' },
        h('caption', { class: 'visually-hidden' }, `Expected and actual ${tpm ? 'NitroTPM ' : ''}PCR values`),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'PCR'),
            h('th', { scope: 'col' }, 'Expected'),
            h('th', { scope: 'col' }, 'In the document'),
            h('th', { scope: 'col' }, 'Result'),
          ),
        ),
        h('tbody', {}, rows),
      ),
    ),
    hiddenZero > 0
      ? h(
          'p',
          { class: 'hint' },
          `${hiddenZero} unused PCR${hiddenZero === 1 ? '' : 's'} (all zero) not shown.`,
        )
      : null,
  );
}
