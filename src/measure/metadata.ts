/**
 * The EIF metadata section (v4): compact JSON as eif_build 0.3.1 writes it, and its strict
 * reading. eif_build re-serialises the user's custom metadata through serde_json, which sorts
 * object keys (by UTF-8 bytes) and prints floats the way the `ryu` crate does; both are
 * reproduced here so the output is byte-identical.
 */
import { EnclaveVerifyError } from '../errors.js';
import { decodeUtf8, utf8 } from '../util/bytes.js';

/** Build facts inside the metadata section. */
export interface EifBuildMetadata {
  BuildTime: string;
  BuildTool: string;
  BuildToolVersion: string;
  OperatingSystem: string;
  KernelVersion: string;
}

/** The decoded metadata section. */
export interface EifMetadata {
  ImageName: string;
  ImageVersion: string;
  BuildMetadata: EifBuildMetadata;
  DockerInfo: unknown;
  CustomMetadata: unknown;
}

/** Largest metadata section the reader accepts (eif_build caps the custom part at 4 KiB). */
export const MAX_METADATA_SECTION = 1024 * 1024;
/** eif_build refuses custom metadata files larger than this. */
export const MAX_CUSTOM_METADATA_FILE = 4096;

/** Options of {@link eifBuildMetadata}, named after eif_build 0.3.1's flags. */
export interface EifBuildMetadataOptions {
  /** Base name of the kernel file: the ImageName when `name` is absent. */
  kernelFileName: string;
  /** `--name`: ImageName, and (eif_build 0.3.1 quirk) ImageVersion too. */
  name?: string;
  /** `--build-time`, e.g. `2025-01-01T00:00:00+00:00` (eif_build's default is "now"). */
  buildTime: string;
  buildTool?: string;
  buildToolVersion?: string;
  operatingSystem?: string;
  kernelVersion?: string;
  /** Text of the `--metadata` JSON file, re-serialised as serde_json does. */
  customMetadataJson?: string;
}

/**
 * The metadata section bytes eif_build 0.3.1 writes. ImageVersion is the `--name` value
 * when given, else "1.0" (eif_build 0.3.1 ignores `--version` here).
 *
 * @example
 * ```ts
 * decodeUtf8(eifBuildMetadata({ kernelFileName: 'bzImage', buildTime: '2025-01-01T00:00:00+00:00' }));
 * // '{"ImageName":"bzImage","ImageVersion":"1.0","BuildMetadata":{...},"DockerInfo":null,"CustomMetadata":null}'
 * ```
 */
export function eifBuildMetadata(o: EifBuildMetadataOptions): Uint8Array {
  const s = JSON.stringify;
  const custom = o.customMetadataJson === undefined ? 'null' : serdeJsonReserialize(o.customMetadataJson);
  const text =
    `{"ImageName":${s(o.name ?? o.kernelFileName)},"ImageVersion":${s(o.name ?? '1.0')},` +
    `"BuildMetadata":{"BuildTime":${s(o.buildTime)},"BuildTool":${s(o.buildTool ?? 'eif_build')},` +
    `"BuildToolVersion":${s(o.buildToolVersion ?? '0.3.1')},"OperatingSystem":${s(o.operatingSystem ?? 'OS')},` +
    `"KernelVersion":${s(o.kernelVersion ?? 'kernel')}},"DockerInfo":null,"CustomMetadata":${custom}}`;
  return utf8(text);
}

function badCustom(message: string): never {
  throw new EnclaveVerifyError('ERR_INPUT_FORMAT', `custom metadata: ${message}; pass a valid JSON file`);
}

/** Code point order = UTF-8 byte order, which is how serde_json's BTreeMap sorts keys. */
function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** A float as the `ryu` crate prints it (shortest round-trip digits, its own layout rules). */
function ryu(v: number): string {
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const sign = v < 0 ? '-' : '';
  const [mant, exp] = Math.abs(v).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const kk = Number(exp) + 1; // 10^(kk-1) <= |v| < 10^kk
  const k = kk - digits.length;
  if (k >= 0 && kk <= 16) return `${sign}${digits}${'0'.repeat(k)}.0`;
  if (kk > 0 && kk <= 16) return `${sign}${digits.slice(0, kk)}.${digits.slice(kk)}`;
  if (kk > -5 && kk <= 0) return `${sign}0.${'0'.repeat(-kk)}${digits}`;
  const e = `e${kk - 1}`;
  return digits.length === 1 ? `${sign}${digits}${e}` : `${sign}${digits[0]}.${digits.slice(1)}${e}`;
}

/** A JSON number lexeme as serde_json re-prints it (u64 / i64 exact, else f64 via ryu). */
function serdeNumber(lexeme: string): string {
  if (/^-?\d+$/.test(lexeme)) {
    const n = BigInt(lexeme);
    if (n === 0n && lexeme.startsWith('-')) return '-0.0';
    if (n >= -(2n ** 63n) && n < 2n ** 64n) return n.toString();
  }
  const f = Number(lexeme);
  if (!Number.isFinite(f)) badCustom(`number ${lexeme} is out of range`);
  return ryu(f);
}

/**
 * Re-serialise JSON text as serde_json's `Value` would: compact, object keys sorted by
 * UTF-8 bytes (later duplicates win), numbers per serde_json's integer/float rules.
 *
 * @example
 * ```ts
 * serdeJsonReserialize('{"b": 1.50, "a": [1e2]}'); // '{"a":[100.0],"b":1.5}'
 * ```
 */
export function serdeJsonReserialize(text: string): string {
  let pos = 0;
  const ws = () => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos]!)) pos++;
  };
  const value = (depth: number): string => {
    if (depth > 128) badCustom('nested too deeply');
    ws();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const entries = new Map<string, string>();
      ws();
      if (text[pos] === '}') {
        pos++;
        return '{}';
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') badCustom(`expected a key at character ${pos}`);
        const key = JSON.parse(stringLexeme()) as string;
        ws();
        if (text[pos] !== ':') badCustom(`expected ':' at character ${pos}`);
        pos++;
        entries.set(key, value(depth + 1));
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          break;
        }
        badCustom(`expected ',' or '}' at character ${pos}`);
      }
      const keys = [...entries.keys()].sort(compareCodePoints);
      return `{${keys.map((k) => `${JSON.stringify(k)}:${entries.get(k)}`).join(',')}}`;
    }
    if (c === '[') {
      pos++;
      const items: string[] = [];
      ws();
      if (text[pos] === ']') {
        pos++;
        return '[]';
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          break;
        }
        badCustom(`expected ',' or ']' at character ${pos}`);
      }
      return `[${items.join(',')}]`;
    }
    if (c === '"') return JSON.stringify(JSON.parse(stringLexeme()));
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, pos)) {
        pos += lit.length;
        return lit;
      }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(pos, pos + 1100));
    if (!m || m[0] === '' || m[0] === '-') badCustom(`unexpected character at ${pos}`);
    pos += m[0].length;
    return serdeNumber(m[0]);
  };
  const stringLexeme = (): string => {
    let i = pos + 1;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) badCustom(`unterminated string at character ${pos}`);
    const lexeme = text.slice(pos, i + 1);
    try {
      JSON.parse(lexeme); // rejects raw control characters and bad escapes
    } catch {
      badCustom(`invalid string at character ${pos}`);
    }
    pos = i + 1;
    return lexeme;
  };
  const out = value(0);
  ws();
  if (pos !== text.length) badCustom(`unexpected text after the JSON value at character ${pos}`);
  return out;
}

function badMeta(message: string): never {
  throw new EnclaveVerifyError(
    'ERR_EIF_METADATA',
    `metadata section: ${message}; rebuild the EIF with eif_build or nitro-cli`,
  );
}

/**
 * Decode the metadata section strictly: UTF-8 JSON object with string ImageName and
 * ImageVersion and a BuildMetadata object of five strings. Throws `ERR_EIF_METADATA`.
 *
 * @example
 * ```ts
 * parseEifMetadata(sectionBytes).ImageName; // 'kernel'
 * ```
 */
export function parseEifMetadata(bytes: Uint8Array): EifMetadata {
  if (bytes.length > MAX_METADATA_SECTION)
    badMeta(`${bytes.length} bytes is more than the ${MAX_METADATA_SECTION} this reader accepts`);
  const text = decodeUtf8(bytes);
  if (text === undefined) badMeta('not valid UTF-8');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    badMeta('not valid JSON');
  }
  const isObj = (x: unknown): x is Record<string, unknown> =>
    typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObj(v)) badMeta('not a JSON object');
  for (const k of ['ImageName', 'ImageVersion'])
    if (typeof v[k] !== 'string') badMeta(`"${k}" is missing or not a string`);
  const b = v.BuildMetadata;
  if (!isObj(b)) badMeta('"BuildMetadata" is missing or not an object');
  for (const k of ['BuildTime', 'BuildTool', 'BuildToolVersion', 'OperatingSystem', 'KernelVersion']) {
    if (typeof b[k] !== 'string') badMeta(`"BuildMetadata.${k}" is missing or not a string`);
  }
  if (!('DockerInfo' in v) || !('CustomMetadata' in v))
    badMeta('"DockerInfo" or "CustomMetadata" is missing');
  return v as unknown as EifMetadata;
}
