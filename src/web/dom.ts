/**
 * A tiny element builder. Everything the page shows from a document goes through text nodes,
 * never through innerHTML: the document's fields are attacker-chosen bytes.
 */

type Child = Node | string | number | false | null | undefined | Child[];
type Attrs = Record<string, string | number | boolean | undefined | null>;

/**
 * Create an element with attributes (`false`/`null`/`undefined` omit it) and children.
 *
 * @example
 * ```ts
 * document.body.append(h('p', { class: 'hint' }, 'Nothing leaves this page.'));
 * ```
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue;
    if (Array.isArray(child)) {
      append(el, child);
      continue;
    }
    el.append(typeof child === 'number' ? String(child) : child);
  }
}

/**
 * The element with this id, typed; throws when the page markup and the script disagree.
 *
 * @example
 * ```ts
 * const input = byId('doc-file', HTMLInputElement);
 * ```
 */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`page markup: #${id} is missing or not a ${type.name}`);
  return el;
}
