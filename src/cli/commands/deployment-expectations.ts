/**
 * The expectation flags `deployment` shares with `verify` (--pcr, --expect-pcrs, --eif, --root),
 * read into verification options plus one human line per source for reports.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { EnclaveVerifyError } from '../../errors.js';
import { expectedPcrsFromEif } from '../../measure/node/parts.js';
import {
  type ExpectedPcrs,
  mergeExpectedPcrs,
  normalizeExpectedPcrs,
  parseExpectedPcrs,
} from '../../policy/expected-pcrs.js';
import { describeRebuild, expectedPcrsFromRecipe, rebuildJson } from '../../rebuild/node/expected.js';
import { toHex } from '../../util/bytes.js';
import { sha256 } from '../../util/digest.js';
import { cannotRead, readFileBytes, readRootFile } from '../args.js';

/** Raw flag values. */
export interface ExpectationFlags {
  pcr?: string[] | undefined;
  expectPcrs?: string | undefined;
  /** Target id of a canary config given to --expect-pcrs. */
  target?: string | undefined;
  eif?: string | undefined;
  /** Recipe file: expected PCRs rebuilt from sources. */
  rebuild?: string | undefined;
  root?: string[] | undefined;
}

/** Options for the verifier, and a description of where each came from. */
export interface LoadedExpectations {
  options: { expectedPcrs?: ExpectedPcrs; trustedRoots?: Uint8Array[] };
  /** One line per input, with file SHA-256s so an audit record pins them. */
  describe: string[];
  /** Files read, resolved, for the re-check command line. */
  files: { flag: string; path: string }[];
  /**
   * Expected PCRs from every source except `--rebuild`, which the re-check command can state by
   * value; the rebuilt ones are re-checked by rebuilding again from the recipe file.
   */
  byValue: ExpectedPcrs;
  /** `measuredFrom` JSON entries: the EIF measured, or the sources rebuilt from a recipe, with SHA-256s. */
  measuredFrom: Record<string, unknown>[];
  /** `/manifest.json` of the ramdisk `--rebuild` rebuilt (authenticated by the rebuilt PCRs). */
  rebuiltManifest?: Uint8Array;
}

function read(path: string, flag: string): Promise<Uint8Array> {
  return readFileBytes(path, `${flag} ${path}`);
}

/** Streaming SHA-256 of a file: EIFs can be hundreds of MB. */
function fileSha256(path: string, flag: string): Promise<string> {
  return new Promise((done, fail) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('error', (cause) => fail(cannotRead(`${flag} ${path}`, cause)))
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => done(hash.digest('hex')));
  });
}

/**
 * `N=HEX` (also `PCRN=HEX`, `N:HEX`) as one expected PCR.
 *
 * @example
 * ```ts
 * parsePcrFlag('0=' + 'ab'.repeat(48)); // Map { 0 => [Uint8Array(48)] }
 * ```
 */
export function parsePcrFlag(text: string): ExpectedPcrs {
  const m = /^\s*(?:pcr)?(\d{1,2})\s*[=:]\s*(\S+)\s*$/i.exec(text);
  if (!m) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `--pcr '${text.slice(0, 40)}' is not N=HEX (e.g. --pcr 0=5362...)`,
    );
  }
  return normalizeExpectedPcrs({ [m[1]!]: m[2]! });
}

/**
 * Read the expectation flags. Relative paths resolve against `cwd`.
 *
 * @example
 * ```ts
 * const { options } = await loadExpectations({ eif: 'enclave.eif', root: ['root.pem'] }, process.cwd());
 * ```
 */
export async function loadExpectations(flags: ExpectationFlags, cwd: string): Promise<LoadedExpectations> {
  if (flags.target !== undefined && flags.expectPcrs === undefined) {
    throw new EnclaveVerifyError('ERR_USAGE', '--target needs --expect-pcrs FILE');
  }
  const sets: ExpectedPcrs[] = [];
  const describe: string[] = [];
  const files: { flag: string; path: string }[] = [];
  const fileLine = async (flag: string, path: string, bytes: Uint8Array) => {
    files.push({ flag, path });
    return `${flag} ${path} (SHA-256 ${toHex(await sha256(bytes))})`;
  };
  for (const p of flags.pcr ?? []) {
    const set = parsePcrFlag(p);
    sets.push(set);
    for (const [i, [v]] of set) describe.push(`--pcr ${i}=${toHex(v!)}`);
  }
  if (flags.expectPcrs) {
    const path = resolve(cwd, flags.expectPcrs);
    const bytes = await read(path, '--expect-pcrs');
    const target = flags.target;
    sets.push(parseExpectedPcrs(new TextDecoder().decode(bytes), target === undefined ? {} : { target }));
    describe.push(`${await fileLine('--expect-pcrs', path, bytes)}${target ? `, target ${target}` : ''}`);
  }
  const measuredFrom: Record<string, unknown>[] = [];
  if (flags.eif) {
    const path = resolve(cwd, flags.eif);
    const digest = await fileSha256(path, '--eif');
    const fromEif = await expectedPcrsFromEif(path);
    sets.push(fromEif.expected);
    files.push({ flag: '--eif', path });
    // The PCR values themselves are in the report's table; here, what they were measured from.
    const parts = fromEif.description.slice(1).filter((d) => !d.startsWith('PCR'));
    describe.push(`--eif ${path} (SHA-256 ${digest}): ${parts.join(', ')}`);
    measuredFrom.push({
      flag: '--eif',
      describe: `enclave image ${path}`,
      path,
      sha256: digest,
      sections: parts,
    });
  }
  const byValue = mergeExpectedPcrs(...sets);
  let rebuiltManifest: Uint8Array | undefined;
  if (flags.rebuild) {
    const path = resolve(cwd, flags.rebuild);
    const rebuilt = await expectedPcrsFromRecipe(path);
    rebuiltManifest = rebuilt.manifest;
    sets.push(rebuilt.expected);
    files.push({ flag: '--rebuild', path });
    const [head, ...rest] = describeRebuild(rebuilt);
    describe.push(`--rebuild ${path}: ${head}`, ...rest.map((l) => l.trim()));
    measuredFrom.push({
      flag: '--rebuild',
      describe: `sources rebuilt with recipe ${path}`,
      ...rebuildJson(rebuilt),
    });
  }
  const trustedRoots: Uint8Array[] = [];
  for (const r of flags.root ?? []) {
    const path = resolve(cwd, r);
    const bytes = await readRootFile(path, r);
    trustedRoots.push(bytes);
    describe.push(await fileLine('--root', path, bytes));
  }
  if (trustedRoots.length === 0) describe.push('root: embedded AWS Nitro Enclaves Root G1 (pinned)');
  if (sets.length === 0)
    describe.push('no expected PCRs given: the enclave code is NOT checked, only genuineness');
  return {
    options: {
      ...(sets.length > 0 ? { expectedPcrs: mergeExpectedPcrs(...sets) } : {}),
      ...(trustedRoots.length > 0 ? { trustedRoots } : {}),
    },
    describe,
    files,
    byValue,
    measuredFrom,
    ...(rebuiltManifest ? { rebuiltManifest } : {}),
  };
}
