/**
 * Neutralising text for a terminal. Documents, endpoints, archives and file names are hostile: a
 * C0 or C1 control character in them (ESC, CSI, a carriage return, a newline) could clear the
 * screen, move the cursor or add a line that paints a fake verdict. Two functions, one rule set:
 * {@link printable} for a single field inside a report line, {@link terminalSafe} for everything
 * the CLI writes (its stream wrapper calls it on every text chunk of every command).
 */

/**
 * True for a C0 control, DEL or a C1 control: what a terminal may act on.
 *
 * @example
 * ```ts
 * isControlCodePoint(0x9b); // true: CSI, which some terminals obey even encoded in UTF-8
 * ```
 */
export function isControlCodePoint(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c < 0xa0);
}

/**
 * One field of a report line: every control character (newlines included, so a field cannot
 * start a line of its own) becomes a space.
 *
 * @example
 * ```ts
 * printable('ok\u001b[2Jx'); // 'ok [2Jx'
 * ```
 */
export function printable(text: string): string {
  let out = '';
  for (const ch of text) out += isControlCodePoint(ch.codePointAt(0) ?? 0) ? ' ' : ch;
  return out;
}

/**
 * A whole output chunk (a report, a JSON line, an error message): line feeds are kept, every
 * other control character is written as its JSON escape `\u00XX`. Inside JSON text that is the
 * same value (JSON.stringify escapes C0 itself but leaves DEL and C1 raw), so `--json` output
 * parses to exactly what it carried; in human text it shows, harmlessly, that something was there.
 *
 * @example
 * ```ts
 * terminalSafe('a\u009b2J\nb'); // 'a\\u009b2J\nb'
 * ```
 */
export function terminalSafe(text: string): string {
  // Fast path: most chunks have nothing to replace.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  if (!/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(text)) return text;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
