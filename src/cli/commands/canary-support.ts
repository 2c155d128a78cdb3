/**
 * What the `canary` sub-commands share: the verdict object and its text and `--json` renderings,
 * exit codes (0 valid, 1 invalid, 2 usage or input error), and readers for the trust inputs they
 * take (expected PCRs, pinned keys, roots, CAs, the verification time).
 */

import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type ParsedKeysDocument, parseKeysDocument } from '../../canary/keys.js';
import { printable } from '../../deployment/response.js';
import { EnclaveVerifyError, type ErrorCode } from '../../errors.js';
import { type ExpectedPcrs, normalizeExpectedPcrs, parseExpectedPcrs } from '../../policy/expected-pcrs.js';
import { toHex } from '../../util/bytes.js';
import { parseInstant } from '../../util/instant.js';
import { cannotRead, readFileBytes, readFileText, readRootFile, usageError } from '../args.js';
import type { CliContext } from '../context.js';
import { EXIT } from '../context.js';

/** The outcome of a canary command: printed as one JSON object or as text lines. */
export interface CanaryVerdict {
  ok: boolean;
  /** Null when ok; the stable error code otherwise. */
  code: ErrorCode | null;
  message?: string;
  /** Exit 2 instead of 1: the user's own input (flags, files given as trust) was unusable. */
  inputError?: boolean;
  /** Decoded fields and digests. */
  fields: Record<string, unknown>;
  /** Text lines after the verdict line (values already made printable by the renderer). */
  lines?: string[];
}

/** Codes that are the user's input errors whatever the command (exit 2). */
const INPUT_CODES: readonly ErrorCode[] = [
  'ERR_USAGE',
  'ERR_IO',
  'ERR_INPUT_FORMAT',
  'ERR_EXPECTED_PCRS_FORMAT',
];

/**
 * The usage error of `enclave-verify canary <sub>`.
 *
 * @example
 * ```ts
 * throw canaryUsage('verify-statement', 'give exactly one statement file');
 * ```
 */
export function canaryUsage(sub: string, message: string): EnclaveVerifyError {
  return usageError(`canary ${sub}`, message);
}

/**
 * A failed verdict from an error; `inputError` marks errors in what the user gave as trust.
 *
 * @example
 * ```ts
 * return failure(e, { file });
 * ```
 */
export function failure(e: unknown, fields: Record<string, unknown> = {}, inputError = false): CanaryVerdict {
  if (!(e instanceof EnclaveVerifyError)) throw e;
  return {
    ok: false,
    code: e.code,
    message: e.message,
    inputError: inputError || INPUT_CODES.includes(e.code),
    fields: { ...fields, ...(e.details ? { details: e.details } : {}) },
  };
}

/**
 * Print a verdict and return its exit code. JSON: `{ok, code, message?, command, ...fields}` on
 * stdout. Text: `VALID: <summary>` or `INVALID <CODE>: <message>` then the detail lines, every
 * value passed through `printable` because statements and bundles are hostile text.
 *
 * @example
 * ```ts
 * return printVerdict(ctx, verdict, { json: values.json, command: 'check-keys', summary: 'keys document' });
 * ```
 */
export function printVerdict(
  ctx: CliContext,
  verdict: CanaryVerdict,
  options: { json: boolean | undefined; command: string; summary: string },
): number {
  const code = verdict.ok ? EXIT.VERIFIED : verdict.inputError ? EXIT.USAGE : EXIT.REJECTED;
  if (options.json) {
    const out = {
      ok: verdict.ok,
      code: verdict.code,
      ...(verdict.message ? { message: verdict.message } : {}),
      command: `canary ${options.command}`,
      ...verdict.fields,
    };
    ctx.stdout.write(`${JSON.stringify(out, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
    return code;
  }
  const head = verdict.ok
    ? `VALID: ${options.summary}`
    : `${verdict.inputError ? 'ERROR' : 'INVALID'} ${verdict.code}: ${verdict.message ?? ''}`;
  const lines = [head, ...(verdict.lines ?? [])].map((l) => printable(l));
  (verdict.ok || !verdict.inputError ? ctx.stdout : ctx.stderr).write(`${lines.join('\n')}\n`);
  return code;
}

/**
 * Expected PCR0/1/2 for Canary checks from `--expect-pcrs FILE` (any format `verify` reads,
 * Caution's `trusted_hashes.json`, canaryctl's `{"pcr0","pcr1","pcr2"}`, a canary config with
 * `--target`) and/or `--pcr N=HEX`. PCR0, 1 and 2 are required, one value each.
 *
 * @example
 * ```ts
 * const expected = await readCanaryPcrs(ctx, values['expect-pcrs'], values.pcr, values.target, 'verify-evidence');
 * ```
 */
export async function readCanaryPcrs(
  ctx: CliContext,
  file: string | undefined,
  flags: string[] | undefined,
  target: string | undefined,
  sub: string,
): Promise<ExpectedPcrs> {
  const out: ExpectedPcrs = new Map();
  if (file !== undefined) {
    const text = await readCanaryText(ctx, file, '--expect-pcrs');
    for (const [i, v] of parseExpectedPcrs(text, target === undefined ? {} : { target })) out.set(i, v);
  }
  for (const flag of flags ?? []) {
    const m = /^(\d{1,2})=([0-9a-fA-F]+)$/.exec(flag.trim());
    if (!m) throw canaryUsage(sub, `--pcr '${flag}' is not N=HEX`);
    for (const [i, v] of normalizeExpectedPcrs({ [m[1]!]: m[2]! })) out.set(i, [...(out.get(i) ?? []), ...v]);
  }
  if (file === undefined && (flags ?? []).length === 0) {
    throw canaryUsage(
      sub,
      'say which PCRs to expect: --expect-pcrs FILE or --pcr 0=HEX --pcr 1=HEX --pcr 2=HEX',
    );
  }
  for (const i of [0, 1, 2]) {
    const values = out.get(i);
    if (!values || values.length === 0)
      throw canaryUsage(sub, `expected PCR${i} is missing: Canary checks PCR0, PCR1 and PCR2`);
    if (values.length > 1)
      throw canaryUsage(sub, `give one expected value for PCR${i}, not ${values.length}`);
    if (values[0]!.length !== 48) throw canaryUsage(sub, `expected PCR${i} must be 48 bytes (96 hex digits)`);
  }
  return out;
}

/**
 * Expected PCRs as `{"0": hex, ...}` for JSON output.
 *
 * @example
 * ```ts
 * pcrsRecord(expected); // { '0': 'ef09...', '1': ..., '2': ... }
 * ```
 */
export function pcrsRecord(expected: ExpectedPcrs): Record<string, string> {
  return Object.fromEntries([...expected].map(([i, v]) => [String(i), toHex(v[0]!)]));
}

/** Canary artifacts and trust files are kilobytes; a larger file is refused before it is read. */
export const MAX_CANARY_FILE = 1024 * 1024;

/**
 * The bytes of a file the canary commands read, refused (`ERR_INPUT_TOO_LARGE`, exit 2) above
 * 1 MiB (exit 1, as for oversized documents) so a hostile or mistaken path cannot make us buffer
 * gigabytes.
 *
 * @example
 * ```ts
 * const bytes = await readCanaryFile(ctx, 'statement.json', 'statement');
 * ```
 */
export async function readCanaryFile(ctx: CliContext, file: string, what: string): Promise<Uint8Array> {
  const path = resolve(ctx.cwd, file);
  const info = await stat(path).catch((cause) => Promise.reject(cannotRead(`${what} ${file}`, cause)));
  if (info.size > MAX_CANARY_FILE) {
    throw new EnclaveVerifyError(
      'ERR_INPUT_TOO_LARGE',
      `${what} ${file} is ${info.size} bytes; Canary artifacts are at most ${MAX_CANARY_FILE} bytes here: check the file`,
    );
  }
  return readFileBytes(path, `${what} ${file}`);
}

/**
 * The UTF-8 text of a file read with {@link readCanaryFile}.
 *
 * @example
 * ```ts
 * const text = await readCanaryText(ctx, 'canary.json', 'config');
 * ```
 */
export async function readCanaryText(ctx: CliContext, file: string, what: string): Promise<string> {
  return new TextDecoder().decode(await readCanaryFile(ctx, file, what));
}

/**
 * A pinned keys file (`--trusted-keys`), parsed with the V0 key-set rules; a bad file is the
 * user's input error (exit 2).
 *
 * @example
 * ```ts
 * const keys = await readTrustedKeys(ctx, values['trusted-keys']!);
 * ```
 */
export async function readTrustedKeys(ctx: CliContext, file: string): Promise<ParsedKeysDocument> {
  const bytes = await readCanaryFile(ctx, file, '--trusted-keys');
  try {
    return parseKeysDocument(bytes);
  } catch (e) {
    if (!(e instanceof EnclaveVerifyError)) throw e;
    throw new EnclaveVerifyError('ERR_INPUT_FORMAT', `--trusted-keys ${file}: ${e.message}`, { cause: e });
  }
}

/**
 * Trust anchors from `--root` files (PEM or DER), or undefined for the pinned AWS root.
 *
 * @example
 * ```ts
 * const roots = await readRoots(ctx, values.root);
 * ```
 */
export async function readRoots(
  ctx: CliContext,
  files: string[] | undefined,
): Promise<Uint8Array[] | undefined> {
  if (!files || files.length === 0) return undefined;
  return Promise.all(files.map((f) => readRootFile(resolve(ctx.cwd, f), f)));
}

/**
 * PEM text of `--ca` files.
 *
 * @example
 * ```ts
 * const ca = await readCas(ctx, values.ca);
 * ```
 */
export async function readCas(ctx: CliContext, files: string[] | undefined): Promise<string[] | undefined> {
  if (!files || files.length === 0) return undefined;
  return Promise.all(files.map((f) => readFileText(resolve(ctx.cwd, f), `--ca ${f}`)));
}

/**
 * The verification time of `--at now|ISO` (an ISO time must name its zone: `Z` or an offset).
 *
 * @example
 * ```ts
 * parseAtFlag('2026-07-17T12:01:00Z', 'verify-statement'); // Date
 * ```
 */
export function parseAtFlag(text: string | undefined, sub: string): Date {
  if (text === undefined || text === 'now') return new Date();
  // The one parser of typed times (as verify --at and the web page): zone required, real dates.
  try {
    return parseInstant(text, '--at');
  } catch (e) {
    throw canaryUsage(sub, `${(e as Error).message}; or give 'now'`);
  }
}
