/**
 * Expected PCRs rebuilt from sources: run the Caution recipe of a recipe file into a temporary
 * directory (removed afterwards), then measure kernel + cmdline + the rebuilt rootfs.cpio.gz as
 * eif_build would assemble them. This is what `verify --rebuild` and `deployment --rebuild` match
 * attestations against: values recomputed from reproducible parts, not published ones.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnclaveVerifyError } from '../../errors.js';
import { type ExpectedPcrMap, expectedPcrsFromParts } from '../../measure/node/parts.js';
import { toHex, utf8 } from '../../util/bytes.js';
import { CAUTION_CMDLINE } from '../caution.js';
import { readCpioMember } from './cpio-member.js';
import { rebuildCaution } from './rebuild.js';
import { readRecipeFile } from './recipe-file.js';

/** One source of a rebuild, pinned by digest. */
export interface RebuildInput {
  role: 'recipe' | 'app' | 'overlay' | 'kernel';
  path: string;
  /** `file`, or `directory` for an app given as a directory or OCI layout (no single digest). */
  kind: 'file' | 'directory';
  /** SHA-256 hex of the file; absent for directories. */
  sha256?: string;
  /** Bytes of the file; absent for directories. */
  size?: number;
}

/** Expected PCRs rebuilt from a recipe, and everything they were computed from. */
export interface RebuiltExpectation {
  expected: ExpectedPcrMap;
  recipe: 'caution' | 'plain';
  /** The recipe file first, then app, overlays in order, kernel. */
  inputs: RebuildInput[];
  cmdline: { text: string; size: number };
  /** The rebuilt ramdisk that was measured. */
  rootfs: { name: 'rootfs.cpio.gz'; sha256: string; size: number; entries: number };
  pcrs: { PCR0: string; PCR1: string; PCR2: string };
  /**
   * `/manifest.json` of the rebuilt ramdisk (Caution's build provenance), when it has one: it
   * lies inside the measured ramdisk, so it is authenticated by the rebuilt PCRs.
   */
  manifest?: Uint8Array;
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
  lines.push(`  cmdline ${JSON.stringify(r.cmdline.text)} (${r.cmdline.size} bytes)`);
  lines.push(
    `  rebuilt ${r.rootfs.name} (SHA-256 ${r.rootfs.sha256}, ${r.rootfs.size} bytes, ${r.rootfs.entries} entries)`,
  );
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
    cmdline: r.cmdline,
    rootfs: r.rootfs,
    pcrs: r.pcrs,
  };
}
