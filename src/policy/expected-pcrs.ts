/**
 * Expected PCR values: the one in-memory shape ({@link ExpectedPcrs}) and readers for the formats
 * people already have on disk (SPEC 2.3): nitro-cli build-enclave / describe-eif JSON, eif_build
 * `.pcrs` lines, `PCRn: hex` lines, a plain `{"0": hex}` map, and Caution canary configs.
 */
import { EnclaveVerifyError } from '../errors.js';
import { fromHex, toHex } from '../util/bytes.js';

/** PCR index to the values allowed at that index (any one of them matches). */
export type ExpectedPcrs = Map<number, Uint8Array[]>;

/** One allowed value: hex text (optionally `0x`-prefixed) or bytes. */
export type PcrValueInput = string | Uint8Array;

/** What {@link normalizeExpectedPcrs} accepts: keys `0`, `"0"` or `"PCR0"`; one value or a list. */
export type ExpectedPcrsInput =
  | ExpectedPcrs
  | Map<number | string, PcrValueInput | readonly PcrValueInput[]>
  | Record<string, PcrValueInput | readonly PcrValueInput[]>;

function formatError(message: string): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_EXPECTED_PCRS_FORMAT', message);
}

/**
 * The PCR index named by `key` (`3`, `"3"`, `"PCR3"`, `"pcr3"`), or undefined when it names none.
 *
 * @example
 * ```ts
 * pcrIndex('PCR8'); // 8
 * ```
 */
export function pcrIndex(key: string | number): number | undefined {
  const m = typeof key === 'number' ? [String(key), String(key)] : /^(?:pcr)?(\d{1,2})$/i.exec(key.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isInteger(n) && n >= 0 && n < 32 ? n : undefined;
}

/**
 * True when `key` looks like it means a PCR: it mentions "pcr" in any case (`PCR 1`, `PCR_2`,
 * `pcr-8`, `PCR32`) or starts with a digit (`32`, `1.0`, `001`). Readers skip keys that are not
 * PCRs (`HashAlgorithm`, describe-eif's extras, a canary file's other members) but refuse those
 * that look like one and do not parse, so a misspelled expectation is never silently dropped.
 *
 * @example
 * ```ts
 * looksLikePcrKey('PCR_2'); // true (and pcrIndex('PCR_2') is undefined: refused)
 * looksLikePcrKey('HashAlgorithm'); // false (skipped)
 * ```
 */
export function looksLikePcrKey(key: string): boolean {
  return /pcr/i.test(key) || /^\s*[+-]?\d/.test(key);
}

function misspelledKey(key: string): EnclaveVerifyError {
  return formatError(
    `'${key.slice(0, 40)}' looks like a PCR key but names no PCR: write PCR0..PCR31 or 0..31 (no space, '_' or '-'); a misspelled expectation would leave that PCR unchecked`,
  );
}

function pcrValue(v: PcrValueInput, index: number): Uint8Array {
  let bytes: Uint8Array;
  if (typeof v === 'string') {
    const hex = v.trim().replace(/^0x/i, '');
    try {
      bytes = fromHex(hex, `expected PCR${index}`);
    } catch {
      throw formatError(`expected PCR${index} is not hex: '${v.slice(0, 20)}${v.length > 20 ? '...' : ''}'`);
    }
  } else if (v instanceof Uint8Array) {
    bytes = v;
  } else {
    throw formatError(`expected PCR${index} must be hex text or bytes`);
  }
  if (bytes.length !== 32 && bytes.length !== 48 && bytes.length !== 64) {
    throw formatError(
      `expected PCR${index} has ${bytes.length} bytes; PCRs are 48 bytes (96 hex digits) of SHA-384 (32/64 also accepted)`,
    );
  }
  return bytes;
}

/**
 * Normalise expected PCRs given as a Map or plain object of hex or bytes (single values or lists)
 * into {@link ExpectedPcrs}. Throws `ERR_EXPECTED_PCRS_FORMAT` for bad indexes or values, for a
 * key that looks like a PCR but is none (`PCR 1`, `PCR_2`, `pcr-8`), and for an empty input.
 *
 * @example
 * ```ts
 * normalizeExpectedPcrs({ PCR0: 'aa'.repeat(48), 2: ['bb'.repeat(48), 'cc'.repeat(48)] });
 * ```
 */
export function normalizeExpectedPcrs(input: ExpectedPcrsInput): ExpectedPcrs {
  const out = normalizeEntries(input);
  // An empty expectation would make the PCR check pass while comparing nothing.
  if (out.size === 0) {
    throw formatError(
      'no expected PCR given: name at least one (e.g. { 0: "<96 hex digits>" }), or leave the expectation out and report that no PCR was checked',
    );
  }
  return out;
}

function normalizeEntries(input: ExpectedPcrsInput): ExpectedPcrs {
  const entries: Iterable<[string | number, unknown]> =
    input instanceof Map ? input.entries() : Object.entries(input as Record<string, unknown>);
  const out: ExpectedPcrs = new Map();
  for (const [key, value] of entries) {
    const index = pcrIndex(key as string | number);
    if (index === undefined) {
      if (typeof key === 'string' && looksLikePcrKey(key)) throw misspelledKey(key);
      throw formatError(`'${String(key).slice(0, 40)}' is not a PCR index (0..31, or PCR0..PCR31)`);
    }
    const list = Array.isArray(value) ? value : [value];
    if (list.length === 0) throw formatError(`no allowed value given for PCR${index}`);
    const values = out.get(index) ?? [];
    for (const v of list) values.push(pcrValue(v as PcrValueInput, index));
    out.set(index, values);
  }
  return new Map([...out.entries()].sort((a, b) => a[0] - b[0]));
}

/**
 * Merge several expectation sets: at each index the allowed values are combined.
 *
 * @example
 * ```ts
 * mergeExpectedPcrs(fromFile, fromFlags);
 * ```
 */
export function mergeExpectedPcrs(...sets: ExpectedPcrs[]): ExpectedPcrs {
  const out: ExpectedPcrs = new Map();
  for (const set of sets) {
    for (const [i, values] of set) {
      const list = out.get(i) ?? [];
      for (const v of values) if (!list.some((x) => toHex(x) === toHex(v))) list.push(v);
      out.set(i, list);
    }
  }
  return new Map([...out.entries()].sort((a, b) => a[0] - b[0]));
}

/** Options of {@link parseExpectedPcrs}. */
export interface ParseExpectedPcrsOptions {
  /** Target id to pick in a Caution canary config (`targets[].id`). */
  target?: string;
}

/**
 * Read expected PCRs from the text of a file in any supported format: nitro-cli JSON
 * (`{"Measurements": {"PCR0": hex, ...}}`, also describe-eif output), eif_build `.pcrs`
 * (`<hex> PCR0` lines), `PCR0: <hex>` lines, a plain `{"0": hex}` / `{"PCR0": hex}` map, or a
 * Caution canary config (`targets[].expected_pcrs`; choose with `target` when there are several).
 * Throws `ERR_EXPECTED_PCRS_FORMAT` otherwise.
 *
 * @example
 * ```ts
 * const expected = parseExpectedPcrs(await readFile('canary.json', 'utf8'), { target: 'xwing-poc' });
 * ```
 */
export function parseExpectedPcrs(text: string, options: ParseExpectedPcrsOptions = {}): ExpectedPcrs {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed.length === 0) throw formatError('the expected-PCR file is empty');
  const result = trimmed.startsWith('{') ? fromJson(trimmed, options) : fromLines(trimmed);
  if (result.size === 0) throw formatError('the expected-PCR file names no PCR');
  if (options.target !== undefined && !trimmed.startsWith('{')) {
    throw formatError('--target only applies to a Caution canary config (JSON with "targets")');
  }
  return result;
}

function fromJson(text: string, options: ParseExpectedPcrsOptions): ExpectedPcrs {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw formatError(`the expected-PCR file is not valid JSON (${(e as Error).message})`);
  }
  const obj = value as Record<string, unknown>;
  if (Array.isArray(obj.targets)) return fromCanary(obj.targets as unknown[], options.target);
  if (options.target !== undefined) {
    throw formatError('--target only applies to a Caution canary config (JSON with "targets")');
  }
  const caution = fromCautionPcrFile(obj);
  if (caution) return caution;
  for (const wrapper of ['Measurements', 'measurements', 'expected_pcrs', 'pcrs', 'PCRs']) {
    const inner = obj[wrapper];
    if (inner && typeof inner === 'object' && !Array.isArray(inner))
      return fromMap(inner as Record<string, unknown>);
  }
  return fromMap(obj);
}

/**
 * Caution's own PCR files: `caution verify`'s `.caution/trusted_hashes.json` (`{pcr0, pcr1, pcr2,
 * verified_at, tls?}`) and canaryctl's `{"pcr0","pcr1","pcr2"}` (extra members ignored, as
 * canaryctl does). Only the three PCR members are read, so the other members never count as
 * PCRs or as unknown keys; but another member that looks like a PCR (`pcr8`, `PCR_3`) is refused,
 * since this format cannot carry it and skipping it would leave that PCR unchecked.
 */
function fromCautionPcrFile(obj: Record<string, unknown>): ExpectedPcrs | undefined {
  if (!['pcr0', 'pcr1', 'pcr2'].every((k) => typeof obj[k] === 'string')) return undefined;
  for (const k of Object.keys(obj)) {
    if (!['pcr0', 'pcr1', 'pcr2'].includes(k) && looksLikePcrKey(k)) {
      throw formatError(
        `'${k.slice(0, 40)}' looks like a PCR key, but a Caution PCR file ({"pcr0","pcr1","pcr2"}) carries only PCR0..2; put other PCRs in another format (e.g. {"0": hex, "8": hex}) so none is left unchecked`,
      );
    }
  }
  return normalizeExpectedPcrs({ 0: obj.pcr0 as string, 1: obj.pcr1 as string, 2: obj.pcr2 as string });
}

// Keys that are not PCRs (HashAlgorithm, describe-eif extras) are skipped; keys that look like a
// PCR but do not parse are refused.
function fromMap(map: Record<string, unknown>): ExpectedPcrs {
  const picked: Record<string, PcrValueInput | PcrValueInput[]> = {};
  for (const [k, v] of Object.entries(map)) {
    if (pcrIndex(k) === undefined) {
      if (looksLikePcrKey(k)) throw misspelledKey(k);
      continue;
    }
    if (typeof v !== 'string' && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) {
      throw formatError(`the value of '${k}' must be a hex string or a list of hex strings`);
    }
    picked[k] = v as string | string[];
  }
  // Empty is refused by parseExpectedPcrs, with a message about the file.
  return normalizeEntries(picked);
}

function fromCanary(targets: unknown[], target: string | undefined): ExpectedPcrs {
  const ids = targets.map((t) => String((t as { id?: unknown })?.id ?? ''));
  let chosen: unknown;
  if (target !== undefined) {
    chosen = targets[ids.indexOf(target)];
    if (!chosen) throw formatError(`no target '${target}' in the canary config; targets: ${ids.join(', ')}`);
  } else if (targets.length === 1) {
    chosen = targets[0];
  } else {
    throw formatError(
      `the canary config has ${targets.length} targets; choose one with --target (option \`target\`): ${ids.join(', ')}`,
    );
  }
  const expected = (chosen as { expected_pcrs?: unknown }).expected_pcrs;
  if (!expected || typeof expected !== 'object') {
    throw formatError(`target '${String((chosen as { id?: unknown }).id)}' has no expected_pcrs`);
  }
  return fromMap(expected as Record<string, unknown>);
}

function fromLines(text: string): ExpectedPcrs {
  const map = new Map<number, string[]>();
  text.split(/\r?\n/).forEach((raw, n) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    // `PCR0: hex`, `PCR0=hex`, `0: hex` (caution verify --pcrs) or `hex PCR0` (eif_build --pcrs_output).
    const m =
      /^(?:PCR)?(\d{1,2})\s*[:=]\s*(?:0x)?([0-9a-fA-F]+)$/i.exec(line) ??
      swap(/^(?:0x)?([0-9a-fA-F]+)\s+PCR(\d{1,2})$/i.exec(line));
    if (!m) throw formatError(`line ${n + 1} is not 'PCRn: <hex>' or '<hex> PCRn': '${line.slice(0, 40)}'`);
    const index = pcrIndex(m[1]!);
    if (index === undefined) throw formatError(`line ${n + 1} names PCR${m[1]}, outside 0..31`);
    map.set(index, [...(map.get(index) ?? []), m[2]!]);
  });
  return normalizeEntries(map);
}

function swap(m: RegExpExecArray | null): [string, string, string] | null {
  return m ? [m[0], m[2]!, m[1]!] : null;
}
