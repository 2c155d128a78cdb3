/**
 * Recipe files: the small JSON document naming the sources of a rebuild (app, overlays, kernel,
 * cmdline), so `rebuild`, `verify --rebuild` and `deployment --rebuild` take the same inputs and an
 * auditor can keep exactly what was rebuilt. Paths are relative to the recipe file, so the recipe
 * and its sources can be moved (or archived) together.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { EnclaveVerifyError } from '../../errors.js';
import type { AppFormat, CautionRebuildOptions } from './rebuild.js';

/**
 * A recipe as written in the file: the inputs of {@link CautionRebuildOptions} (paths as given,
 * relative to the file), without the output settings that a recipe does not fix.
 */
export type RecipeJson = Required<Pick<CautionRebuildOptions, 'recipe'>> &
  Pick<CautionRebuildOptions, 'app' | 'appFormat' | 'platform' | 'overlays' | 'kernel' | 'cmdline'>;

/** A recipe read from a file, with every path resolved and checked to exist. */
export interface LoadedRecipe {
  /** Absolute path of the recipe file. */
  file: string;
  /** The recipe as written. */
  json: RecipeJson;
  /** Resolved paths. */
  app: string;
  overlays: string[];
  kernel?: string;
}

/** Recipe files are a few hundred bytes; anything much larger is not one. */
export const MAX_RECIPE_BYTES = 64 * 1024;

const KEYS = ['recipe', 'app', 'appFormat', 'platform', 'overlays', 'kernel', 'cmdline'] as const;
const APP_FORMATS = ['auto', 'export', 'dir', 'image'];

function bad(file: string, message: string): EnclaveVerifyError {
  return new EnclaveVerifyError(
    'ERR_USAGE',
    `recipe ${file}: ${message} (format: {"recipe": "caution", "app": "app.tar", "overlays": ["enclaveos.tar"], "kernel": "bzImage", "cmdline": "..."}; see README "rebuild")`,
  );
}

/**
 * Check the shape of a parsed recipe: known keys only, right types, relative paths.
 *
 * @example
 * ```ts
 * const recipe = validateRecipe(JSON.parse(text), 'recipe.json');
 * ```
 */
export function validateRecipe(value: unknown, file: string): RecipeJson {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad(file, 'must be one JSON object');
  }
  const o = value as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !(KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw bad(file, `unknown key ${JSON.stringify(unknown[0])}; allowed keys: ${KEYS.join(', ')}`);
  }
  if (o.recipe !== 'caution' && o.recipe !== 'plain') {
    throw bad(
      file,
      `"recipe" must be "caution" (or "plain", or "nitro-cli" with its own keys), not ${JSON.stringify(o.recipe) ?? 'missing'}`,
    );
  }
  const path = (key: string, v: unknown): string => {
    if (typeof v !== 'string' || v === '') throw bad(file, `"${key}" must be a non-empty path string`);
    if (v.includes('\0')) throw bad(file, `"${key}" contains a NUL character`);
    if (isAbsolute(v)) {
      throw bad(
        file,
        `"${key}" is the absolute path ${JSON.stringify(v)}; write it relative to the recipe file so the recipe travels with its sources`,
      );
    }
    return v;
  };
  const out: RecipeJson = { recipe: o.recipe, app: path('app', o.app), overlays: [] };
  if (o.appFormat !== undefined) {
    if (typeof o.appFormat !== 'string' || !APP_FORMATS.includes(o.appFormat)) {
      throw bad(file, `"appFormat" must be one of ${APP_FORMATS.join(', ')}`);
    }
    out.appFormat = o.appFormat as AppFormat;
  }
  if (o.platform !== undefined) {
    if (typeof o.platform !== 'string' || !/^[a-z0-9_-]+\/[a-z0-9_-]+(\/[a-z0-9_-]+)?$/i.test(o.platform)) {
      throw bad(file, '"platform" must be OS/ARCH, e.g. "linux/amd64"');
    }
    out.platform = o.platform;
  }
  if (o.overlays !== undefined) {
    if (!Array.isArray(o.overlays)) throw bad(file, '"overlays" must be an array of tar paths, in order');
    out.overlays = o.overlays.map((v, i) => path(`overlays[${i}]`, v));
  }
  if (o.kernel !== undefined) out.kernel = path('kernel', o.kernel);
  if (o.cmdline !== undefined) {
    if (typeof o.cmdline !== 'string') throw bad(file, '"cmdline" must be a string');
    out.cmdline = o.cmdline;
  }
  return out;
}

async function mustExist(path: string, what: string, file: string): Promise<void> {
  try {
    await stat(path);
  } catch (cause) {
    throw new EnclaveVerifyError(
      'ERR_IO',
      `recipe ${file}: cannot read the ${what} ${path}: ${(cause as Error).message}; paths in a recipe are relative to the recipe file`,
      { cause },
    );
  }
}

/**
 * Read, validate and resolve a recipe file. Shape errors are `ERR_USAGE`, unreadable files
 * (the recipe or any source it names) `ERR_IO`.
 *
 * @example
 * ```ts
 * const recipe = await readRecipeFile('audit/recipe.json');
 * await rebuildCaution({ app: recipe.app, overlays: recipe.overlays, outDir: 'out' });
 * ```
 */
export async function readRecipeFile(path: string): Promise<LoadedRecipe> {
  const file = resolve(path);
  let bytes: Buffer;
  try {
    if ((await stat(file)).size > MAX_RECIPE_BYTES) {
      throw bad(path, `larger than ${MAX_RECIPE_BYTES} bytes; a recipe only names a few files`);
    }
    bytes = await readFile(file);
  } catch (cause) {
    if (cause instanceof EnclaveVerifyError) throw cause;
    throw new EnclaveVerifyError('ERR_IO', `cannot read the recipe ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw bad(path, `not valid JSON (${(e as Error).message})`);
  }
  const json = validateRecipe(parsed, path);
  const base = dirname(file);
  const app = resolve(base, json.app);
  const overlays = json.overlays.map((o) => resolve(base, o));
  await mustExist(app, 'app', path);
  for (const o of overlays) await mustExist(o, 'overlay', path);
  const loaded: LoadedRecipe = { file, json, app, overlays };
  if (json.kernel !== undefined) {
    loaded.kernel = resolve(base, json.kernel);
    await mustExist(loaded.kernel, 'kernel', path);
  }
  return loaded;
}

/**
 * The recipe JSON for sources given as absolute paths, written relative to the directory the
 * recipe file will be saved in (so `readRecipeFile` of the saved file finds the same sources).
 *
 * @example
 * ```ts
 * recipeJsonFor({ recipe: 'caution', app: '/src/app.tar', overlays: [], kernel: '/src/bzImage' }, '/out');
 * // { recipe: 'caution', app: '../src/app.tar', overlays: [], kernel: '../src/bzImage' }
 * ```
 */
export function recipeJsonFor(recipe: RecipeJson, recipeDir: string): RecipeJson {
  const rel = (p: string) => {
    // Forward slashes: the file reads the same on every platform.
    return (relative(recipeDir, p) || '.').split(sep).join('/');
  };
  return {
    recipe: recipe.recipe,
    app: rel(recipe.app),
    ...(recipe.appFormat && recipe.appFormat !== 'auto' ? { appFormat: recipe.appFormat } : {}),
    ...(recipe.platform ? { platform: recipe.platform } : {}),
    overlays: recipe.overlays.map(rel),
    ...(recipe.kernel ? { kernel: rel(recipe.kernel) } : {}),
    ...(recipe.cmdline !== undefined ? { cmdline: recipe.cmdline } : {}),
  };
}
