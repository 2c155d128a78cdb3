/**
 * `enclave-verify rebuild --recipe caution ...`: rebuild an enclave's ramdisk byte for byte
 * from its sources, build the EIF, print the PCRs, and compare them with expected values or
 * the archive with a reference ramdisk.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { printable } from '../../deployment/response.js';
import { formatNitroCli, formatPcrsLines } from '../../measure/format.js';
import type { EifPcrs } from '../../measure/pcr.js';
import { type AppFormat, type CautionRebuildResult, rebuildCaution } from '../../rebuild/node/rebuild.js';
import { type RecipeJson, readRecipeFile, recipeJsonFor } from '../../rebuild/node/recipe-file.js';
import type { RamdiskDiff } from '../../rebuild/ramdisk.js';
import { toHex } from '../../util/bytes.js';
import { parseFlags, usageError } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, reportError } from '../context.js';
import { NITRO_CLI_HELP, runNitroCliRebuild } from './rebuild-nitro-cli.js';
import {
  checkRebuildFlags,
  describeDiff,
  type PcrCheck,
  readRebuildExpectation,
  rebuildFormat,
  writeRecipeJson,
} from './rebuild-support.js';

const CAUTION_HELP = `usage: enclave-verify rebuild --recipe caution --app APP --overlay LAYER.tar [--overlay ...]
                              --out DIR [--kernel bzImage] [options]
       enclave-verify rebuild --recipe-file RECIPE.json --out DIR [options]

Rebuild Caution's enclave ramdisk (SPEC 3.1) from its sources: the application file system,
normalised (owners 0:0; directories and executables 0755, other files 0644), the EnclaveOS /
platform overlays extracted over it as \`tar -xp --overwrite --keep-directory-symlink\` would,
every mtime 0; archived as GNU cpio 2.15 \`--format=newc --reproducible\` fed by
\`find . | sort -z\`, compressed as busybox 1.37.0 \`gzip --best\`. Writes DIR/rootfs.cpio,
DIR/rootfs.cpio.gz and, with --kernel, DIR/enclave.eif, and prints the PCRs. Also writes
DIR/recipe.json, the recipe it used (paths relative to DIR), for \`verify --rebuild\`,
\`deployment --rebuild\` and auditors to keep.

options:
  --recipe R             caution: the recipe above; plain: archive the app as given (overlays
                         extracted, nothing normalised), e.g. to re-archive an extracted ramdisk
  --recipe-file FILE     take recipe, app, app format, platform, overlays, kernel and cmdline from
                         a JSON recipe instead of the flags (paths relative to the file):
                         {"recipe": "caution", "app": "app.tar", "overlays": ["enclaveos.tar"],
                          "kernel": "bzImage", "cmdline": "..."} (+ optional "appFormat", "platform")
  --app PATH             docker export tar, root directory, OCI layout (dir or tar) or docker save tar
  --app-format F         auto (default), export, dir, image
  --platform OS/ARCH     platform to pick from a multi-platform OCI index (default linux/amd64)
  --overlay TAR          overlay tar extracted over the app, in order; repeat
  --kernel FILE          bzImage: build DIR/enclave.eif and compute PCR0/1/2
  --cmdline S            kernel command line (default: Caution's, ending nit.target=/run.sh)
  --build-time T         EIF metadata build time (not measured; default now)
  --out DIR              output directory (created)
  --expect-pcrs FILE     compare PCRs with a file (nitro-cli JSON, eif_build .pcrs, PCRn: lines, canary)
  --target ID            target of a canary config given to --expect-pcrs
  --expect DOC           compare PCRs with an attestation document (decoded, NOT verified: use verify)
  --reference FILE       compare the archive with a reference rootfs.cpio[.gz] or EIF, entry by entry
  --format F             human (default), json, nitro-cli, pcrs
  --json                 same as --format json
  --help                 show this help

Exit codes: 0 rebuilt (and matching what was expected), 1 PCRs or archive differ, 2 unusable input.
`;

const HELP = `${CAUTION_HELP}\n${NITRO_CLI_HELP}`;

/** The recipe a command line names: `--recipe R`, or the `"recipe"` of `--recipe-file`. */
function recipeOf(argv: string[], cwd: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--recipe') return argv[i + 1];
    if (a.startsWith('--recipe=')) return a.slice('--recipe='.length);
    const file =
      a === '--recipe-file' ? argv[i + 1] : a.startsWith('--recipe-file=') ? a.slice(14) : undefined;
    if (file !== undefined) {
      try {
        const json = JSON.parse(readFileSync(resolve(cwd, file), 'utf8')) as { recipe?: unknown };
        if (typeof json?.recipe === 'string') return json.recipe;
      } catch {
        // the recipe's own reader reports unreadable or malformed files
      }
    }
  }
  return undefined;
}

const usage = (message: string) => usageError('rebuild', message);

function comparePcrs(pcrs: EifPcrs, expected: Map<number, Uint8Array[]>): PcrCheck[] {
  const ours = new Map<number, Uint8Array>([
    [0, pcrs.pcr0],
    [1, pcrs.pcr1],
    [2, pcrs.pcr2],
  ]);
  const out: PcrCheck[] = [];
  for (const [pcr, values] of [...expected].sort((a, b) => a[0] - b[0])) {
    const actual = ours.get(pcr);
    if (!actual) continue; // PCR3/4/8 are not properties of the rebuilt image
    const hex = toHex(actual);
    const exp = values.map(toHex);
    out.push({ pcr, expected: exp, actual: hex, ok: exp.includes(hex) });
  }
  return out;
}

/** How a Caution archive differs from the reference. */
const describeArchiveDiff = (diff: RamdiskDiff): string[] =>
  describeDiff(diff, 'rebuilt archive', 'header layout differs (inode numbers, padding, hex case)');

function human(
  r: CautionRebuildResult,
  checks: PcrCheck[] | undefined,
  expectSource: string | undefined,
): string {
  const lines = [
    `app (${r.appFormat}${r.layers ? `, ${r.layers.length} layers` : ''}): ${r.entries} entries`,
    `${r.cpio.path}  ${r.cpio.size} bytes  sha256 ${r.cpio.sha256}`,
    `${r.cpioGz.path}  ${r.cpioGz.size} bytes  sha256 ${r.cpioGz.sha256}`,
  ];
  if (r.eif) {
    lines.push(`${r.eif.path}  ${r.eif.size} bytes  cmdline ${JSON.stringify(r.eif.cmdline)}`);
    lines.push(
      `PCR0 ${toHex(r.eif.pcrs.pcr0)}`,
      `PCR1 ${toHex(r.eif.pcrs.pcr1)}`,
      `PCR2 ${toHex(r.eif.pcrs.pcr2)}`,
    );
  }
  if (checks) {
    lines.push(`expected PCRs (${expectSource}):`);
    for (const c of checks)
      lines.push(`  PCR${c.pcr} ${c.ok ? 'matches' : `DIFFERS: expected ${c.expected.join(' or ')}`}`);
  }
  if (r.reference) {
    const ref = r.reference;
    lines.push(
      `reference ${ref.label}: cpio ${ref.cpioIdentical ? 'identical' : 'DIFFERS'}` +
        (ref.gzIdentical === undefined ? '' : `, gzip ${ref.gzIdentical ? 'identical' : 'DIFFERS'}`),
    );
    lines.push(...describeArchiveDiff(ref.diff));
  }
  // Archive member names are the sources' bytes: no control characters to the terminal.
  return `${lines.map(printable).join('\n')}\n`;
}

/**
 * CLI entry of `enclave-verify rebuild`.
 *
 * @example
 * ```ts
 * await run(['--recipe', 'caution', '--app', 'app.tar', '--overlay', 'os.tar', '--out', 'out'], ctx);
 * ```
 */
export const run: Command = async (argv, ctx) => {
  // One command, one recipe per run: each recipe has its own flags and runner.
  if (recipeOf(argv, ctx.cwd) === 'nitro-cli') return runNitroCliRebuild(argv, ctx);
  let json = argv.includes('--json');
  try {
    const { values } = parseFlags(
      {
        args: argv,
        allowPositionals: false,
        options: {
          recipe: { type: 'string' },
          'recipe-file': { type: 'string' },
          app: { type: 'string' },
          'app-format': { type: 'string' },
          platform: { type: 'string' },
          overlay: { type: 'string', multiple: true },
          kernel: { type: 'string' },
          cmdline: { type: 'string' },
          'build-time': { type: 'string' },
          out: { type: 'string' },
          'expect-pcrs': { type: 'string' },
          target: { type: 'string' },
          expect: { type: 'string' },
          reference: { type: 'string' },
          format: { type: 'string' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      },
      usage,
    );
    if (values.help) {
      ctx.stdout.write(HELP);
      return EXIT.VERIFIED;
    }
    const format = rebuildFormat(values);
    json = format === 'json';
    const at = (p: string) => resolve(ctx.cwd, p);
    const recipeFile = values['recipe-file'] ? at(values['recipe-file']) : undefined;
    let recipe: RecipeJson;
    if (recipeFile !== undefined) {
      const given = ['recipe', 'app', 'app-format', 'platform', 'overlay', 'kernel', 'cmdline'].filter(
        (k) => values[k as keyof typeof values] !== undefined,
      );
      if (given.length > 0)
        throw usage(`--recipe-file already names the sources; drop --${given.join(', --')}`);
      const loaded = await readRecipeFile(recipeFile);
      recipe = {
        ...loaded.json,
        app: loaded.app,
        overlays: loaded.overlays,
        ...(loaded.kernel ? { kernel: loaded.kernel } : {}),
      };
    } else {
      if (values.recipe === undefined) throw usage('--recipe is required (caution or plain)');
      if (values.recipe !== 'caution' && values.recipe !== 'plain') {
        throw usage(`unknown recipe '${values.recipe}' (supported: caution, plain, nitro-cli)`);
      }
      if (!values.app) throw usage('--app is required');
      const appFormat = values['app-format'] ?? 'auto';
      if (!['auto', 'export', 'dir', 'image'].includes(appFormat))
        throw usage(`unknown --app-format '${appFormat}'`);
      recipe = {
        recipe: values.recipe,
        app: at(values.app),
        appFormat: appFormat as AppFormat,
        overlays: (values.overlay ?? []).map(at),
        ...(values.platform ? { platform: values.platform } : {}),
        ...(values.kernel ? { kernel: at(values.kernel) } : {}),
        ...(values.cmdline !== undefined ? { cmdline: values.cmdline } : {}),
      };
    }
    checkRebuildFlags(values);
    if (
      (values['expect-pcrs'] || values.expect || format === 'nitro-cli' || format === 'pcrs') &&
      !recipe.kernel
    ) {
      throw usage(
        recipeFile
          ? 'PCRs need the kernel: add "kernel": "bzImage" to the recipe file'
          : 'PCRs need the kernel: add --kernel bzImage',
      );
    }
    // What the PCRs are compared with is read before rebuilding, so a wrong file (or a canary
    // config without --target) fails at once, not after a rebuild of a large image.
    const { expected, expectSource } = await readRebuildExpectation(values, at);
    const outDir = at(values.out!);
    const result = await rebuildCaution({
      recipe: recipe.recipe,
      app: recipe.app,
      appFormat: recipe.appFormat ?? 'auto',
      overlays: recipe.overlays,
      outDir,
      ...(recipe.platform ? { platform: recipe.platform } : {}),
      ...(recipe.kernel ? { kernel: recipe.kernel } : {}),
      ...(recipe.cmdline !== undefined ? { cmdline: recipe.cmdline } : {}),
      ...(values['build-time'] ? { buildTime: values['build-time'] } : {}),
      ...(values.reference ? { reference: at(values.reference) } : {}),
    });
    // The recipe as used, cmdline spelled out, so auditors keep exactly what was rebuilt (and
    // `verify --rebuild DIR/recipe.json` repeats it). A recipe file already in DIR is left alone.
    const used = recipeJsonFor({ ...recipe, ...(result.eif ? { cmdline: result.eif.cmdline } : {}) }, outDir);
    const recipePath = join(outDir, 'recipe.json');
    await writeRecipeJson(recipePath, used, recipeFile);

    const checks: PcrCheck[] | undefined =
      result.eif && expected ? comparePcrs(result.eif.pcrs, expected) : undefined;
    const pcrsOk = checks ? checks.every((c) => c.ok) : true;
    const referenceOk = result.reference ? result.reference.cpioIdentical : true;
    const ok = pcrsOk && referenceOk;

    if (format === 'json') {
      const pcrs = result.eif
        ? {
            PCR0: toHex(result.eif.pcrs.pcr0),
            PCR1: toHex(result.eif.pcrs.pcr1),
            PCR2: toHex(result.eif.pcrs.pcr2),
          }
        : undefined;
      ctx.stdout.write(
        `${JSON.stringify({
          ok,
          recipe: recipe.recipe,
          recipeFile: recipePath,
          recipeJson: used,
          appFormat: result.appFormat,
          ...(result.layers ? { layers: result.layers } : {}),
          entries: result.entries,
          cpio: result.cpio,
          cpioGz: result.cpioGz,
          ...(result.eif
            ? { eif: { path: result.eif.path, size: result.eif.size, cmdline: result.eif.cmdline }, pcrs }
            : {}),
          ...(checks ? { expected: { source: expectSource, checks } } : {}),
          ...(result.reference ? { reference: result.reference } : {}),
        })}\n`,
      );
    } else if (format === 'nitro-cli' && result.eif) {
      ctx.stdout.write(formatNitroCli(result.eif.pcrs));
    } else if (format === 'pcrs' && result.eif) {
      ctx.stdout.write(formatPcrsLines(result.eif.pcrs));
    } else {
      ctx.stdout.write(human(result, checks, expectSource));
      ctx.stdout.write(`recipe ${recipePath}\n`);
    }
    if (!ok && format !== 'json') {
      ctx.stderr.write(
        `enclave-verify: ${pcrsOk ? 'ERR_RECIPE: the rebuilt archive differs from the reference' : 'ERR_PCR_MISMATCH: the rebuilt PCRs differ from the expected ones'}\n`,
      );
    }
    return ok ? EXIT.VERIFIED : EXIT.REJECTED;
  } catch (error) {
    return reportError(ctx, error, json);
  }
};
