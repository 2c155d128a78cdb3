/**
 * The revocation flags shared by `verify` and `deployment`: `--check-revocation`,
 * `--require-revocation`, `--crl FILE` and `--crl-cache DIR|none`, turned into the library's
 * `checkRevocation` option (downloads over fetch, the cache directory as the store).
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { EnclaveVerifyError } from '../errors.js';
import { decodeCrlInput, parseCrl } from '../trust/crl.js';
import { crlDirectoryStore } from '../trust/node/crl-directory.js';
import type { RevocationOptions } from '../trust/revocation-status.js';
import { toHex } from '../util/bytes.js';
import { sha256 } from '../util/digest.js';
import { readFileBytes } from './args.js';
import type { CliContext } from './context.js';

/** `parseArgs` options of the revocation flags. */
export const REVOCATION_FLAGS = {
  'check-revocation': { type: 'boolean' },
  'require-revocation': { type: 'boolean' },
  crl: { type: 'string', multiple: true },
  'crl-cache': { type: 'string' },
} as const;

const HELP_ITEMS: Array<[string, string[]]> = [
  [
    '--check-revocation',
    [
      'check each certificate against the CRL its issuer names (http/https, no',
      'redirects, 1 MiB, 10 s); revoked fails (ERR_CERT_REVOKED), a CRL that cannot',
      'be fetched or used is shown as unavailable',
    ],
  ],
  ['--require-revocation', ['like --check-revocation, and unavailable fails (ERR_REVOCATION_UNAVAILABLE)']],
  [
    '--crl FILE',
    [
      "use this CRL (DER or PEM) for its issuer's certificates before downloading",
      '(repeatable; audits: the list valid at the verification time)',
    ],
  ],
  [
    '--crl-cache DIR|none',
    [
      'where downloaded CRLs are kept until their nextUpdate (default',
      '$XDG_CACHE_HOME/enclave-verify/crl or ~/.cache/enclave-verify/crl)',
    ],
  ],
];

/**
 * Help lines of the revocation flags, the descriptions starting at `column` like the command's
 * other options.
 *
 * @example
 * ```ts
 * const help = `options:\n${revocationHelp(24)}`;
 * ```
 */
export function revocationHelp(column: number): string {
  return HELP_ITEMS.flatMap(([flag, lines]) => {
    const head = `  ${flag}`.padEnd(column);
    return head.length > column
      ? [`  ${flag}`, ...lines.map((l) => `${' '.repeat(column)}${l}`)]
      : lines.map((l, i) => `${i === 0 ? head : ' '.repeat(column)}${l}`);
  })
    .map((l) => `${l}\n`)
    .join('');
}

/** Values of the revocation flags as `parseArgs` returns them. */
export interface RevocationFlagValues {
  'check-revocation'?: boolean | undefined;
  'require-revocation'?: boolean | undefined;
  crl?: string[] | undefined;
  'crl-cache'?: string | undefined;
}

/**
 * The `checkRevocation` option for these flags, or undefined when none was given. `--crl` and
 * `--crl-cache` alone do not turn checking on (they say how, not whether); each `--crl` file is
 * read and parsed now, so a wrong file is named before anything else runs.
 *
 * @example
 * ```ts
 * options.checkRevocation = await revocationFromFlags(values, ctx);
 * ```
 */
export async function revocationFromFlags(
  values: RevocationFlagValues,
  ctx: CliContext,
): Promise<RevocationOptions | undefined> {
  const files = values.crl ?? [];
  const check = values['check-revocation'] === true || values['require-revocation'] === true;
  if (!check) {
    if (files.length > 0 || values['crl-cache'] !== undefined) {
      throw new EnclaveVerifyError(
        'ERR_USAGE',
        '--crl and --crl-cache only apply with --check-revocation or --require-revocation',
      );
    }
    return undefined;
  }
  const crls: Uint8Array[] = [];
  for (const file of files) {
    const bytes = await readFileBytes(resolve(ctx.cwd, file), `--crl ${file}`);
    try {
      for (const der of decodeCrlInput(bytes)) {
        parseCrl(der);
        crls.push(der);
      }
    } catch (e) {
      throw new EnclaveVerifyError(
        'ERR_INPUT_FORMAT',
        `--crl ${file} is not a CRL: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
  const dir = values['crl-cache'] ?? defaultCacheDir(ctx);
  return {
    require: values['require-revocation'] === true,
    ...(crls.length > 0 ? { crls } : {}),
    ...(dir === 'none' ? {} : { store: crlDirectoryStore(resolve(ctx.cwd, dir)) }),
  };
}

/** The revocation flags as a record states them: see {@link revocationRecheck}. */
export interface RevocationRecheck {
  /** `verify` arguments asking for the same check; empty when revocation was not checked. */
  flags: string[];
  /** One line per choice and file (with its SHA-256), for the record's inputs. */
  describe: string[];
}

/**
 * The revocation flags of a run as `verify` arguments that check the same (the stronger of
 * `--check-revocation` / `--require-revocation`, every `--crl` file and the `--crl-cache`
 * directory resolved against the working directory), so a re-check command built from them
 * checks no less than the run it records. `--crl-cache` is carried only when given: the
 * default is where the re-checking user keeps lists. Files are read again for their SHA-256.
 *
 * @example
 * ```ts
 * const { flags } = await revocationRecheck({ 'check-revocation': true, crl: ['a.crl'] }, ctx);
 * // ['--check-revocation', '--crl', '/work/a.crl']
 * ```
 */
export async function revocationRecheck(
  values: RevocationFlagValues,
  ctx: CliContext,
): Promise<RevocationRecheck> {
  const require = values['require-revocation'] === true;
  if (!require && values['check-revocation'] !== true) return { flags: [], describe: [] };
  const flag = require ? '--require-revocation' : '--check-revocation';
  const flags = [flag];
  const describe = [
    `${flag}: each certificate checked against the CRL its issuer names; a list that cannot be fetched or used ${require ? 'fails the check' : 'is shown as unavailable'}`,
  ];
  for (const file of values.crl ?? []) {
    const path = resolve(ctx.cwd, file);
    const digest = toHex(await sha256(await readFileBytes(path, `--crl ${file}`)));
    flags.push('--crl', path);
    describe.push(`--crl ${path} (SHA-256 ${digest})`);
  }
  const cache = values['crl-cache'];
  if (cache !== undefined) {
    const dir = cache === 'none' ? 'none' : resolve(ctx.cwd, cache);
    flags.push('--crl-cache', dir);
    describe.push(`--crl-cache ${dir}`);
  }
  return { flags, describe };
}

function defaultCacheDir(ctx: CliContext): string {
  const base = ctx.env.XDG_CACHE_HOME || join(ctx.env.HOME || homedir(), '.cache');
  return join(base, 'enclave-verify', 'crl');
}
