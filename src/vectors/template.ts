/**
 * Command templates for running the vector suite against another implementation's CLI.
 *
 * A template is split into words like a POSIX shell splits quoted text (single and double
 * quotes, backslash escapes; no variables, globs or pipes), then each `{name}` placeholder is
 * replaced inside its word. A value never splits into several words, so paths with spaces or
 * quotes are safe and nothing is interpreted by a shell.
 *
 * `[ ... ]` around whole words makes an optional group: it disappears when a placeholder inside
 * has no value for the case, and repeats once per value of a list placeholder
 * (`[--root {roots}]` -> `--root a.pem --root b.pem`). `{{` and `}}` are literal braces;
 * quote or backslash-escape a bracket to pass it literally (`'[x]'`, `\\[`).
 */
import { EnclaveVerifyError } from '../errors.js';

/** Placeholders a template may use (see vectors/README.md for their meaning). */
export const PLACEHOLDERS = [
  'file',
  'id',
  'kind',
  'dir',
  'root',
  'roots',
  'at',
  'at_ms',
  'pcrs',
  'nonce',
  'user_data',
  'public_key',
  'max_age_ms',
  'clock_skew_ms',
  'allow_debug',
  'any_pcrs',
  'document_kind',
  'target',
  'app',
  'overlays',
  'image',
  'kernel',
  'cmdline',
  'init',
  'nsm',
] as const;

/** A placeholder name. */
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Values for one case; `undefined` means "no value" (drops the enclosing optional group). */
export type TemplateValues = Partial<Record<Placeholder, string | string[]>>;

type Part = { lit: string } | { ph: Placeholder };
type Word = { parts: Part[] };
type Group = { group: Node[] };
type Node = Word | Group;

/** A parsed template, reusable for every case. */
export interface CommandTemplate {
  readonly source: string;
  readonly nodes: readonly Node[];
}

function usage(msg: string): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_USAGE', `--command template: ${msg}; see vectors/README.md`);
}

/**
 * Parse a command template, checking quotes, brackets and placeholder names.
 *
 * @example
 * ```ts
 * const t = parseTemplate("other-verifier check {file} [--nonce {nonce}] --root '{root}'");
 * ```
 */
export function parseTemplate(source: string): CommandTemplate {
  const stack: Node[][] = [[]];
  let i = 0;
  const n = source.length;
  const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n';
  while (i < n) {
    while (isSpace(source[i])) i++;
    if (i >= n) break;
    // Group openers at the start of a word.
    while (source[i] === '[') {
      const g: Node[] = [];
      stack[stack.length - 1]!.push({ group: g });
      stack.push(g);
      i++;
      while (isSpace(source[i])) i++;
    }
    if (i >= n) break;
    const parts: Part[] = [];
    let lit = '';
    let quote: '"' | "'" | undefined;
    let closers = 0;
    let sawWordChar = false;
    for (; i < n; i++) {
      const c = source[i]!;
      if (quote === "'") {
        if (c === "'") quote = undefined;
        else lit += c;
        continue;
      }
      if (quote === undefined && isSpace(c)) break;
      if (quote === undefined && c === ']') {
        // A group closer must end the word (possibly several closers in a row).
        let j = i;
        while (source[j] === ']') j++;
        if (j < n && !isSpace(source[j])) throw usage(`"]" at offset ${i} must end a word`);
        closers = j - i;
        i = j;
        break;
      }
      if (c === '\\' && quote === undefined) {
        if (i + 1 >= n) throw usage('trailing backslash');
        lit += source[++i];
        sawWordChar = true;
        continue;
      }
      if (c === '\\' && quote === '"') {
        const d = source[i + 1];
        if (d === '"' || d === '\\' || d === '$' || d === '`') {
          lit += d;
          i++;
          continue;
        }
        lit += c;
        continue;
      }
      if (quote === undefined && (c === "'" || c === '"')) {
        quote = c;
        sawWordChar = true;
        continue;
      }
      if (c === '"' && quote === '"') {
        quote = undefined;
        continue;
      }
      if (c === '{' && source[i + 1] === '{') {
        lit += '{';
        i++;
        continue;
      }
      if (c === '}' && source[i + 1] === '}') {
        lit += '}';
        i++;
        continue;
      }
      if (c === '{') {
        const end = source.indexOf('}', i);
        if (end < 0) throw usage(`unclosed "{" at offset ${i}`);
        const name = source.slice(i + 1, end);
        if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
          throw usage(
            `unknown placeholder {${name}} (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')})`,
          );
        }
        if (lit) parts.push({ lit });
        lit = '';
        parts.push({ ph: name as Placeholder });
        i = end;
        sawWordChar = true;
        continue;
      }
      if (c === '}') throw usage(`unmatched "}" at offset ${i} (write "}}" for a literal brace)`);
      lit += c;
      sawWordChar = true;
    }
    if (quote) throw usage('unclosed quote');
    if (lit) parts.push({ lit });
    if (parts.length > 0 || sawWordChar)
      stack[stack.length - 1]!.push({ parts: parts.length ? parts : [{ lit: '' }] });
    for (let k = 0; k < closers; k++) {
      if (stack.length === 1) throw usage('"]" without a matching "["');
      stack.pop();
    }
  }
  if (stack.length !== 1) throw usage('"[" without a matching "]"');
  const nodes = stack[0]!;
  if (nodes.length === 0 || !('parts' in nodes[0]!)) throw usage('must start with the program to run');
  return { source, nodes };
}

/**
 * Every placeholder a template uses.
 *
 * @example
 * ```ts
 * templatePlaceholders(parseTemplate('v {file} [--nonce {nonce}]')); // Set {'file', 'nonce'}
 * ```
 */
export function templatePlaceholders(template: CommandTemplate): Set<Placeholder> {
  return placeholdersOf(template.nodes);
}

function placeholdersOf(nodes: readonly Node[], out = new Set<Placeholder>()): Set<Placeholder> {
  for (const node of nodes) {
    if ('group' in node) placeholdersOf(node.group, out);
    else for (const p of node.parts) if ('ph' in p) out.add(p.ph);
  }
  return out;
}

function expandNodes(nodes: readonly Node[], values: TemplateValues, inGroup: boolean): string[] | undefined {
  const out: string[] = [];
  for (const node of nodes) {
    if ('parts' in node) {
      let word = '';
      for (const p of node.parts) {
        if ('lit' in p) {
          word += p.lit;
          continue;
        }
        const v = values[p.ph];
        if (v === undefined || (Array.isArray(v) && v.length === 0)) {
          if (inGroup) return undefined;
          throw usage(`{${p.ph}} has no value for this case; put it in an optional group [ ... ]`);
        }
        if (Array.isArray(v)) {
          if (v.length !== 1) {
            if (inGroup) throw usage(`list placeholder {${p.ph}} must be the only list in its group`);
            throw usage(`{${p.ph}} has ${v.length} values; put it in a group [ ... ] to repeat it`);
          }
          word += v[0];
        } else word += v;
      }
      out.push(word);
      continue;
    }
    // Optional group: repeat for each value of the (single) list placeholder it holds.
    const lists = [...placeholdersOf(node.group)].filter((p) => Array.isArray(values[p]));
    if (lists.length > 1) throw usage(`a group holds several list placeholders: ${lists.join(', ')}`);
    const list = lists[0];
    const rounds =
      list === undefined ? [values] : (values[list] as string[]).map((v) => ({ ...values, [list]: v }));
    for (const round of rounds) {
      const words = expandNodes(node.group, round, true);
      if (words) out.push(...words);
    }
  }
  return out;
}

/**
 * Expand a parsed template into an argv (program first) for one case's values.
 *
 * @example
 * ```ts
 * expandTemplate(parseTemplate('v {file} [--nonce {nonce}]'), { file: 'a b.cbor' });
 * // ['v', 'a b.cbor']
 * ```
 */
export function expandTemplate(template: CommandTemplate, values: TemplateValues): string[] {
  return expandNodes(template.nodes, values, false)!;
}
