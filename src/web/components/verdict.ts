/**
 * The verdict box: read first, announced by screen readers (the box is an aria-live status region
 * whose content is replaced as a whole). Refusals show the library's error code and message
 * verbatim, exactly as `enclave-verify verify` prints them.
 */
import { h } from '../dom.js';

/** What the verdict box shows. */
export type VerdictView =
  | { state: 'idle'; title: string; detail?: string }
  | { state: 'busy'; title: string; detail?: string }
  | { state: 'ok'; title: string; lines: string[] }
  /** Genuine, but nothing said which code to expect: never shown as the green verdict. */
  | { state: 'warn'; title: string; lines: string[] }
  | { state: 'bad'; title: string; code: string; message: string; lines: string[] };

let runs = 0;

/**
 * Replace the verdict box's content. `data-state`, `data-code` and `data-run` let tests (and
 * user scripts) wait for a specific outcome.
 *
 * @example
 * ```ts
 * showVerdict(box, { state: 'ok', title: 'Verified', lines: ['AWS Nitro chain valid'] });
 * ```
 */
export function showVerdict(box: HTMLElement, view: VerdictView): void {
  box.className = `verdict verdict-${view.state}`;
  box.dataset.state = view.state;
  const done = view.state === 'ok' || view.state === 'warn' || view.state === 'bad';
  if (done) box.dataset.run = String(++runs);
  if (view.state === 'bad') box.dataset.code = view.code;
  else delete box.dataset.code;
  const body: Node[] = [h('p', { class: 'verdict-title' }, view.title)];
  if (view.state === 'bad') {
    body.push(
      h('p', { class: 'verdict-error' }, h('code', { id: 'verdict-code' }, view.code), ': ', view.message),
    );
  }
  if (done) {
    for (const line of view.lines) body.push(h('p', { class: 'verdict-detail' }, line));
  } else if (view.detail) {
    body.push(h('p', { class: 'verdict-detail' }, view.detail));
  }
  box.replaceChildren(...body);
}
