/**
 * Strict readers for the JSON shapes Canary deserialises with serde (`deny_unknown_fields`):
 * each reader checks one member's presence and type and reports failures through the caller's
 * `fail`, so every artifact keeps its own error code while sharing the rules.
 */
import { JsonFloat, type JsonValue } from './jcs.js';

/** Reports a schema failure at a JSON path (`targets[0].id`) and never returns. */
export type SchemaFail = (message: string, path: string) => never;

/** A JSON object as the strict parser returns it. */
export type JsonObject = { [key: string]: JsonValue };

function describe(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof JsonFloat || typeof v === 'bigint') return 'a number';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * The object at `path`, with its members checked against `fields` (unknown members refused).
 *
 * @example
 * ```ts
 * const o = readObject(value, 'config', ['version', 'node_id'], fail);
 * ```
 */
export function readObject(
  v: JsonValue | undefined,
  path: string,
  fields: readonly string[],
  fail: SchemaFail,
): JsonObject {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v) || v instanceof JsonFloat) {
    return fail(`${path} must be an object, not ${describe(v)}`, path);
  }
  for (const key of Object.keys(v)) {
    if (!fields.includes(key)) fail(`${path} has an unknown member "${key.slice(0, 64)}"`, `${path}.${key}`);
  }
  return v as JsonObject;
}

/**
 * A required member (null is a value here, not absence).
 *
 * @example
 * ```ts
 * readRequired(o, 'node_id', 'config', fail);
 * ```
 */
export function readRequired(o: JsonObject, name: string, path: string, fail: SchemaFail): JsonValue {
  if (!Object.hasOwn(o, name)) return fail(`${path} lacks the member "${name}"`, `${path}.${name}`);
  return o[name]!;
}

/**
 * A serde `Option` member: absent and `null` both read as undefined.
 *
 * @example
 * ```ts
 * readOptional(o, 'e2e_mode'); // undefined for {"e2e_mode": null}
 * ```
 */
export function readOptional(o: JsonObject, name: string): JsonValue | undefined {
  const v = Object.hasOwn(o, name) ? o[name] : undefined;
  return v === null ? undefined : v;
}

/**
 * A string at `path`.
 *
 * @example
 * ```ts
 * readString(o.node_id, 'config.node_id', fail);
 * ```
 */
export function readString(v: JsonValue | undefined, path: string, fail: SchemaFail): string {
  if (typeof v !== 'string') return fail(`${path} must be a string, not ${describe(v)}`, path);
  return v;
}

/**
 * A string or null at `path` (a serde `Option<String>` that is always written).
 *
 * @example
 * ```ts
 * readNullableString(o.observed_at, 'payload.observed_at', fail); // null or the string
 * ```
 */
export function readNullableString(v: JsonValue | undefined, path: string, fail: SchemaFail): string | null {
  if (v === null || v === undefined) return null;
  return readString(v, path, fail);
}

/**
 * An unsigned integer written as an integer literal (`60.0` and `-1` refused), at most `max`.
 *
 * @example
 * ```ts
 * readUnsigned(o.version, 'config.version', 0xffffffffn, fail); // 0n
 * ```
 */
export function readUnsigned(v: JsonValue | undefined, path: string, max: bigint, fail: SchemaFail): bigint {
  const n = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : undefined;
  if (n === undefined) return fail(`${path} must be an integer literal, not ${describe(v)}`, path);
  if (n < 0n || n > max) return fail(`${path} is out of range (0..${max})`, path);
  return n;
}

/** Largest u32. */
export const U32_MAX = 0xffffffffn;
/** Largest u64. */
export const U64_MAX = 0xffffffffffffffffn;

/**
 * An array at `path`.
 *
 * @example
 * ```ts
 * readArray(o.targets, 'config.targets', fail);
 * ```
 */
export function readArray(v: JsonValue | undefined, path: string, fail: SchemaFail): JsonValue[] {
  if (!Array.isArray(v)) return fail(`${path} must be an array, not ${describe(v)}`, path);
  return v;
}
