/**
 * What both `rebuild` recipes (Caution and nitro-cli) do alike around their own rebuild: read
 * what the PCRs are compared with, write DIR/recipe.json, and describe a ramdisk difference.
 * A recipe keeps only its flags, its rebuild and its report.
 */
import { writeFile } from 'node:fs/promises';
import { EnclaveVerifyError } from '../../errors.js';
import { decodeAttestation } from '../../parse/document.js';
import { decodeDocumentInput } from '../../parse/input.js';
import { type ExpectedPcrs, parseExpectedPcrs } from '../../policy/expected-pcrs.js';
import type { RamdiskDiff } from '../../rebuild/ramdisk.js';
import { readFileBytes, usageError } from '../args.js';

/** One expected PCR compared with the rebuilt value (hex). */
export interface PcrCheck {
  pcr: number;
  expected: string[];
  actual: string;
  ok: boolean;
}

/** The comparison flags both recipes share. */
export interface ExpectFlags {
  out?: string | undefined;
  'expect-pcrs'?: string | undefined;
  target?: string | undefined;
  expect?: string | undefined;
}

const usage = (message: string) => usageError('rebuild', message);

/** Output formats of `rebuild`, whichever the recipe. */
export const REBUILD_FORMATS = ['human', 'json', 'nitro-cli', 'pcrs'] as const;

/**
 * The output format of a `rebuild` run: `--json` means `json`, else `--format` (default `human`),
 * one of {@link REBUILD_FORMATS}.
 *
 * @example
 * ```ts
 * rebuildFormat({ format: 'pcrs' }); // 'pcrs'
 * ```
 */
export function rebuildFormat(values: {
  json?: boolean | undefined;
  format?: string | undefined;
}): (typeof REBUILD_FORMATS)[number] {
  const format = values.json ? 'json' : (values.format ?? 'human');
  if (!(REBUILD_FORMATS as readonly string[]).includes(format)) throw usage(`unknown --format '${format}'`);
  return format as (typeof REBUILD_FORMATS)[number];
}

/**
 * Checks `--out` is given and the comparison flags fit together (usage errors otherwise).
 *
 * @example
 * ```ts
 * checkRebuildFlags({ out: 'out', 'expect-pcrs': 'pcrs.json' });
 * ```
 */
export function checkRebuildFlags(values: ExpectFlags): void {
  if (!values.out) throw usage('--out is required');
  if (values['expect-pcrs'] && values.expect) throw usage('give --expect-pcrs or --expect, not both');
  if (values.target !== undefined && !values['expect-pcrs'])
    throw usage('--target needs --expect-pcrs FILE (a canary config)');
}

/**
 * Reads what the rebuilt PCRs are compared with: `--expect-pcrs FILE` (with `--target` for a
 * canary config) or `--expect DOC` (decoded, not verified). Undefined when neither is given.
 *
 * @example
 * ```ts
 * const { expected, expectSource } = await readRebuildExpectation(values, (p) => resolve(cwd, p));
 * ```
 */
export async function readRebuildExpectation(
  values: ExpectFlags,
  at: (path: string) => string,
): Promise<{ expected: ExpectedPcrs | undefined; expectSource: string | undefined }> {
  let expected: ExpectedPcrs | undefined;
  let expectSource: string | undefined;
  if (values['expect-pcrs'] || values.expect) {
    const file = at((values['expect-pcrs'] ?? values.expect)!);
    const bytes = await readFileBytes(file, `'${file}'`);
    if (values['expect-pcrs']) {
      const target = values.target;
      expected = parseExpectedPcrs(new TextDecoder().decode(bytes), target === undefined ? {} : { target });
      expectSource =
        target === undefined ? values['expect-pcrs'] : `${values['expect-pcrs']} (target ${target})`;
    } else {
      const doc = decodeAttestation(decodeDocumentInput(bytes));
      expected = new Map([...doc.pcrs].map(([k, v]) => [k, [v]] as [number, Uint8Array[]]));
      expectSource = `${values.expect}, decoded without verification`;
    }
  }
  return { expected, expectSource };
}

/**
 * Writes the recipe as used to `recipePath`, unless it is the recipe file that was read.
 *
 * @example
 * ```ts
 * await writeRecipeJson('out/recipe.json', used, recipeFile);
 * ```
 */
export async function writeRecipeJson(
  recipePath: string,
  used: unknown,
  recipeFile: string | undefined,
): Promise<void> {
  if (recipeFile === recipePath) return;
  try {
    await writeFile(recipePath, `${JSON.stringify(used, null, 2)}\n`);
  } catch (cause) {
    throw new EnclaveVerifyError('ERR_IO', `cannot write ${recipePath}: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/**
 * Lines describing how a rebuilt ramdisk differs from a reference, at most `limit` entries.
 * `rebuilt` names the rebuilt side and `layout` what differs when only the layout does, as
 * each recipe says it.
 *
 * @example
 * ```ts
 * describeDiff(diff, 'rebuilt archive', 'header layout differs (inode numbers, padding, hex case)');
 * ```
 */
export function describeDiff(diff: RamdiskDiff, rebuilt: string, layout: string, limit = 200): string[] {
  const lines: string[] = [];
  for (const d of diff.differences.slice(0, limit)) {
    if (d.change === 'added') lines.push(`  + ${d.path} (only in the ${rebuilt})`);
    else if (d.change === 'missing') lines.push(`  - ${d.path} (only in the reference)`);
    else {
      const what = (d.fields ?? [])
        .map((f) => `${f.field} ${String(f.rebuilt)} vs ${String(f.reference)}`)
        .join(', ');
      lines.push(`  ~ ${d.path}: ${what}`);
    }
  }
  if (diff.differences.length > limit)
    lines.push(`  ... and ${diff.differences.length - limit} more (use --json)`);
  if (diff.orderDiffers) lines.push('  same entries, different order');
  if (diff.layoutOnly) lines.push(`  same entries and contents; ${layout}`);
  return lines;
}
