/**
 * Recipe files of the nitro-cli recipe: `{"recipe": "nitro-cli", "image": "app.docker.tar",
 * "blobs": "blobs"}` (or the blobs one by one: `kernel`, `cmdline`, `init`, `nsm`), paths
 * relative to the file, and the expected PCRs they give for `verify --rebuild` and
 * `deployment --rebuild`: PCR2 from the image alone, PCR0/PCR1 only with the blobs.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { EnclaveVerifyError } from '../../errors.js';
import { fromHex } from '../../util/bytes.js';
import { type RebuildInput, type RebuiltExpectation, rebuildInput } from './expected.js';
import { type NitroCliRebuildOptions, rebuildNitroCli } from './nitro-cli.js';
import { MAX_RECIPE_BYTES } from './recipe-file.js';

/** A nitro-cli recipe as written in the file. */
export interface NitroCliRecipeJson {
  recipe: 'nitro-cli';
  image: string;
  imageFormat?: 'auto' | 'image' | 'export';
  platform?: string;
  cmd?: string[];
  env?: string[];
  blobs?: string;
  kernel?: string;
  cmdline?: string;
  init?: string;
  nsm?: string;
  implicitMtime?: number;
}

const KEYS = [
  'recipe',
  'image',
  'imageFormat',
  'platform',
  'cmd',
  'env',
  'blobs',
  'kernel',
  'cmdline',
  'init',
  'nsm',
  'implicitMtime',
] as const;
const PATHS = ['image', 'blobs', 'kernel', 'cmdline', 'init', 'nsm'] as const;

function bad(file: string, message: string): EnclaveVerifyError {
  return new EnclaveVerifyError(
    'ERR_USAGE',
    `recipe ${file}: ${message} (format: {"recipe": "nitro-cli", "image": "app.docker.tar", "blobs": "blobs"}; see README "rebuild")`,
  );
}

/**
 * Check a parsed nitro-cli recipe: known keys, types, relative paths.
 *
 * @example
 * ```ts
 * validateNitroCliRecipe({ recipe: 'nitro-cli', image: 'app.tar' }, 'recipe.json');
 * ```
 */
export function validateNitroCliRecipe(value: unknown, file: string): NitroCliRecipeJson {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad(file, 'must be one JSON object');
  const o = value as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !(KEYS as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw bad(file, `unknown key ${JSON.stringify(unknown[0])}; allowed keys: ${KEYS.join(', ')}`);
  if (o.recipe !== 'nitro-cli') throw bad(file, '"recipe" must be "nitro-cli"');
  for (const k of PATHS) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '' || v.includes('\0'))
      throw bad(file, `"${k}" must be a non-empty path string`);
    if (isAbsolute(v)) throw bad(file, `"${k}" is an absolute path; write it relative to the recipe file`);
  }
  if (typeof o.image !== 'string') throw bad(file, '"image" is required');
  if (o.imageFormat !== undefined && !['auto', 'image', 'export'].includes(o.imageFormat as string)) {
    throw bad(file, '"imageFormat" must be auto, image or export');
  }
  if (
    o.platform !== undefined &&
    (typeof o.platform !== 'string' || !/^[a-z0-9_-]+\/[a-z0-9_-]+(\/[a-z0-9_-]+)?$/i.test(o.platform))
  ) {
    throw bad(file, '"platform" must be OS/ARCH, e.g. "linux/amd64"');
  }
  for (const k of ['cmd', 'env'] as const) {
    const v = o[k];
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) {
      throw bad(file, `"${k}" must be a list of strings`);
    }
  }
  if (
    o.implicitMtime !== undefined &&
    (typeof o.implicitMtime !== 'number' ||
      !Number.isSafeInteger(o.implicitMtime) ||
      o.implicitMtime < 0 ||
      o.implicitMtime > 0xffffffff)
  ) {
    throw bad(file, '"implicitMtime" must be whole seconds (0..4294967295)');
  }
  const parts = (['kernel', 'cmdline', 'init', 'nsm'] as const).filter((k) => o[k] !== undefined);
  if (o.blobs !== undefined && parts.length > 0) throw bad(file, 'give "blobs" or the parts, not both');
  if (parts.length > 0 && parts.length < 4)
    throw bad(file, 'the parts "kernel", "cmdline", "init" and "nsm" go together');
  return o as unknown as NitroCliRecipeJson;
}

/**
 * Read and resolve a nitro-cli recipe file into rebuild options (without the output directory).
 *
 * @example
 * ```ts
 * const { options } = await readNitroCliRecipe('recipe.json');
 * await rebuildNitroCli({ ...options, outDir: 'out' });
 * ```
 */
export async function readNitroCliRecipe(
  path: string,
): Promise<{ file: string; json: NitroCliRecipeJson; options: Omit<NitroCliRebuildOptions, 'outDir'> }> {
  const file = resolve(path);
  let text: string;
  try {
    if ((await stat(file)).size > MAX_RECIPE_BYTES) throw bad(path, `larger than ${MAX_RECIPE_BYTES} bytes`);
    text = new TextDecoder('utf-8', { fatal: true }).decode(await readFile(file));
  } catch (cause) {
    if (cause instanceof EnclaveVerifyError) throw cause;
    throw new EnclaveVerifyError('ERR_IO', `cannot read the recipe ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw bad(path, `not valid JSON (${(e as Error).message})`);
  }
  const json = validateNitroCliRecipe(parsed, path);
  const at = (p: string) => resolve(dirname(file), p);
  for (const k of PATHS) {
    const v = json[k];
    if (v === undefined) continue;
    try {
      await stat(at(v));
    } catch (cause) {
      throw new EnclaveVerifyError(
        'ERR_IO',
        `recipe ${path}: cannot read the ${k} ${at(v)}: ${(cause as Error).message}; paths in a recipe are relative to the recipe file`,
        { cause },
      );
    }
  }
  const options: Omit<NitroCliRebuildOptions, 'outDir'> = {
    image: at(json.image),
    ...(json.imageFormat ? { imageFormat: json.imageFormat } : {}),
    ...(json.platform ? { platform: json.platform } : {}),
    ...(json.cmd ? { cmd: json.cmd } : {}),
    ...(json.env ? { env: json.env } : {}),
    ...(json.blobs ? { blobs: at(json.blobs) } : {}),
    ...(json.kernel
      ? {
          parts: {
            kernel: at(json.kernel),
            cmdline: at(json.cmdline!),
            init: at(json.init!),
            nsm: at(json.nsm!),
          },
        }
      : {}),
    ...(json.implicitMtime !== undefined ? { implicitMtime: json.implicitMtime } : {}),
  };
  return { file, json, options };
}

/**
 * The recipe JSON for options given with absolute paths, relative to the directory the recipe
 * file is saved in.
 *
 * @example
 * ```ts
 * nitroCliRecipeJsonFor({ image: '/src/app.tar', outDir: '/out' }, '/out'); // { recipe: 'nitro-cli', image: '../src/app.tar' }
 * ```
 */
export function nitroCliRecipeJsonFor(o: NitroCliRebuildOptions, recipeDir: string): NitroCliRecipeJson {
  const rel = (p: string) => (relative(recipeDir, p) || '.').split(sep).join('/');
  return {
    recipe: 'nitro-cli',
    image: rel(o.image),
    ...(o.imageFormat && o.imageFormat !== 'auto' ? { imageFormat: o.imageFormat } : {}),
    ...(o.platform ? { platform: o.platform } : {}),
    ...(o.cmd ? { cmd: o.cmd } : {}),
    ...(o.env ? { env: o.env } : {}),
    ...(o.blobs ? { blobs: rel(o.blobs) } : {}),
    ...(o.parts?.kernel
      ? {
          kernel: rel(o.parts.kernel),
          cmdline: rel(o.parts.cmdline!),
          init: rel(o.parts.init!),
          nsm: rel(o.parts.nsm!),
        }
      : {}),
    ...(o.implicitMtime ? { implicitMtime: o.implicitMtime } : {}),
  };
}

/**
 * Rebuild a nitro-cli recipe into a temporary directory (removed afterwards) and return the
 * PCRs an enclave built from it must report: PCR2 always, PCR0/PCR1 only with the blobs (the
 * expectation then says they were not recomputed).
 *
 * @example
 * ```ts
 * const r = await expectedPcrsFromNitroCliRecipe('recipe.json');
 * await verifyAttestation(doc, { expectedPcrs: r.expected }); // checks PCR2 (and PCR0/1 with blobs)
 * ```
 */
export async function expectedPcrsFromNitroCliRecipe(path: string): Promise<RebuiltExpectation> {
  const { file, options } = await readNitroCliRecipe(path);
  const dir = await mkdtemp(join(tmpdir(), 'enclave-verify-nitro-cli-'));
  try {
    const r = await rebuildNitroCli({ ...options, outDir: dir });
    const inputs: RebuildInput[] = [
      await rebuildInput('recipe', file),
      await rebuildInput('image', options.image),
    ];
    if (r.blobs) {
      inputs.push(
        await rebuildInput('kernel', r.blobs.kernel),
        await rebuildInput('cmdline', r.blobs.cmdline),
        await rebuildInput('init', r.blobs.init),
        await rebuildInput('nsm', r.blobs.nsm),
      );
    }
    const expected = new Map<number, Uint8Array[]>([[2, [fromHex(r.pcrs.PCR2)]]]);
    if (r.pcrs.PCR0 && r.pcrs.PCR1) {
      expected.set(0, [fromHex(r.pcrs.PCR0)]);
      expected.set(1, [fromHex(r.pcrs.PCR1)]);
    }
    return {
      expected,
      recipe: 'nitro-cli',
      inputs,
      ...(r.blobs
        ? {
            cmdline: {
              text: r.blobs.cmdlineText,
              size: new TextEncoder().encode(r.blobs.cmdlineText).length,
            },
          }
        : {}),
      ramdisks: [
        ...(r.bootstrap
          ? [
              {
                name: 'bootstrap-initrd.img',
                sha256: r.bootstrap.sha256,
                size: r.bootstrap.size,
                entries: r.bootstrap.entries,
              },
            ]
          : []),
        {
          name: 'customer-initrd.img',
          sha256: r.customer.sha256,
          size: r.customer.size,
          entries: r.customer.entries,
        },
      ],
      pcrs: r.pcrs,
      ...(r.notComputed
        ? {
            notRecomputed:
              'PCR0 and PCR1 were not recomputed (the recipe names no blobs); only PCR2 is checked',
          }
        : {}),
      warnings: r.warnings,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
