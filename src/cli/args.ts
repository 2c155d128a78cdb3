/**
 * Argument and file helpers every command used to write for itself: strict flag parsing whose
 * failures are `ERR_USAGE`, the `--json`/`--format` choice, durations, and reading named files with
 * `ERR_IO` messages that say which file could not be read.
 */
import { readFile } from 'node:fs/promises';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { EnclaveVerifyError } from '../errors.js';
import { pemCertificateToDer } from '../measure/certificate.js';
import { loadTrustedRoots } from '../trust/roots.js';
import { MAX_DURATION_MS, MAX_DURATION_TEXT } from '../util/duration.js';
import { parseInstant } from '../util/instant.js';

/**
 * The `ERR_USAGE` error of `enclave-verify <command>`, pointing at its help.
 *
 * @example
 * ```ts
 * throw usageError('pcr', 'give exactly one of --input, --signing-certificate, --string');
 * ```
 */
export function usageError(command: string, message: string): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_USAGE', `${message}; see \`enclave-verify ${command} --help\``);
}

/**
 * `parseArgs`, strict (its default; `strict: false` is not accepted here); what it refuses
 * (unknown flags, missing values) becomes the error `usage` builds from its message.
 *
 * @example
 * ```ts
 * const { values } = parseFlags({ args: argv, options: { json: { type: 'boolean' } } }, (m) => usageError('pcr', m));
 * ```
 */
export function parseFlags<T extends ParseArgsConfig & { strict?: true }>(
  config: T,
  usage: (message: string) => Error,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw usage((e as Error).message);
  }
}

/**
 * The output format from `--json` and `--format`: `--json` means `json`, the two must not
 * disagree, and the format must be one of `formats`.
 *
 * @example
 * ```ts
 * outputFormat({ format: 'nitro-cli' }, ['hex', 'nitro-cli', 'json'], 'hex', usage); // 'nitro-cli'
 * ```
 */
export function outputFormat<F extends string>(
  values: { json?: boolean | undefined; format?: string | undefined },
  formats: readonly F[],
  fallback: F,
  usage: (message: string) => Error,
): F {
  if (values.json && values.format !== undefined && values.format !== 'json')
    throw usage('--json and --format disagree; give one');
  const format = values.json ? 'json' : (values.format ?? fallback);
  if (!(formats as readonly string[]).includes(format))
    throw usage(`unknown --format ${format} (expected ${formats.join(', ')})`);
  return format as F;
}

const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A unit a duration flag may use. */
export type DurationUnit = keyof typeof DURATION_UNITS;

/**
 * Milliseconds of a duration like `500ms`, `30s` or `5m` (a bare number is seconds), in one of
 * `units`, at most 2^31-1 ms (about 24.8 days: the longest delay `setTimeout` keeps, the one bound
 * of every duration flag); anything else is the error `usage` builds, naming `flag` and `examples`.
 *
 * @example
 * ```ts
 * parseDurationFlag('5m', '--max-age', usage, ['ms', 's', 'm', 'h', 'd'], '30s, 5m or 2h'); // 300000
 * ```
 */
export function parseDurationFlag(
  text: string,
  flag: string,
  usage: (message: string) => Error,
  units: readonly DurationUnit[],
  examples: string,
): number {
  const m = new RegExp(`^(\\d+(?:\\.\\d+)?)(${units.join('|')})?$`).exec(text.trim());
  if (!m) throw usage(`${flag} '${text}' is not a duration like ${examples}`);
  const ms = Math.round(Number(m[1]) * DURATION_UNITS[(m[2] ?? 's') as DurationUnit]);
  if (ms > MAX_DURATION_MS)
    throw usage(`${flag} '${text}' is longer than the longest duration, ${MAX_DURATION_TEXT}`);
  return ms;
}

/**
 * A verification-time flag: `now` or absent (undefined: the current time), `document` (the
 * document's own timestamp), or an ISO 8601 time that says its zone (`Z` or an offset), read by
 * the same `parseInstant` as the web page, so a time never depends on the machine's TZ.
 * Anything else is the error `usage` builds.
 *
 * @example
 * ```ts
 * parseAtFlag('2025-12-23T18:20:16+01:00', '--at', usage); // Date 2025-12-23T17:20:16.000Z
 * ```
 */
export function parseAtFlag(
  text: string | undefined,
  flag: string,
  usage: (message: string) => Error,
): Date | 'document' | undefined {
  if (text === undefined || text === 'now') return undefined;
  if (text === 'document') return 'document';
  try {
    return parseInstant(text, flag);
  } catch (e) {
    throw usage(`${(e as Error).message}; or give 'now' or 'document'`);
  }
}

/**
 * The bytes of the file at `path`; failure is `ERR_IO` "cannot read <what>: <reason>".
 *
 * @example
 * ```ts
 * const pem = await readFileBytes(path, `--root ${arg}`);
 * ```
 */
export async function readFileBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (cause) {
    throw cannotRead(what, cause);
  }
}

/**
 * The bytes of a `--root` file, PEM or DER, read as bytes (a DER file is not text) and parsed now,
 * so a wrong file is named in the error instead of failing later inside the chain check.
 *
 * @example
 * ```ts
 * options.trustedRoots = [await readRootFile(resolve(ctx.cwd, arg), arg)];
 * ```
 */
export async function readRootFile(path: string, arg: string): Promise<Uint8Array> {
  const bytes = await readFileBytes(path, `--root ${arg}`);
  try {
    await loadTrustedRoots([bytes]);
  } catch (e) {
    if (!(e instanceof EnclaveVerifyError)) throw e;
    throw new EnclaveVerifyError(e.code, `--root ${arg}: ${e.message}`, {
      cause: e,
      ...(e.details ? { details: { ...e.details } } : {}),
    });
  }
  return bytes;
}

/**
 * The DER of a `--signing-certificate` file, checked now: a file that is not a PEM X.509
 * certificate is the user's input error (`ERR_INPUT_FORMAT`, exit 2, naming the file), not a
 * damaged EIF signature, which is what the same check means inside an image.
 *
 * @example
 * ```ts
 * const der = await readSigningCertificate(resolve(ctx.cwd, arg), arg);
 * ```
 */
export async function readSigningCertificate(path: string, arg: string): Promise<Uint8Array> {
  const bytes = await readFileBytes(path, `--signing-certificate ${arg}`);
  try {
    return pemCertificateToDer(bytes);
  } catch (e) {
    if (!(e instanceof EnclaveVerifyError)) throw e;
    const problem = e.message
      .replace(/^signing certificate: /, '')
      .replace(/; rebuild the signed EIF.*$/, '');
    throw new EnclaveVerifyError(
      'ERR_INPUT_FORMAT',
      `--signing-certificate ${arg}: ${problem}; give the signer's X.509 certificate in PEM`,
      { cause: e },
    );
  }
}

/**
 * The UTF-8 text of the file at `path`; failure is `ERR_IO` "cannot read <what>: <reason>".
 *
 * @example
 * ```ts
 * const text = await readFileText(path, `--expect-pcrs ${arg}`);
 * ```
 */
export async function readFileText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw cannotRead(what, cause);
  }
}

/**
 * The `ERR_IO` error for a file that could not be read.
 *
 * @example
 * ```ts
 * stream.on('error', (e) => fail(cannotRead(`--eif ${path}`, e)));
 * ```
 */
export function cannotRead(what: string, cause: unknown): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_IO', `cannot read ${what}: ${(cause as Error).message}`, { cause });
}
