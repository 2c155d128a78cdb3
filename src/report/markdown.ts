/**
 * Server text in a Markdown record. An endpoint's `errors`, document fields, certificate names and
 * file names go into the audit record; written raw, `# x` is a heading, `[x](url)` a link,
 * `![x](url)` an image fetched when the record is viewed, `<img onerror>` HTML, `|` a new table
 * cell, a bare URL a link. Each function here turns any text into inert Markdown that renders as
 * the text itself (CommonMark and GitHub's extensions).
 */
import { printable } from '../util/terminal-text.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * Text for a Markdown paragraph, list item or table cell: control characters (newlines too) become
 * spaces, HTML metacharacters become entities, and everything that could start emphasis, code,
 * a link, an image, a heading, a list, a quote, a table cell or an autolink is backslash-escaped.
 * Word-internal underscores (`ERR_PCR_MISMATCH`) are left as they are: they never emphasise.
 *
 * @example
 * ```ts
 * markdownText('# [x](https://e.example) <b>|'); // '\\# \\[x\\](https\\://e.example) &lt;b&gt;\\|'
 * ```
 */
export function markdownText(text: string): string {
  let out = printable(text)
    .trim()
    .replace(/[&<>]/g, (c) => ENTITIES[c]!)
    .replace(/[\\`*[\]|~#@]/g, '\\$&')
    .replace(/_/g, (m, at: number, all: string) =>
      /[\p{L}\p{N}]/u.test(all[at - 1] ?? '') && /[\p{L}\p{N}]/u.test(all[at + 1] ?? '') ? m : '\\_',
    )
    // GitHub turns `scheme://...` and `www.` into links even without brackets.
    .replace(/:(?=\/\/)/g, '\\:')
    .replace(/\b(www)\./gi, '$1\\.');
  // At the start of a list item, these would open a nested list or a setext heading.
  if (/^[-+=]/.test(out)) out = `\\${out}`;
  out = out.replace(/^(\d+)([.)])/, '$1\\$2');
  return out;
}

/**
 * A Markdown code span holding `text` exactly (nothing inside is interpreted): fenced with one
 * more backtick than the longest backtick run inside, padded when the text starts or ends with
 * one. In a table cell (`inTable`), pipes are written `\|`, which GitHub reads as a pipe inside
 * the span instead of a cell boundary.
 *
 * @example
 * ```ts
 * markdownCode('a `b` c'); // '``a `b` c``'
 * ```
 */
export function markdownCode(text: string, inTable = false): string {
  const clean = printable(text);
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = clean.startsWith('`') || clean.endsWith('`') || clean === '' ? ' ' : '';
  const body = inTable ? clean.replace(/\|/g, '\\|') : clean;
  return `${fence}${pad}${body}${pad}${fence}`;
}

/**
 * A fenced code block holding `text` (several lines) exactly: the fence is longer than any
 * backtick run inside, so no line of the text can close it.
 *
 * @example
 * ```ts
 * markdownFence(JSON.stringify(value, null, 2), 'json');
 * ```
 */
export function markdownFence(text: string, info = ''): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  const lines = text.split('\n').map((line) => printable(line));
  return [`${fence}${info}`, ...lines, fence].join('\n');
}
