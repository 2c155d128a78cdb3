import { join, resolve } from 'node:path';
import { printable } from '../../deployment/response.js';
import { EnclaveVerifyError } from '../../errors.js';
import type { ExpectedPcrs } from '../../policy/expected-pcrs.js';
import {
  type NitroCliRebuildOptions,
  type NitroCliRebuildResult,
  rebuildNitroCli,
} from '../../rebuild/node/nitro-cli.js';
import { nitroCliRecipeJsonFor, readNitroCliRecipe } from '../../rebuild/node/nitro-cli-recipe.js';
import type { RamdiskDiff } from '../../rebuild/ramdisk.js';
import { toHex } from '../../util/bytes.js';
import { parseFlags, usageError } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, reportError } from '../context.js';
import {
  checkRebuildFlags,
  describeDiff,
  type PcrCheck,
  readRebuildExpectation,
  rebuildFormat,
  writeRecipeJson,
} from './rebuild-support.js';

/** Help of the nitro-cli recipe (part of `rebuild --help`). */
export const NITRO_CLI_HELP = `usage: enclave-verify rebuild --recipe nitro-cli --image IMAGE --out DIR
                              [--blobs DIR | --kernel F --cmdline F --init F --nsm F] [options]
       enclave-verify rebuild --recipe-file RECIPE.json --out DIR [options]   ("recipe": "nitro-cli")

Rebuild the two ramdisks \`nitro-cli build-enclave\` (v1.4/1.5) makes, without Docker: the
customer ramdisk (the image as \`docker create\` + \`docker export\` give it, under rootfs/, then
cmd and env) and the bootstrap ramdisk (dev, init, nsm.ko), both as linuxkit writes them (newc,
uncompressed). Writes DIR/customer-initrd.img and prints PCR2, which needs nothing but the image.
With nitro-cli's blobs also DIR/bootstrap-initrd.img, DIR/enclave.eif (eif_build's layout; its
metadata section differs from nitro-cli's but is not measured) and PCR0/PCR1. Also writes
DIR/recipe.json for \`verify --rebuild\` / \`deployment --rebuild\`.

options:
  --image IMAGE          docker save tar, OCI image layout (directory or tar), or an exported
                         root file system tar (then give --cmd, and --env)
  --image-format F       auto (default), image, export
  --cmd ARG              exported root file system: one element of the command; repeat in order
  --env NAME=VALUE       exported root file system: one environment entry; repeat in order
  --platform OS/ARCH     platform to pick from a multi-platform OCI index (default linux/amd64)
  --blobs DIR            nitro-cli's blob directory: bzImage or Image, cmdline, init, nsm.ko
  --kernel F --cmdline F --init F --nsm F
                         the blobs one by one (all four); the cmdline file is trimmed as nitro-cli does
  --implicit-mtime S     mtime (seconds) assumed for directories an image's layers omit, which Docker
                         creates at the time nitro-cli runs (default 0; a warning names them)
  --build-time T         EIF metadata build time (not measured; default now)
  --out DIR              output directory (created)
  --expect-pcrs FILE     compare the computed PCRs with a file (only PCRs that were computed)
  --target ID            target of a canary config given to --expect-pcrs
  --expect DOC           compare with an attestation document (decoded, NOT verified: use verify)
  --reference EIF        compare both ramdisks with an EIF's, entry by entry
  --format F             human (default), json, nitro-cli, pcrs
  --json                 same as --format json

Exit codes: 0 rebuilt (and matching what was expected), 1 PCRs or ramdisks differ, 2 unusable input.
`;

const usage = (message: string) => usageError('rebuild', message);

/** How a nitro-cli ramdisk differs from the reference's. */
const describeRamdiskDiff = (diff: RamdiskDiff): string[] =>
  describeDiff(diff, 'rebuilt ramdisk', 'archive layout differs (inode numbers, padding, members)');

function human(
  r: NitroCliRebuildResult,
  checks: PcrCheck[] | undefined,
  expectSource: string | undefined,
): string {
  const lines = [
    `image (${r.imageFormat}${r.layers ? `, ${r.layers.length} layers` : ''}): cmd ${JSON.stringify(r.cmd)}, env ${JSON.stringify(r.env)}`,
    `${r.customer.path}  ${r.customer.size} bytes  sha256 ${r.customer.sha256}  (${r.customer.entries} entries)`,
  ];
  if (r.bootstrap) {
    lines.push(`${r.bootstrap.path}  ${r.bootstrap.size} bytes  sha256 ${r.bootstrap.sha256}`);
  }
  if (r.eif) {
    lines.push(
      `${r.eif.path}  ${r.eif.size} bytes  cmdline ${JSON.stringify(r.blobs?.cmdlineText)} (metadata section not measured; it differs from nitro-cli's)`,
    );
  }
  if (r.pcrs.PCR0) lines.push(`PCR0 ${r.pcrs.PCR0}`);
  if (r.pcrs.PCR1) lines.push(`PCR1 ${r.pcrs.PCR1}`);
  lines.push(`PCR2 ${r.pcrs.PCR2}`);
  if (r.notComputed) lines.push(r.notComputed);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  if (checks) {
    lines.push(
      `expected PCRs (${expectSource}), compared: ${checks.map((c) => `PCR${c.pcr}`).join(', ') || 'none'}:`,
    );
    for (const c of checks)
      lines.push(`  PCR${c.pcr} ${c.ok ? 'matches' : `DIFFERS: expected ${c.expected.join(' or ')}`}`);
  }
  for (const ref of r.reference ?? []) {
    lines.push(
      `reference ${ref.label} vs ${ref.ramdisk} ramdisk: ${ref.identical ? 'identical' : 'DIFFERS'}`,
    );
    lines.push(...describeRamdiskDiff(ref.diff));
  }
  if (r.reference && !r.bootstrap) lines.push('bootstrap ramdisk not compared: no blobs given');
  // Names, cmd and env are the image's bytes: no control characters to the terminal.
  return `${lines.map(printable).join('\n')}\n`;
}

function comparePcrs(
  r: NitroCliRebuildResult,
  expected: ExpectedPcrs,
): { checks: PcrCheck[]; skipped: number[] } {
  const ours = new Map<number, string>();
  if (r.pcrs.PCR0) ours.set(0, r.pcrs.PCR0);
  if (r.pcrs.PCR1) ours.set(1, r.pcrs.PCR1);
  ours.set(2, r.pcrs.PCR2);
  const checks: PcrCheck[] = [];
  const skipped: number[] = [];
  for (const [pcr, values] of [...expected].sort((a, b) => a[0] - b[0])) {
    const actual = ours.get(pcr);
    if (actual === undefined) {
      skipped.push(pcr);
      continue;
    }
    const exp = values.map(toHex);
    checks.push({ pcr, expected: exp, actual, ok: exp.includes(actual) });
  }
  return { checks, skipped };
}

/**
 * `rebuild` with the nitro-cli recipe (flags or a recipe file naming `"recipe": "nitro-cli"`).
 *
 * @example
 * ```ts
 * await runNitroCliRebuild(['--recipe', 'nitro-cli', '--image', 'app.tar', '--out', 'out'], ctx);
 * ```
 */
export const runNitroCliRebuild: Command = async (argv, ctx) => {
  let json = argv.includes('--json');
  try {
    const { values } = parseFlags(
      {
        args: argv,
        allowPositionals: false,
        options: {
          recipe: { type: 'string' },
          'recipe-file': { type: 'string' },
          image: { type: 'string' },
          'image-format': { type: 'string' },
          cmd: { type: 'string', multiple: true },
          env: { type: 'string', multiple: true },
          platform: { type: 'string' },
          blobs: { type: 'string' },
          kernel: { type: 'string' },
          cmdline: { type: 'string' },
          init: { type: 'string' },
          nsm: { type: 'string' },
          'implicit-mtime': { type: 'string' },
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
      ctx.stdout.write(NITRO_CLI_HELP);
      return EXIT.VERIFIED;
    }
    const format = rebuildFormat(values);
    json = format === 'json';
    const at = (p: string) => resolve(ctx.cwd, p);
    let options: Omit<NitroCliRebuildOptions, 'outDir'>;
    const recipeFile = values['recipe-file'] ? at(values['recipe-file']) : undefined;
    if (recipeFile) {
      const given = [
        'recipe',
        'image',
        'image-format',
        'cmd',
        'env',
        'platform',
        'blobs',
        'kernel',
        'cmdline',
        'init',
        'nsm',
      ].filter((k) => values[k as keyof typeof values] !== undefined);
      if (given.length > 0)
        throw usage(`--recipe-file already names the sources; drop --${given.join(', --')}`);
      options = (await readNitroCliRecipe(recipeFile)).options;
    } else {
      if (!values.image) throw usage('--image is required (docker save tar, OCI layout, or exported tar)');
      const imageFormat = values['image-format'] ?? 'auto';
      if (!['auto', 'image', 'export'].includes(imageFormat))
        throw usage(`unknown --image-format '${imageFormat}'`);
      const parts = {
        ...(values.kernel ? { kernel: at(values.kernel) } : {}),
        ...(values.cmdline ? { cmdline: at(values.cmdline) } : {}),
        ...(values.init ? { init: at(values.init) } : {}),
        ...(values.nsm ? { nsm: at(values.nsm) } : {}),
      };
      options = {
        image: at(values.image),
        imageFormat: imageFormat as 'auto' | 'image' | 'export',
        ...(values.cmd ? { cmd: values.cmd } : {}),
        ...(values.env ? { env: values.env } : {}),
        ...(values.platform ? { platform: values.platform } : {}),
        ...(values.blobs ? { blobs: at(values.blobs) } : {}),
        ...(Object.keys(parts).length > 0 ? { parts } : {}),
      };
    }
    if (values['implicit-mtime'] !== undefined) {
      const v = values['implicit-mtime'];
      if (!/^[0-9]{1,10}$/.test(v) || Number(v) > 0xffffffff) {
        throw usage(`--implicit-mtime must be whole seconds since the epoch (0..4294967295), not '${v}'`);
      }
      options.implicitMtime = Number(v);
    }
    checkRebuildFlags(values);
    const { expected, expectSource } = await readRebuildExpectation(values, at);
    const outDir = at(values.out!);
    const result = await rebuildNitroCli({
      ...options,
      outDir,
      ...(values['build-time'] ? { buildTime: values['build-time'] } : {}),
      ...(values.reference ? { reference: at(values.reference) } : {}),
    });
    const used = nitroCliRecipeJsonFor({ ...options, outDir }, outDir);
    const recipePath = join(outDir, 'recipe.json');
    await writeRecipeJson(recipePath, used, recipeFile);
    const compared = expected ? comparePcrs(result, expected) : undefined;
    if (compared && compared.checks.length === 0) {
      throw new EnclaveVerifyError(
        'ERR_USAGE',
        `${expectSource} names none of the PCRs computed here (${Object.keys(result.pcrs).join(', ')}); nothing would be checked`,
      );
    }
    const pcrsOk = compared ? compared.checks.every((c) => c.ok) : true;
    const referenceOk = (result.reference ?? []).every((r) => r.identical);
    const ok = pcrsOk && referenceOk;
    if (format === 'json') {
      ctx.stdout.write(
        `${JSON.stringify({
          ok,
          recipe: 'nitro-cli',
          recipeFile: recipePath,
          recipeJson: used,
          ...result,
          ...(compared
            ? {
                expected: {
                  source: expectSource,
                  checks: compared.checks,
                  notCompared: compared.skipped.map((p) => `PCR${p}`),
                },
              }
            : {}),
        })}\n`,
      );
    } else if (format === 'nitro-cli') {
      ctx.stdout.write(
        `${JSON.stringify({ Measurements: { HashAlgorithm: 'Sha384 { ... }', ...result.pcrs } }, null, 2)}\n`,
      );
    } else if (format === 'pcrs') {
      ctx.stdout.write(
        Object.entries(result.pcrs)
          .map(([k, v]) => `${v} ${k}\n`)
          .join(''),
      );
    } else {
      ctx.stdout.write(human(result, compared?.checks, expectSource));
      if (compared && compared.skipped.length > 0) {
        ctx.stdout.write(
          `not compared (not computed without the blobs): ${compared.skipped.map((p) => `PCR${p}`).join(', ')}\n`,
        );
      }
      ctx.stdout.write(`recipe ${recipePath}\n`);
    }
    if (format !== 'json' && format !== 'human')
      for (const w of result.warnings) ctx.stderr.write(`warning: ${printable(w)}\n`);
    if (!ok && format !== 'json') {
      ctx.stderr.write(
        `enclave-verify: ${pcrsOk ? 'ERR_RECIPE: a rebuilt ramdisk differs from the reference' : 'ERR_PCR_MISMATCH: the rebuilt PCRs differ from the expected ones'}\n`,
      );
    }
    return ok ? EXIT.VERIFIED : EXIT.REJECTED;
  } catch (error) {
    return reportError(ctx, error, json);
  }
};
