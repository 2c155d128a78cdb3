/**
 * `enclave-verify verify <file|->`: verify one attestation document and print the report; with
 * several files or a directory, a batch audit (`verify-batch.ts`).
 *
 * Expectations (PCRs) come from several flags; they are gathered by {@link assembleExpectations},
 * the one place to extend when adding a new source (e.g. PCRs measured from an EIF or its parts).
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EnclaveVerifyError } from '../../errors.js';
import { expectedPcrsFromEif, expectedPcrsFromParts } from '../../measure/node/parts.js';
import { decodeDocumentInput } from '../../parse/input.js';
import { MAX_INPUT_BYTES } from '../../parse/limits.js';
import type { AttestationKind } from '../../parse/payload.js';
import {
  type ExpectedPcrs,
  mergeExpectedPcrs,
  normalizeExpectedPcrs,
  parseExpectedPcrs,
} from '../../policy/expected-pcrs.js';
import { describeRebuild, expectedPcrsFromRecipe, rebuildJson } from '../../rebuild/node/expected.js';
import { verificationJson } from '../../report/attestation-json.js';
import { renderVerificationText } from '../../report/attestation-text.js';
import { ByteChunks, fromBase64, fromHex, utf8 } from '../../util/bytes.js';
import { printable } from '../../util/terminal-text.js';
import { checkAttestation, type VerifyOptions } from '../../verify.js';
import {
  cannotRead,
  parseAtFlag,
  parseDurationFlag,
  readFileBytes,
  readFileText,
  readRootFile,
} from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT, exitCodeFor } from '../context.js';
import { requireExpectation } from '../expectation-required.js';
import {
  REVOCATION_FLAGS,
  type RevocationFlagValues,
  revocationFromFlags,
  revocationHelp,
} from '../revocation-flags.js';
import { defaultJobs, MAX_JOBS, runBatch } from './verify-batch.js';

/** Flags of `verify` (node:util parseArgs configuration). Add new expectation flags here. */
export const VERIFY_FLAGS = {
  root: { type: 'string', multiple: true },
  at: { type: 'string' },
  pcr: { type: 'string', multiple: true },
  'expect-pcrs': { type: 'string' },
  target: { type: 'string' },
  eif: { type: 'string' },
  kernel: { type: 'string' },
  cmdline: { type: 'string' },
  ramdisk: { type: 'string', multiple: true },
  rebuild: { type: 'string' },
  nonce: { type: 'string' },
  'user-data': { type: 'string' },
  'public-key': { type: 'string' },
  'max-age': { type: 'string' },
  'clock-skew': { type: 'string' },
  'allow-debug': { type: 'boolean' },
  ...REVOCATION_FLAGS,
  jobs: { type: 'string' },
  'any-pcrs': { type: 'boolean' },
  kind: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parsed flag values of `verify`. */
export type VerifyFlagValues = Partial<Record<keyof typeof VERIFY_FLAGS, string | string[] | boolean>>;

const HELP = `usage: enclave-verify verify <file|-> [options]
       enclave-verify verify <file|dir>... [--jobs N] [options]   (batch audit)

Verify an AWS Nitro attestation document (a Nitro Enclave's, or an EC2 instance's NitroTPM's):
strict parse, certificate chain to the pinned AWS Nitro root, COSE ES384 signature, debug mode,
then the expectations you give. An expectation is required: --pcr, --expect-pcrs, --eif,
--kernel/--cmdline/--ramdisk or --rebuild; --any-pcrs checks genuineness only.
The input may be raw CBOR, base64, hex, or endpoint JSON {"document": "<base64>"}; '-' reads stdin.

options:
  --root FILE           trust this root (PEM or DER) instead of the AWS root (repeatable; test PKIs)
  --at ISO|now|document verification time (default now; 'document' = the document's own timestamp,
                        for audits of past evidence); ISO with Z or an offset: 2025-12-23T17:20:16Z
  --pcr N=HEX           expected PCR value (repeatable; several values for one N = any of them)
  --expect-pcrs FILE    expected PCRs from nitro-cli/describe-eif JSON, eif_build .pcrs, 'PCRn: hex'
                        lines, a {"0": hex} map, or a Caution canary config
  --target ID           target of a canary config given to --expect-pcrs
  --eif FILE            expected PCR0/1/2 (and 8 if signed) measured from this EIF
  --kernel FILE --cmdline STRING --ramdisk FILE...
                        expected PCR0/1/2 measured from the parts eif_build would assemble
  --rebuild RECIPE      expected PCR0/1/2 rebuilt from sources: the ramdisk rebuilt byte for byte
                        from the recipe file's app and overlays (as \`rebuild\` does), measured with
                        its kernel and cmdline; RECIPE is JSON, paths relative to it:
                        {"recipe": "caution", "app": "app.tar", "overlays": ["enclaveos.tar"],
                         "kernel": "bzImage", "cmdline": "..." (optional, default Caution's)}
  --nonce VALUE         expected nonce: HEX, base64:B64, text:STRING or file:PATH
  --user-data VALUE     expected user data (same forms)
  --public-key VALUE    expected public key (same forms)
  --max-age DURATION    refuse documents older than this at the verification time (e.g. 5m, 30s)
  --clock-skew DURATION tolerance for documents dated in the future (default 60s); it does not
                        widen --max-age
  --any-pcrs            expect no PCRs: check only that the document is genuine, NOT which code
                        runs (the report says so); without it an expectation above is required
  --kind enclave|nitrotpm
                        require this kind of document (default: either; the report names it)
  --allow-debug         accept debug-mode enclaves (PCR0..2 zero); never in production.
                        NitroTPM documents have no debug mode; for them an expected PCR still at
                        its reset value (all 00 or all ff: nothing measured) is a mismatch
${revocationHelp(24)}  --json                print one JSON object { ok, code?, message?, document, checks, ... }
  --jobs N              batch: documents verified at once (default 4 per CPU)
  --help                show this help

Batch audit: with several files, a directory (read recursively) or --jobs, every file is verified
with the same options and one shared certificate cache, one line per file in input order (files
in a directory in the order the file system lists them), then a summary line ("N files: V
verified, R rejected (CODE count, ...)"); --json prints JSON Lines, each with "file", then
{"summary": ...}. A file that cannot be read or is not a document gets its own REJECTED line.
Exit 0 only when every file verified, else 1.

DURATION: a number with ms, s, m, h or d (e.g. 500ms, 30s, 5m); a bare number is seconds;
at most 2147483647ms (24d 20h 31m 23.647s).
exit codes: 0 verified, 1 rejected, 2 usage or input error
`;

function usage(message: string): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_USAGE', `${message} (see enclave-verify verify --help)`);
}

/**
 * Read a document argument: a path, or `-` for standard input. Bounded to the largest input the
 * parser accepts, so a huge file or endless stream is refused instead of buffered.
 *
 * @example
 * ```ts
 * const raw = await readInputArgument('-', ctx);
 * ```
 */
export async function readInputArgument(arg: string, ctx: CliContext): Promise<Uint8Array> {
  const tooLarge = () =>
    new EnclaveVerifyError(
      'ERR_INPUT_TOO_LARGE',
      `the input is larger than ${MAX_INPUT_BYTES} bytes; an attestation document is about 5 KB, check the file`,
    );
  if (arg === '-') {
    const chunks = new ByteChunks();
    for await (const chunk of ctx.stdin) {
      const bytes = typeof chunk === 'string' ? utf8(chunk) : new Uint8Array(chunk as Uint8Array);
      if (chunks.length + bytes.length > MAX_INPUT_BYTES) throw tooLarge();
      chunks.push(bytes);
    }
    return chunks.join();
  }
  const path = resolve(ctx.cwd, arg);
  try {
    if ((await stat(path)).size > MAX_INPUT_BYTES) throw tooLarge();
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if (e instanceof EnclaveVerifyError) throw e;
    throw cannotRead(arg, e);
  }
}

function readText(arg: string, flag: string, ctx: CliContext): Promise<string> {
  return readFileText(resolve(ctx.cwd, arg), `${flag} ${arg}`);
}

/**
 * Bytes of a value flag: `HEX`, `hex:HEX`, `base64:B64`, `text:STRING` or `file:PATH`.
 *
 * @example
 * ```ts
 * await parseBytesFlag('base64:AAEC', '--nonce', ctx); // Uint8Array [0, 1, 2]
 * ```
 */
export async function parseBytesFlag(value: string, flag: string, ctx: CliContext): Promise<Uint8Array> {
  const colon = value.indexOf(':');
  const kind = colon > 0 ? value.slice(0, colon) : 'hex';
  const rest = colon > 0 ? value.slice(colon + 1) : value;
  try {
    switch (kind) {
      case 'hex':
        return fromHex(rest.replace(/^0x/i, ''), flag);
      case 'base64':
        return fromBase64(rest, flag);
      case 'text':
        return utf8(rest);
      case 'file':
        return await readFileBytes(resolve(ctx.cwd, rest), `${flag} ${value}`);
      default:
        throw usage(`${flag} must be HEX, base64:B64, text:STRING or file:PATH`);
    }
  } catch (e) {
    // A file that cannot be read is ERR_IO, as for every other file named on the command line.
    if (e instanceof EnclaveVerifyError && (e.code === 'ERR_USAGE' || e.code === 'ERR_IO')) throw e;
    throw usage(`${flag} '${value.slice(0, 24)}' is not valid: ${(e as Error).message}`);
  }
}

/**
 * Milliseconds of a duration like `500ms`, `30s`, `5m`, `2h`, `1d` (a bare number is seconds).
 *
 * @example
 * ```ts
 * parseDuration('5m', '--max-age'); // 300000
 * ```
 */
export function parseDuration(text: string, flag: string): number {
  return parseDurationFlag(text, flag, usage, ['ms', 's', 'm', 'h', 'd'], '30s, 5m or 2h');
}

/**
 * The verification time of `--at`: `now` (default), `document`, or an ISO 8601 instant with `Z`
 * or an offset (see `parseAtFlag`).
 *
 * @example
 * ```ts
 * parseAt('2025-12-23T17:20:16Z'); // Date
 * ```
 */
export function parseAt(text: string | undefined): Date | 'document' | undefined {
  return parseAtFlag(text, '--at', usage);
}

/** One source of expected PCRs, described for the report. */
export interface ExpectationSource {
  /** The flag that gave it, e.g. `--pcr`, `--expect-pcrs`. */
  flag: string;
  /** What was read, e.g. a path and target. */
  describe: string;
  pcrs: ExpectedPcrs;
  /** Report lines when one line is not enough (sources rebuilt from a recipe). */
  lines?: string[];
  /** Extra fields of the source's `measuredFrom` JSON entry. */
  details?: Record<string, unknown>;
}

/**
 * Gather the expected PCRs of every expectation flag. To add a source (for example PCRs measured
 * from an EIF), declare its flag in {@link VERIFY_FLAGS} and push one more {@link ExpectationSource}
 * here; the verifier merges all sources (several values per index mean "any of them").
 *
 * @example
 * ```ts
 * const sources = await assembleExpectations({ pcr: ['0=' + hex] }, ctx);
 * ```
 */
export async function assembleExpectations(
  values: VerifyFlagValues,
  ctx: CliContext,
): Promise<ExpectationSource[]> {
  const sources: ExpectationSource[] = [];
  for (const p of (values.pcr as string[] | undefined) ?? []) {
    const m = /^\s*(?:pcr)?(\d{1,2})\s*[=:]\s*(?:0x)?([0-9a-fA-F]+)\s*$/i.exec(p);
    if (!m) throw usage(`--pcr '${p.slice(0, 40)}' is not N=HEX (e.g. --pcr 0=5362...)`);
    sources.push({ flag: '--pcr', describe: `PCR${m[1]}`, pcrs: normalizeExpectedPcrs({ [m[1]!]: m[2]! }) });
  }
  const file = values['expect-pcrs'] as string | undefined;
  const target = values.target as string | undefined;
  if (target !== undefined && file === undefined) throw usage('--target needs --expect-pcrs FILE');
  if (file !== undefined) {
    const text = await readText(file, '--expect-pcrs', ctx);
    const pcrs = parseExpectedPcrs(text, target === undefined ? {} : { target });
    sources.push({ flag: '--expect-pcrs', describe: target ? `${file} (target ${target})` : file, pcrs });
  }
  // Measured sources: the description names every measured part and its size.
  const eif = values.eif as string | undefined;
  if (eif !== undefined) {
    const m = await expectedPcrsFromEif(resolve(ctx.cwd, eif));
    sources.push({
      flag: '--eif',
      describe: m.description.filter((d) => !d.startsWith('PCR')).join(', '),
      pcrs: m.expected,
    });
  }
  const ramdisks = (values.ramdisk as string[] | undefined) ?? [];
  if (values.kernel !== undefined || values.cmdline !== undefined || ramdisks.length > 0) {
    if (values.kernel === undefined || values.cmdline === undefined || ramdisks.length === 0) {
      throw usage('measuring expected PCRs from parts needs --kernel, --cmdline and at least one --ramdisk');
    }
    const m = await expectedPcrsFromParts({
      kernel: resolve(ctx.cwd, values.kernel as string),
      cmdline: values.cmdline as string,
      ramdisks: ramdisks.map((r) => resolve(ctx.cwd, r)),
    });
    sources.push({
      flag: '--kernel',
      describe: m.description.filter((d) => !d.startsWith('PCR')).join(', '),
      pcrs: m.expected,
    });
  }
  const recipe = values.rebuild as string | undefined;
  if (recipe !== undefined) {
    const r = await expectedPcrsFromRecipe(resolve(ctx.cwd, recipe));
    sources.push({
      flag: '--rebuild',
      describe: `sources rebuilt with recipe ${recipe}`,
      pcrs: r.expected,
      lines: describeRebuild(r),
      details: rebuildJson(r),
    });
  }
  return sources;
}

/**
 * Verification options from parsed flags (expectations, roots, time, nonce...).
 *
 * @example
 * ```ts
 * const options = await verifyOptionsFromFlags(values, ctx);
 * ```
 */
export async function verifyOptionsFromFlags(
  values: VerifyFlagValues,
  ctx: CliContext,
  sourcesOut?: ExpectationSource[],
): Promise<VerifyOptions> {
  const options: VerifyOptions = {};
  const sources = await assembleExpectations(values, ctx);
  sourcesOut?.push(...sources);
  if (sources.length > 0) options.expectedPcrs = mergeExpectedPcrs(...sources.map((s) => s.pcrs));
  const roots = (values.root as string[] | undefined) ?? [];
  if (roots.length > 0)
    options.trustedRoots = await Promise.all(roots.map((r) => readRootFile(resolve(ctx.cwd, r), r)));
  const at = parseAt(values.at as string | undefined);
  if (at !== undefined) options.currentDate = at;
  if (values.nonce !== undefined)
    options.nonce = await parseBytesFlag(values.nonce as string, '--nonce', ctx);
  if (values['user-data'] !== undefined) {
    options.userData = await parseBytesFlag(values['user-data'] as string, '--user-data', ctx);
  }
  if (values['public-key'] !== undefined) {
    options.publicKey = await parseBytesFlag(values['public-key'] as string, '--public-key', ctx);
  }
  if (values['max-age'] !== undefined)
    options.maxAgeMs = parseDuration(values['max-age'] as string, '--max-age');
  if (values['clock-skew'] !== undefined) {
    options.clockSkewMs = parseDuration(values['clock-skew'] as string, '--clock-skew');
  }
  if (values['allow-debug']) options.allowDebug = true;
  if (values.kind !== undefined) options.kind = parseKind(values.kind as string);
  const revocation = await revocationFromFlags(values as RevocationFlagValues, ctx);
  if (revocation) options.checkRevocation = revocation;
  return options;
}

// Several paths, --jobs, or one directory: a batch audit (one line per file).
async function isBatch(paths: string[], jobs: string | undefined, ctx: CliContext): Promise<boolean> {
  if (paths.length > 1 || jobs !== undefined) return true;
  if (paths[0] === '-') return false;
  return stat(resolve(ctx.cwd, paths[0]!)).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

function parseJobs(text: string): number {
  const n = /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= MAX_JOBS))
    throw usage(`--jobs '${text.slice(0, 16)}' must be a whole number from 1 to ${MAX_JOBS}`);
  return n;
}

/**
 * The document kind of `--kind`: `enclave` or `nitrotpm`.
 *
 * @example
 * ```ts
 * parseKind('nitrotpm'); // 'nitrotpm'
 * ```
 */
export function parseKind(text: string): AttestationKind {
  if (text === 'enclave' || text === 'nitrotpm') return text;
  throw usage(`--kind '${text.slice(0, 24)}' is not a document kind: give enclave or nitrotpm`);
}

function parseFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: VERIFY_FLAGS, allowPositionals: true, strict: true });
  } catch (e) {
    throw usage((e as Error).message);
  }
}

/**
 * Run `verify`.
 *
 * @example
 * ```ts
 * const code = await run(['doc.cbor', '--at', 'document', '--expect-pcrs', 'enclave.pcrs', '--json'], ctx);
 * ```
 */
export const run: Command = async (argv, ctx) => {
  const { values, positionals } = parseFlags(argv);
  if (values.help) {
    ctx.stdout.write(HELP);
    return EXIT.VERIFIED;
  }
  if (positionals.length === 0) throw usage('give a document: a file path or - for stdin');
  requireExpectation('verify', values);
  if (await isBatch(positionals, values.jobs, ctx)) {
    if (positionals.includes('-')) throw usage("'-' (stdin) cannot be part of a batch; give files");
    const jobs = values.jobs === undefined ? defaultJobs() : parseJobs(values.jobs);
    const options = await verifyOptionsFromFlags(values, ctx);
    const revocation = values as RevocationFlagValues;
    return runBatch(positionals, options, jobs, values.json === true, ctx, {
      ...(options.checkRevocation ? { revocation } : {}),
    });
  }
  const sources: ExpectationSource[] = [];
  const options = await verifyOptionsFromFlags(values, ctx, sources);
  const bytes = decodeDocumentInput(await readInputArgument(positionals[0]!, ctx));
  const report = await checkAttestation(bytes, options);
  // Say what measured expectations were computed from (EIF sections, part files with sizes, or
  // every source of a rebuild with its SHA-256).
  const measured = sources.filter((s) => ['--eif', '--kernel', '--rebuild'].includes(s.flag));
  if (values.json) {
    const extra = measured.length
      ? { measuredFrom: measured.map((s) => ({ flag: s.flag, describe: s.describe, ...s.details })) }
      : {};
    ctx.stdout.write(`${JSON.stringify({ ...verificationJson(report), ...extra })}\n`);
  } else {
    ctx.stdout.write(renderVerificationText(report));
    for (const s of measured) {
      // File names given on the command line: one neutralised line each.
      if (s.lines) ctx.stdout.write(`${s.lines.map(printable).join('\n')}\n`);
      else ctx.stdout.write(`expected PCRs measured from ${printable(s.describe)}\n`);
    }
  }
  return report.ok ? EXIT.VERIFIED : exitCodeFor(report.error);
};
