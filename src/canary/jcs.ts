/**
 * JSON as Caution Canary reads and writes it (CANARY.md 1).
 *
 * Canary parses with serde_json into Rust structs and writes digests over `serde_jcs` 0.1 output.
 * Two consequences shape this module:
 * - the parser must keep what serde keeps: integers that fit i64/u64 stay exact (a manifest
 *   integer above 2^53 keeps all its digits), a float literal stays a float even when it is
 *   integral (`60.0` is not a valid u32), duplicate members are errors;
 * - the writer sorts members by the UTF-8 bytes of the escaped key (serde_jcs does, where strict
 *   RFC 8785 sorts by UTF-16 units) and prints floats the ECMAScript way (ryu-js).
 *
 * Values are plain JS: `null`, booleans, strings, arrays, null-prototype objects, `number` for
 * integers within 2^53 and for non-integral floats, `bigint` for larger integers, and
 * {@link JsonFloat} for integral float literals (`60.0`, `1e3`, `-0`), which serde keeps apart
 * from integers.
 */
import { EnclaveVerifyError } from '../errors.js';

/** An integral number written as a float literal (`60.0`, `1e3`, `-0`): a float for serde. */
export class JsonFloat {
  /**
   * @example
   * ```ts
   * new JsonFloat(60).value; // 60
   * ```
   */
  constructor(readonly value: number) {}
}

/** A JSON value as {@link parseStrictJson} returns it and {@link canonicalJson} accepts it. */
export type JsonValue =
  | null
  | boolean
  | string
  | number
  | bigint
  | JsonFloat
  | JsonValue[]
  | { [key: string]: JsonValue };

/** serde_json's default recursion limit: deeper documents are refused, not overflowed. */
export const MAX_JSON_DEPTH = 128;

const I64_MIN = -(2n ** 63n);
const U64_MAX = 2n ** 64n - 1n;

function jsonError(message: string, offset: number): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_CANARY_JSON', `${message} at offset ${offset}`, {
    details: { offset },
  });
}

/**
 * Parse JSON text the way Canary's serde_json does, more strictly than `JSON.parse`: duplicate
 * member names, a leading byte-order mark, lone surrogate escapes, nesting deeper than 128 and
 * trailing content are `ERR_CANARY_JSON`. Integers keep their exact value (`bigint` beyond 2^53);
 * objects have no prototype, so a `__proto__` member is just a member.
 *
 * @example
 * ```ts
 * const v = parseStrictJson('{"n": 18446744073709551615, "f": 60.0}') as Record<string, JsonValue>;
 * v.n; // 18446744073709551615n
 * v.f instanceof JsonFloat; // true
 * ```
 */
export function parseStrictJson(text: string): JsonValue {
  const parser = new Parser(text);
  parser.ws();
  const value = parser.value(0);
  parser.ws();
  if (parser.pos !== text.length) throw jsonError('trailing characters after the JSON value', parser.pos);
  return value;
}

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  ws(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.pos++;
    }
  }

  value(depth: number): JsonValue {
    const s = this.s;
    if (this.pos >= s.length) throw jsonError('unexpected end of JSON', this.pos);
    const c = s[this.pos]!;
    if (c === '{' || c === '[') {
      if (depth >= MAX_JSON_DEPTH) throw jsonError(`nesting deeper than ${MAX_JSON_DEPTH} levels`, this.pos);
      return c === '{' ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (s.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    throw jsonError(`unexpected character '${c === '\uFEFF' ? 'byte-order mark' : c}'`, this.pos);
  }

  object(depth: number): { [key: string]: JsonValue } {
    const out: { [key: string]: JsonValue } = Object.create(null);
    this.pos++; // {
    this.ws();
    if (this.s[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.pos] !== '"') throw jsonError('expected a member name', this.pos);
      const at = this.pos;
      const key = this.string();
      if (Object.hasOwn(out, key)) throw jsonError(`duplicate member "${key.slice(0, 64)}"`, at);
      this.ws();
      if (this.s[this.pos] !== ':') throw jsonError("expected ':'", this.pos);
      this.pos++;
      this.ws();
      out[key] = this.value(depth);
      this.ws();
      const c = this.s[this.pos];
      this.pos++;
      if (c === '}') return out;
      if (c !== ',') throw jsonError("expected ',' or '}'", this.pos - 1);
    }
  }

  array(depth: number): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++; // [
    this.ws();
    if (this.s[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(depth));
      this.ws();
      const c = this.s[this.pos];
      this.pos++;
      if (c === ']') return out;
      if (c !== ',') throw jsonError("expected ',' or ']'", this.pos - 1);
    }
  }

  string(): string {
    const s = this.s;
    this.pos++; // opening quote
    let out = '';
    let start = this.pos;
    for (;;) {
      if (this.pos >= s.length) throw jsonError('unterminated string', this.pos);
      const c = s.charCodeAt(this.pos);
      if (c === 0x22) {
        out += s.slice(start, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) throw jsonError('control character in a string (escape it)', this.pos);
      if (c >= 0xd800 && c <= 0xdfff) {
        // Unpaired surrogates cannot come from UTF-8 text; refuse them as serde does.
        const next = s.charCodeAt(this.pos + 1);
        if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) throw jsonError('invalid Unicode', this.pos);
        this.pos += 2;
        continue;
      }
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += s.slice(start, this.pos);
      const e = s[this.pos + 1];
      this.pos += 2;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const unit = this.hex4();
          if (unit >= 0xdc00 && unit <= 0xdfff) throw jsonError('lone trailing surrogate escape', this.pos);
          if (unit >= 0xd800 && unit <= 0xdbff) {
            if (s[this.pos] !== '\\' || s[this.pos + 1] !== 'u') {
              throw jsonError('lone leading surrogate escape', this.pos);
            }
            this.pos += 2;
            const low = this.hex4();
            if (!(low >= 0xdc00 && low <= 0xdfff)) throw jsonError('lone leading surrogate escape', this.pos);
            out += String.fromCharCode(unit, low);
          } else {
            out += String.fromCharCode(unit);
          }
          break;
        }
        default:
          throw jsonError('invalid escape', this.pos - 1);
      }
      start = this.pos;
    }
  }

  hex4(): number {
    const h = this.s.slice(this.pos, this.pos + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) throw jsonError('invalid \\u escape', this.pos);
    this.pos += 4;
    return Number.parseInt(h, 16);
  }

  number(): JsonValue {
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.pos, this.pos + 1100));
    if (!m) throw jsonError('invalid number', this.pos);
    const text = m[0];
    if (text.length > 1000) throw jsonError('number literal too long', this.pos);
    this.pos += text.length;
    if (m[1] === undefined && m[2] === undefined) {
      const n = BigInt(text);
      // serde_json: -0 is a float; integers outside i64/u64 become floats.
      if (text === '-0') return new JsonFloat(-0);
      if (n < I64_MIN || n > U64_MAX) return floatValue(Number(text));
      return Number.isSafeInteger(Number(n)) ? Number(n) : n;
    }
    const f = Number(text);
    if (!Number.isFinite(f)) throw jsonError('number out of range', this.pos - text.length);
    return floatValue(f);
  }
}

function floatValue(f: number): number | JsonFloat {
  return Number.isInteger(f) || Object.is(f, -0) ? new JsonFloat(f) : f;
}

/** Escape a string as serde_json/serde_jcs do: `"`, `\` and C0 controls only; lowercase `\u00xx`. */
function escapeString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      throw new EnclaveVerifyError('ERR_CANARY_JSON', 'a string holds an unpaired UTF-16 surrogate');
    }
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(start, i);
    start = i + 1;
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else out += `\\u00${c.toString(16).padStart(2, '0')}`;
  }
  return `${out}${s.slice(start)}"`;
}

const encoder = new TextEncoder();

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** ECMAScript number-to-string, as ryu-js writes floats for serde_jcs (`-0` is `0`). */
function ecmaNumber(n: number): string {
  if (!Number.isFinite(n)) {
    throw new EnclaveVerifyError('ERR_CANARY_JSON', 'NaN and infinities have no JSON form');
  }
  return Object.is(n, -0) ? '0' : String(n);
}

/**
 * The canonical JSON text of `value` exactly as Canary's `serde_jcs` writes it: no whitespace,
 * members sorted by the UTF-8 bytes of their escaped names, arrays in order, minimal string
 * escapes, raw non-ASCII, integers exact (including `bigint`), floats in ECMAScript notation.
 * Object members whose value is `undefined` are left out (how optional fields are omitted).
 * Throws `ERR_CANARY_JSON` for values JSON cannot hold (NaN, functions, lone surrogates).
 *
 * @example
 * ```ts
 * canonicalJson({ b: [1, 'é'], a: 2n ** 64n - 1n }); // '{"a":18446744073709551615,"b":[1,"é"]}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return writeCanonical(value, 0);
}

function writeCanonical(value: unknown, depth: number): string {
  if (depth > MAX_JSON_DEPTH) {
    throw new EnclaveVerifyError('ERR_CANARY_JSON', `nesting deeper than ${MAX_JSON_DEPTH} levels`);
  }
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') return escapeString(value);
  if (typeof value === 'number') return ecmaNumber(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof JsonFloat) return ecmaNumber(value.value);
  if (Array.isArray(value)) return `[${value.map((v) => writeCanonical(v, depth + 1)).join(',')}]`;
  if (typeof value === 'object') {
    const members = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => {
        const key = escapeString(k);
        return { key, sortKey: encoder.encode(key), v };
      })
      .sort((a, b) => compareBytes(a.sortKey, b.sortKey));
    return `{${members.map((m) => `${m.key}:${writeCanonical(m.v, depth + 1)}`).join(',')}}`;
  }
  throw new EnclaveVerifyError('ERR_CANARY_JSON', `a ${typeof value} has no JSON form`);
}

/**
 * UTF-8 bytes of {@link canonicalJson}: what Canary digests and signs.
 *
 * @example
 * ```ts
 * canonicalJsonBytes({ a: 1 }); // bytes of '{"a":1}'
 * ```
 */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalJson(value));
}

/** Rust `ryu` float formatting (serde_json's writer): `60.0`, `1e21`, `1.5e-7`, `0.001`. */
function ryuNumber(n: number): string {
  if (!Number.isFinite(n)) {
    throw new EnclaveVerifyError('ERR_CANARY_JSON', 'NaN and infinities have no JSON form');
  }
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const sign = n < 0 ? '-' : '';
  // toExponential() without digits gives the shortest round-trip digits, as ryu does.
  const [mantissa, exp] = Math.abs(n).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const length = digits.length;
  const kk = Number(exp) + 1; // position of the decimal point relative to the digits
  let body: string;
  if (length <= kk && kk <= 16) body = `${digits}${'0'.repeat(kk - length)}.0`;
  else if (0 < kk && kk <= 16) body = `${digits.slice(0, kk)}.${digits.slice(kk)}`;
  else if (-5 < kk && kk <= 0) body = `0.${'0'.repeat(-kk)}${digits}`;
  else if (length === 1) body = `${digits}e${kk - 1}`;
  else body = `${digits[0]}.${digits.slice(1)}e${kk - 1}`;
  return sign + body;
}

/**
 * `serde_json::to_string_pretty` of a value whose members are already in the wanted order
 * (structs in field order; JSON objects from {@link parseStrictJson} are re-sorted by key bytes,
 * as serde_json's `Value` map is; `indent` is the prefix of nested lines): two-space indent, `"key": value`, floats in Rust `ryu`
 * notation. Canary's published evidence vector is this plus a newline.
 *
 * @example
 * ```ts
 * prettyJson({ a: [1] }, { sortObjects: false }); // '{\n  "a": [\n    1\n  ]\n}'
 * ```
 */
export function prettyJson(value: unknown, options: { sortObjects: boolean; indent?: string }): string {
  return writePretty(value, options.indent ?? '', options.sortObjects, 0);
}

function writePretty(value: unknown, indent: string, sortObjects: boolean, depth: number): string {
  if (depth > MAX_JSON_DEPTH) {
    throw new EnclaveVerifyError('ERR_CANARY_JSON', `nesting deeper than ${MAX_JSON_DEPTH} levels`);
  }
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value).toString() : ryuNumber(value);
  if (value instanceof JsonFloat) return ryuNumber(value.value);
  if (value === null || typeof value !== 'object') return canonicalJson(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((v) => inner + writePretty(v, inner, sortObjects, depth + 1));
    return `[\n${items.join(',\n')}\n${indent}]`;
  }
  let entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (sortObjects) {
    entries = entries.sort((a, b) => compareBytes(encoder.encode(a[0]), encoder.encode(b[0])));
  }
  if (entries.length === 0) return '{}';
  const items = entries.map(
    ([k, v]) => `${inner}${escapeString(k)}: ${writePretty(v, inner, sortObjects, depth + 1)}`,
  );
  return `{\n${items.join(',\n')}\n${indent}}`;
}
