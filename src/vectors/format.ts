/**
 * The conformance vector format (`enclave-verify-vectors/1`), documented for other
 * implementations in `vectors/README.md`. This module only parses and validates the JSON:
 * it never reads the files a case names, so it runs in browsers as well as in Node.
 *
 * Validation is strict on purpose: a typo in a vector file (`"expct"`) must fail loudly instead
 * of silently turning a case into one that always passes.
 */

import type { ErrorClass, ErrorCode } from '../errors.js';
import { EnclaveVerifyError, ERROR_CODES } from '../errors.js';

/** Value of the `format` field of every suite index and case file. */
export const VECTOR_FORMAT = 'enclave-verify-vectors/1';

/** What a case exercises. */
export type VectorKind = 'attestation' | 'eif' | 'ramdisk' | 'expected-pcrs';

/** PCR index (decimal string) -> one allowed hex value or several. */
export type PcrExpectation = Record<string, string | string[]>;

/** Inputs and options of an attestation case. */
export interface AttestationCase {
  kind: 'attestation';
  /** Raw CBOR COSE_Sign1 document. */
  input: { file: string };
  options: {
    /** PEM or DER files; absent: the pinned AWS Nitro Enclaves Root G1. */
    trustedRoots?: string[];
    /** ISO 8601 instant, or `document` for the document's own timestamp; absent: now. */
    at?: string;
    expectedPcrs?: PcrExpectation;
    /** Hex. */
    nonce?: string;
    /** Hex. */
    userData?: string;
    /** Hex. */
    publicKey?: string;
    maxAgeMs?: number;
    clockSkewMs?: number;
    allowDebug?: boolean;
    /** Require this kind of document (`enclave`: `pcrs`; `nitrotpm`: `nitrotpm_pcrs`). */
    documentKind?: DocumentKind;
  };
}

/** Kind of an attestation document: a Nitro Enclave's or an EC2 instance's NitroTPM's. */
export type DocumentKind = 'enclave' | 'nitrotpm';
const DOCUMENT_KINDS: readonly DocumentKind[] = ['enclave', 'nitrotpm'];

/** Inputs of an EIF case: a file, measured and described. */
export interface EifCase {
  kind: 'eif';
  input: { file: string };
  options: Record<string, never>;
}

/**
 * Inputs of a ramdisk case: the Caution recipe over tar inputs, the nitro-cli recipe over an
 * image (and optionally its blobs), or one archive to read.
 */
export interface RamdiskCase {
  kind: 'ramdisk';
  input: {
    /**
     * `caution`: rebuild rootfs.cpio(.gz) from `app` + `overlays`; `nitro-cli`: rebuild the
     * customer ramdisk (cpioSha256/cpioSize) and PCR2 from `image`, with `kernel`, `cmdline`,
     * `init` and `nsm` also PCR0/PCR1; `read`: parse `archive` only.
     */
    recipe: 'caution' | 'nitro-cli' | 'read';
    app?: string;
    overlays?: string[];
    /** For `read`: a tar, cpio or cpio.gz archive. */
    archive?: string;
    /** For `nitro-cli`: a docker save tar or an OCI layout tar. */
    image?: string;
    /** For `nitro-cli`: nitro-cli's blobs (all four or none). */
    kernel?: string;
    cmdline?: string;
    init?: string;
    nsm?: string;
  };
  options: Record<string, never>;
}

/** Inputs of an expected-PCR file case. */
export interface ExpectedPcrsCase {
  kind: 'expected-pcrs';
  input: { file: string };
  /** `target`: the Caution canary target id to choose. */
  options: { target?: string };
}

/** Expected outcome of a case. */
export type Expectation =
  | {
      result: 'accept';
      /** Exact PCR values (index -> hex) the implementation must report. */
      pcrs?: Record<string, string>;
      /** Attestation cases: the document kind the implementation must report. */
      documentKind?: DocumentKind;
      /** Subset of the describe-eif object (EIF cases). */
      describe?: Record<string, unknown>;
      /** Lowercase hex SHA-256 of the rebuilt uncompressed archive (ramdisk cases). */
      cpioSha256?: string;
      /** Lowercase hex SHA-256 of the rebuilt gzip archive (ramdisk cases). */
      gzipSha256?: string;
      /** Number of entries read (ramdisk `read` cases). */
      entries?: number;
      /** Size in bytes of the rebuilt uncompressed archive (ramdisk cases). */
      cpioSize?: number;
    }
  | { result: 'reject'; code: ErrorCode; class: ErrorClass };

/** One case, as written in a case file, with where it came from. */
export type VectorCase = (AttestationCase | EifCase | RamdiskCase | ExpectedPcrsCase) & {
  /** Unique in the suite; `<kind>/<group>/<name>` by convention, matched by `--only`. */
  id: string;
  description: string;
  expect: Expectation;
  /** URL of the directory that relative input paths resolve against. */
  base: URL;
  /** URL of the case file that declared the case (for messages). */
  source: URL;
  /** True when the case file is marked optional (points at data that may be absent). */
  optional: boolean;
};

/** A suite index: which case files make up the suite. */
export interface SuiteIndex {
  format: typeof VECTOR_FORMAT;
  description?: string;
  /** Case files (or further suite indexes), relative to the index file. */
  include: string[];
}

/** A case file as parsed, before its cases are bound to URLs. */
export interface CaseFile {
  format: typeof VECTOR_FORMAT;
  description?: string;
  /** Directory that input paths resolve against, relative to this file; default: its own directory. */
  base?: string;
  /**
   * The data may be absent (e.g. a large corpus fetched separately, outside the suite): cases
   * whose inputs are missing are skipped instead of failed. The committed suite uses none.
   */
  optional?: boolean;
  cases: unknown[];
}

const KINDS: readonly VectorKind[] = ['attestation', 'eif', 'ramdisk', 'expected-pcrs'];

function bad(source: URL, where: string, what: string): EnclaveVerifyError {
  return new EnclaveVerifyError(
    'ERR_INPUT_FORMAT',
    `vector file ${source.href}: ${where}: ${what}; see vectors/README.md for the format`,
    { details: { source: source.href, where } },
  );
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function only(source: URL, where: string, obj: Json, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k))
      throw bad(source, where, `unknown field "${k}" (allowed: ${allowed.join(', ')})`);
  }
}

function str(source: URL, where: string, v: unknown, required = false): string | undefined {
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw bad(source, where, 'must be a non-empty string');
  return v;
}

function hex(source: URL, where: string, v: unknown, empty = true): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^([0-9a-f]{2})*$/.test(v) || (!empty && v.length === 0)) {
    throw bad(source, where, 'must be lowercase hex with an even number of digits');
  }
  return v;
}

function strList(source: URL, where: string, v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw bad(source, where, 'must be an array of strings');
  return v.map((x, i) => str(source, `${where}[${i}]`, x, true)!);
}

function pcrIndex(source: URL, where: string, k: string): void {
  if (!/^(0|[1-9][0-9]?)$/.test(k) || Number(k) > 31)
    throw bad(source, where, `PCR index "${k}" is not 0..31`);
}

function pcrMap(source: URL, where: string, v: unknown, several: boolean): PcrExpectation | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw bad(source, where, 'must be an object {"<index>": "<hex>"}');
  const out: PcrExpectation = {};
  for (const [k, val] of Object.entries(v)) {
    pcrIndex(source, where, k);
    if (several && Array.isArray(val)) {
      if (val.length === 0) throw bad(source, `${where}.${k}`, 'must list at least one value');
      out[k] = val.map((x, i) => hex(source, `${where}.${k}[${i}]`, x, false)!);
    } else out[k] = hex(source, `${where}.${k}`, val, false)!;
  }
  return out;
}

function num(source: URL, where: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw bad(source, where, 'must be a non-negative integer');
  }
  return v;
}

function parseExpect(source: URL, where: string, v: unknown): Expectation {
  if (!isObject(v)) throw bad(source, where, 'must be an object with "result"');
  if (v.result === 'reject') {
    only(source, where, v, ['result', 'code', 'class']);
    const code = v.code;
    if (typeof code !== 'string' || !Object.hasOwn(ERROR_CODES, code)) {
      throw bad(source, `${where}.code`, 'must be one of the error codes of src/errors.ts');
    }
    const cls = ERROR_CODES[code as ErrorCode];
    if (v.class !== cls) throw bad(source, `${where}.class`, `must be "${cls}", the class of ${code}`);
    return { result: 'reject', code: code as ErrorCode, class: cls };
  }
  if (v.result === 'accept') {
    only(source, where, v, [
      'result',
      'pcrs',
      'documentKind',
      'describe',
      'cpioSha256',
      'gzipSha256',
      'entries',
      'cpioSize',
    ]);
    const out: Expectation = { result: 'accept' };
    if (v.documentKind !== undefined)
      out.documentKind = documentKind(source, `${where}.documentKind`, v.documentKind);
    const pcrs = pcrMap(source, `${where}.pcrs`, v.pcrs, false);
    if (pcrs) out.pcrs = pcrs as Record<string, string>;
    if (v.describe !== undefined) {
      if (!isObject(v.describe)) throw bad(source, `${where}.describe`, 'must be an object');
      out.describe = v.describe;
    }
    for (const k of ['cpioSha256', 'gzipSha256'] as const) {
      const h = hex(source, `${where}.${k}`, v[k], false);
      if (h !== undefined) {
        if (h.length !== 64) throw bad(source, `${where}.${k}`, 'must be 64 hex digits');
        out[k] = h;
      }
    }
    const entries = num(source, `${where}.entries`, v.entries);
    if (entries !== undefined) out.entries = entries;
    const cpioSize = num(source, `${where}.cpioSize`, v.cpioSize);
    if (cpioSize !== undefined) out.cpioSize = cpioSize;
    return out;
  }
  throw bad(source, `${where}.result`, 'must be "accept" or "reject"');
}

function documentKind(source: URL, where: string, v: unknown): DocumentKind {
  if (!DOCUMENT_KINDS.includes(v as DocumentKind))
    throw bad(source, where, 'must be "enclave" or "nitrotpm"');
  return v as DocumentKind;
}

function parseCase(source: URL, base: URL, optional: boolean, raw: unknown, i: number): VectorCase {
  const where = `cases[${i}]`;
  if (!isObject(raw)) throw bad(source, where, 'must be an object');
  only(source, where, raw, ['id', 'kind', 'description', 'input', 'options', 'expect']);
  const id = str(source, `${where}.id`, raw.id, true)!;
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(id) || id.split('/').some((s) => /^\.+$/.test(s))) {
    throw bad(source, `${where}.id`, 'must be path-like: letters, digits, . _ - separated by /');
  }
  const w = `case ${id}`;
  const kind = raw.kind as VectorKind;
  if (!KINDS.includes(kind)) throw bad(source, `${w}.kind`, `must be one of ${KINDS.join(', ')}`);
  const description = str(source, `${w}.description`, raw.description, true)!;
  const input = raw.input;
  const options = raw.options ?? {};
  if (!isObject(input)) throw bad(source, `${w}.input`, 'must be an object');
  if (!isObject(options)) throw bad(source, `${w}.options`, 'must be an object');
  const expect = parseExpect(source, `${w}.expect`, raw.expect);
  const common = { id, description, expect, base, source, optional };

  if (kind === 'attestation') {
    only(source, `${w}.input`, input, ['file']);
    only(source, `${w}.options`, options, [
      'trustedRoots',
      'at',
      'expectedPcrs',
      'nonce',
      'userData',
      'publicKey',
      'maxAgeMs',
      'clockSkewMs',
      'allowDebug',
      'documentKind',
    ]);
    const at = str(source, `${w}.options.at`, options.at);
    if (at !== undefined && at !== 'document' && Number.isNaN(Date.parse(at))) {
      throw bad(source, `${w}.options.at`, 'must be an ISO 8601 instant or "document"');
    }
    if (options.allowDebug !== undefined && typeof options.allowDebug !== 'boolean') {
      throw bad(source, `${w}.options.allowDebug`, 'must be a boolean');
    }
    const o: AttestationCase['options'] = {};
    const roots = strList(source, `${w}.options.trustedRoots`, options.trustedRoots);
    if (roots) o.trustedRoots = roots;
    if (at !== undefined) o.at = at;
    const pcrs = pcrMap(source, `${w}.options.expectedPcrs`, options.expectedPcrs, true);
    if (pcrs) o.expectedPcrs = pcrs;
    for (const k of ['nonce', 'userData', 'publicKey'] as const) {
      const h = hex(source, `${w}.options.${k}`, options[k]);
      if (h !== undefined) o[k] = h;
    }
    for (const k of ['maxAgeMs', 'clockSkewMs'] as const) {
      const n = num(source, `${w}.options.${k}`, options[k]);
      if (n !== undefined) o[k] = n;
    }
    if (options.allowDebug !== undefined) o.allowDebug = options.allowDebug as boolean;
    if (options.documentKind !== undefined)
      o.documentKind = documentKind(source, `${w}.options.documentKind`, options.documentKind);
    return {
      ...common,
      kind,
      input: { file: str(source, `${w}.input.file`, input.file, true)! },
      options: o,
    };
  }
  if (kind === 'eif') {
    only(source, `${w}.input`, input, ['file']);
    only(source, `${w}.options`, options, []);
    return {
      ...common,
      kind,
      input: { file: str(source, `${w}.input.file`, input.file, true)! },
      options: {},
    };
  }
  if (kind === 'ramdisk') {
    only(source, `${w}.input`, input, [
      'recipe',
      'app',
      'overlays',
      'archive',
      'image',
      'kernel',
      'cmdline',
      'init',
      'nsm',
    ]);
    only(source, `${w}.options`, options, []);
    const recipe = input.recipe;
    if (recipe === 'caution') {
      const app = str(source, `${w}.input.app`, input.app, true)!;
      const overlays = strList(source, `${w}.input.overlays`, input.overlays) ?? [];
      return { ...common, kind, input: { recipe, app, overlays }, options: {} };
    }
    if (recipe === 'read') {
      const archive = str(source, `${w}.input.archive`, input.archive, true)!;
      return { ...common, kind, input: { recipe, archive }, options: {} };
    }
    if (recipe === 'nitro-cli') {
      const image = str(source, `${w}.input.image`, input.image, true)!;
      const blobs = (['kernel', 'cmdline', 'init', 'nsm'] as const).map((k) =>
        str(source, `${w}.input.${k}`, input[k]),
      );
      const given = blobs.filter((b) => b !== undefined).length;
      if (given !== 0 && given !== 4)
        throw bad(source, `${w}.input`, 'kernel, cmdline, init and nsm go together');
      const [kernel, cmdline, init, nsm] = blobs;
      return {
        ...common,
        kind,
        input: { recipe, image, ...(given === 4 ? { kernel, cmdline, init, nsm } : {}) },
        options: {},
      };
    }
    throw bad(source, `${w}.input.recipe`, 'must be "caution", "nitro-cli" or "read"');
  }
  only(source, `${w}.input`, input, ['file']);
  only(source, `${w}.options`, options, ['target']);
  const target = str(source, `${w}.options.target`, options.target);
  return {
    ...common,
    kind,
    input: { file: str(source, `${w}.input.file`, input.file, true)! },
    options: target === undefined ? {} : { target },
  };
}

/**
 * Parse one vector JSON file: either a suite index (`include`) or a case file (`cases`).
 * `source` is the file's URL; relative paths inside resolve against it.
 *
 * @example
 * ```ts
 * const parsed = parseVectorFile(JSON.parse(text), new URL('file:///v/suite.json'));
 * if (parsed.type === 'index') console.log(parsed.include.map((u) => u.href));
 * ```
 */
export function parseVectorFile(
  json: unknown,
  source: URL,
): { type: 'index'; include: URL[] } | { type: 'cases'; base: URL; optional: boolean; cases: VectorCase[] } {
  if (!isObject(json)) throw bad(source, 'top level', 'must be a JSON object');
  if (json.format !== VECTOR_FORMAT) throw bad(source, 'format', `must be "${VECTOR_FORMAT}"`);
  if (json.include !== undefined) {
    only(source, 'top level', json, ['format', 'description', 'include']);
    const include = strList(source, 'include', json.include) ?? [];
    return { type: 'index', include: include.map((p) => new URL(p, source)) };
  }
  only(source, 'top level', json, ['format', 'description', 'base', 'optional', 'cases']);
  if (!Array.isArray(json.cases)) throw bad(source, 'cases', 'must be an array (or give "include")');
  if (json.optional !== undefined && typeof json.optional !== 'boolean') {
    throw bad(source, 'optional', 'must be a boolean');
  }
  const baseRel = str(source, 'base', json.base);
  const base = new URL(
    baseRel === undefined ? './' : baseRel.endsWith('/') ? baseRel : `${baseRel}/`,
    source,
  );
  const optional = json.optional === true;
  const cases = json.cases.map((c, i) => parseCase(source, base, optional, c, i));
  return { type: 'cases', base, optional, cases };
}

/**
 * Files a case reads, as URLs (for existence checks and command placeholders).
 *
 * @example
 * ```ts
 * caseFiles(c).map((u) => u.href);
 * ```
 */
export function caseFiles(c: VectorCase): URL[] {
  const r = (p: string) => new URL(p, c.base);
  switch (c.kind) {
    case 'attestation':
      return [r(c.input.file), ...(c.options.trustedRoots ?? []).map(r)];
    case 'ramdisk':
      if (c.input.recipe === 'nitro-cli') {
        return [c.input.image, c.input.kernel, c.input.cmdline, c.input.init, c.input.nsm]
          .filter((p): p is string => p !== undefined)
          .map(r);
      }
      return c.input.recipe === 'caution'
        ? [r(c.input.app!), ...(c.input.overlays ?? []).map(r)]
        : [r(c.input.archive!)];
    default:
      return [r(c.input.file)];
  }
}

/**
 * Glob over case ids: `*` matches within one `/`-separated segment, `**` across segments,
 * `?` one character. Used by `--only`.
 *
 * @example
 * ```ts
 * globToRegExp('attestation/**').test('attestation/synthetic/ok'); // true
 * ```
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
