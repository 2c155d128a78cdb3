/**
 * Expected PCRs rebuilt from sources: run the Caution recipe of a recipe file into a temporary
 * directory (removed afterwards), then measure kernel + cmdline + the rebuilt rootfs.cpio.gz as
 * eif_build would assemble them. This is what `verify --rebuild` and `deployment --rebuild` match
 * attestations against: values recomputed from reproducible parts, not published ones.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnclaveVerifyError } from '../../errors.js';
import { type ExpectedPcrMap, expectedPcrsFromParts } from '../../measure/node/parts.js';
import { toHex, utf8 } from '../../util/bytes.js';
import { CAUTION_CMDLINE } from '../caution.js';
import { readCpioMember } from './cpio-member.js';
import { expectedPcrsFromNitroCliRecipe } from './nitro-cli-recipe.js';
import { rebuildCaution } from './rebuild.js';
import { MAX_RECIPE_BYTES, readRecipeFile } from './recipe-file.js';

/** One source of a rebuild, pinned by digest. */
export interface RebuildInput {
  role: 'recipe' | 'app' | 'overlay' | 'kernel' | 'image' | 'cmdline' | 'init' | 'nsm';
  path: string;
  /** `file`, or `directory` for an app given as a directory or OCI layout (no single digest). */
  kind: 'file' | 'directory';
  /** SHA-256 hex of the file; absent for directories. */
  sha256?: string;
  /** Bytes of the file; absent for directories. */
  size?: number;
}

/** One rebuilt ramdisk that was measured. */
export interface RebuiltRamdisk {
  name: string;
  sha256: string;
  size: number;
  entries: number;
}

/** Expected PCRs rebuilt from a recipe, and everything they were computed from. */
export interface RebuiltExpectation {
  expected: ExpectedPcrMap;
  recipe: 'caution' | 'plain' | 'nitro-cli';
  /** The recipe file first, then app (or image), overlays in order, kernel. */
  inputs: RebuildInput[];
  /** Absent when no kernel was part of the rebuild (nitro-cli with an image only). */
  cmdline?: { text: string; size: number };
  /** The Caution recipe's rebuilt ramdisk that was measured. */
  rootfs?: RebuiltRamdisk & { name: 'rootfs.cpio.gz' };
  /** Every rebuilt ramdisk that was measured, in EIF order. */
  ramdisks: RebuiltRamdisk[];
  /** PCRs recomputed (hex); PCRs a recipe could not recompute are absent. */
  pcrs: { PCR0?: string; PCR1?: string; PCR2: string };
  /** Which PCRs were not recomputed and why, when some were not. */
  notRecomputed?: string;
  /** Assumptions the rebuild had to make (shown in reports). */
  warnings?: string[];
  /**
   * `/manifest.json` of the rebuilt ramdisk (Caution's build provenance), when it has one: it
   * lies inside the measured ramdisk, so it is authenticated by the rebuilt PCRs.
   */
  manifest?: Uint8Array;
}

/**
 * A rebuild recipe as `verify --rebuild` and `deployment --rebuild` see it: a recipe-file
 * shape (the `"recipe"` value) and how to turn such a file into expected PCRs. Each recipe
 * (Caution's, nitro-cli's) is one of these; the commands dispatch on the file's `"recipe"`.
 */
export interface RebuildRecipe {
  /** `"recipe"` values this recipe reads. */
  names: readonly string[];
  /** Rebuild what the recipe file describes and compute the PCRs an enclave must report. */
  expectedPcrs(recipeFile: string): Promise<RebuiltExpectation>;
}

async function digestFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  await new Promise<void>((done, fail) => {
    createReadStream(path)
      .on('error', (cause) =>
        fail(new EnclaveVerifyError('ERR_IO', `cannot read ${path}: ${cause.message}`, { cause })),
      )
      .on('data', (chunk) => {
        hash.update(chunk);
        size += chunk.length;
      })
      .on('end', done);
  });
  return { sha256: hash.digest('hex'), size };
}

/**
 * One rebuild input pinned by digest (a directory, such as an OCI layout, by path only).
 *
 * @example
 * ```ts
 * await rebuildInput('image', 'app.docker.tar'); // { role: 'image', kind: 'file', sha256: '...', size: 21504 }
 * ```
 */
export async function rebuildInput(role: RebuildInput['role'], path: string): Promise<RebuildInput> {
  return input(role, path);
}

async function input(role: RebuildInput['role'], path: string): Promise<RebuildInput> {
  if ((await stat(path)).isDirectory()) return { role, path, kind: 'directory' };
  return { role, path, kind: 'file', ...(await digestFile(path)) };
}

/**
 * Rebuild the ramdisk a recipe file describes and compute the PCRs an enclave built from it must
 * report. The recipe must name a kernel. Recipe and archive errors keep the rebuild's codes
 * (`ERR_RECIPE`, `ERR_ARCHIVE_UNSAFE`, ...); the temporary directory is removed in every case.
 *
 * @example
 * ```ts
 * const r = await expectedPcrsFromRecipe('recipe.json');
 * await verifyAttestation(doc, { expectedPcrs: r.expected });
 * ```
 */
export async function expectedPcrsFromRecipe(recipeFile: string): Promise<RebuiltExpectation> {
  const name = await recipeNameOf(recipeFile);
  // Anything that is not another recipe's name goes to Caution's reader, which reports what is
  // wrong with the file (syntax, missing or unknown "recipe").
  const recipe = REBUILD_RECIPES.find((r) => r.names.includes(name)) ?? REBUILD_RECIPES[0]!;
  return recipe.expectedPcrs(recipeFile);
}

async function recipeNameOf(recipeFile: string): Promise<string> {
  let text: string;
  try {
    if ((await stat(recipeFile)).size > MAX_RECIPE_BYTES) return '';
    text = await readFile(recipeFile, 'utf8');
  } catch (cause) {
    throw new EnclaveVerifyError(
      'ERR_IO',
      `cannot read the recipe ${recipeFile}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  try {
    const json = JSON.parse(text) as { recipe?: unknown };
    return typeof json?.recipe === 'string' ? json.recipe : '';
  } catch {
    return ''; // the recipe's own reader reports the syntax error
  }
}

async function cautionExpectedPcrs(recipeFile: string): Promise<RebuiltExpectation> {
  const recipe = await readRecipeFile(recipeFile);
  if (recipe.kernel === undefined) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      `recipe ${recipeFile}: PCRs need the kernel; add "kernel": "bzImage" (relative to the recipe file)`,
    );
  }
  const inputs = [await input('recipe', recipe.file), await input('app', recipe.app)];
  for (const o of recipe.overlays) inputs.push(await input('overlay', o));
  inputs.push(await input('kernel', recipe.kernel));
  const cmdline = recipe.json.cmdline ?? CAUTION_CMDLINE;
  const dir = await mkdtemp(join(tmpdir(), 'enclave-verify-rebuild-'));
  try {
    // No kernel here: the EIF file itself is not needed, only its measurement below.
    const built = await rebuildCaution({
      recipe: recipe.json.recipe,
      app: recipe.app,
      overlays: recipe.overlays,
      outDir: dir,
      ...(recipe.json.appFormat ? { appFormat: recipe.json.appFormat } : {}),
      ...(recipe.json.platform ? { platform: recipe.json.platform } : {}),
    });
    const m = await expectedPcrsFromParts({ kernel: recipe.kernel, cmdline, ramdisks: [built.cpioGz.path] });
    const manifest = readCpioMember(built.cpio.path, 'manifest.json', 1024 * 1024);
    return {
      ...(manifest ? { manifest } : {}),
      expected: m.expected,
      recipe: recipe.json.recipe,
      inputs,
      cmdline: { text: cmdline, size: utf8(cmdline).length },
      rootfs: {
        name: 'rootfs.cpio.gz',
        sha256: built.cpioGz.sha256,
        size: built.cpioGz.size,
        entries: built.entries,
      },
      ramdisks: [
        {
          name: 'rootfs.cpio.gz',
          sha256: built.cpioGz.sha256,
          size: built.cpioGz.size,
          entries: built.entries,
        },
      ],
      pcrs: {
        PCR0: toHex(m.measured.pcrs.pcr0),
        PCR1: toHex(m.measured.pcrs.pcr1),
        PCR2: toHex(m.measured.pcrs.pcr2),
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Report lines for a rebuilt expectation: what it was rebuilt from, each input with SHA-256 and
 * size, and the rebuilt ramdisk.
 *
 * @example
 * ```ts
 * for (const line of describeRebuild(r)) console.log(line);
 * // expected PCRs rebuilt from sources (recipe caution)
 * // recipe /a/recipe.json (SHA-256 ..., 180 bytes)
 * ```
 */
export function describeRebuild(r: RebuiltExpectation): string[] {
  const lines = [`expected PCRs rebuilt from sources (recipe ${r.recipe}):`];
  for (const i of r.inputs) {
    lines.push(
      i.kind === 'directory'
        ? `  ${i.role} ${i.path} (directory)`
        : `  ${i.role} ${i.path} (SHA-256 ${i.sha256}, ${i.size} bytes)`,
    );
  }
  if (r.cmdline) lines.push(`  cmdline ${JSON.stringify(r.cmdline.text)} (${r.cmdline.size} bytes)`);
  for (const d of r.ramdisks) {
    lines.push(`  rebuilt ${d.name} (SHA-256 ${d.sha256}, ${d.size} bytes, ${d.entries} entries)`);
  }
  if (r.notRecomputed) lines.push(`  ${r.notRecomputed}`);
  for (const w of r.warnings ?? []) lines.push(`  warning: ${w}`);
  return lines;
}

/**
 * The JSON form of a rebuilt expectation for reports (`measuredFrom` entries).
 *
 * @example
 * ```ts
 * JSON.stringify(rebuildJson(r)); // {"rebuiltFromSources":true,"recipe":"caution","inputs":[...],...}
 * ```
 */
export function rebuildJson(r: RebuiltExpectation): Record<string, unknown> {
  return {
    rebuiltFromSources: true,
    recipe: r.recipe,
    inputs: r.inputs,
    ...(r.cmdline ? { cmdline: r.cmdline } : {}),
    ...(r.rootfs ? { rootfs: r.rootfs } : {}),
    ramdisks: r.ramdisks,
    pcrs: r.pcrs,
    ...(r.notRecomputed ? { notRecomputed: r.notRecomputed } : {}),
    ...(r.warnings && r.warnings.length > 0 ? { warnings: r.warnings } : {}),
  };
}

/** The recipes recipe files can name: Caution's (and its `plain` variant) and nitro-cli's. */
export const REBUILD_RECIPES: readonly RebuildRecipe[] = [
  { names: ['caution', 'plain'], expectedPcrs: cautionExpectedPcrs },
  { names: ['nitro-cli'], expectedPcrs: expectedPcrsFromNitroCliRecipe },
];
