/**
 * `enclave-verify ramdisk ls|extract|diff`: look inside enclave ramdisks (newc cpio, gzip'd or
 * not, or the ramdisks of an EIF) without unpacking them as root: list every entry with its
 * SHA-256, unpack to a directory or a tar, compare two archives entry by entry.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { printable } from '../../deployment/response.js';
import { EnclaveVerifyError } from '../../errors.js';
import { readCpio } from '../../rebuild/cpio.js';
import { treeFromCpio } from '../../rebuild/load.js';
import { writeTreeToDirectory } from '../../rebuild/node/fs.js';
import { type RamdiskBytes, ramdisksFromFile } from '../../rebuild/node/ramdisk-file.js';
import { diffRamdisks, listRamdisk, type RamdiskListing } from '../../rebuild/ramdisk.js';
import { writeTar } from '../../rebuild/tar-write.js';
import { parseFlags, usageError } from '../args.js';
import type { Command } from '../context.js';
import { EXIT, reportError } from '../context.js';

const HELP = `usage: enclave-verify ramdisk ls <rootfs.cpio[.gz]|image.eif> [--index N] [--json]
       enclave-verify ramdisk extract <rootfs.cpio[.gz]|image.eif> --out DIR|FILE.tar [--index N]
       enclave-verify ramdisk diff <rebuilt> <reference> [--index N] [--json]

ls       every entry: type, mode, owner, size, SHA-256, link target (hard links name the entry
         that carries their data), in archive order. Ramdisks are read as the kernel reads
         them: every member (gzip or plain newc, NUL padding between) is listed, entries of a
         second or later archive marked "(archive N)"; other bytes are an error, never skipped
extract  unpack to a new directory (modes, owners when root, mtimes, links, fifos, devices when
         root) or to a tar file; names with '..' or a leading '/' are refused
diff     entries that differ between two ramdisks (exit 1 when they differ)

options:
  --index N   which ramdisk of an EIF (0 = first); without it ls lists every ramdisk, extract
              and diff take the last one (the application's)
  --out PATH  extract destination: a directory, or a file ending in .tar
  --json      one JSON object on stdout
  --help      show this help

Exit codes: 0 done (diff: identical), 1 the ramdisks differ or an archive or EIF is malformed,
2 usage or input error.
`;

const usage = (message: string) => usageError('ramdisk', message);

function pick(ramdisks: RamdiskBytes[], index: string | undefined, file: string): RamdiskBytes {
  if (ramdisks.length === 0) throw new EnclaveVerifyError('ERR_INPUT_FORMAT', `'${file}' holds no ramdisk`);
  if (index === undefined) return ramdisks[ramdisks.length - 1]!;
  const i = Number(index);
  const r = Number.isInteger(i) ? ramdisks[i] : undefined;
  if (!r) throw usage(`--index ${index}: '${file}' has ramdisks 0..${ramdisks.length - 1}`);
  return r;
}

function row(e: RamdiskListing): string {
  const size = e.type === 'file' ? String(e.size) : e.type === 'dir' ? '-' : (e.rdev ?? String(e.size));
  let tail = e.path;
  if (e.target !== undefined) tail += ` -> ${e.target}`;
  if (e.dataIn !== undefined && e.dataIn !== e.path) tail += ` (hard link, data in ${e.dataIn})`;
  // A later archive of the same ramdisk: the kernel unpacks it too, over the earlier ones.
  if (e.archive > 0) tail += ` (archive ${e.archive})`;
  // Names and link targets are the archive's bytes: no control characters to the terminal.
  return `${e.type.padEnd(7)} ${e.mode} ${`${e.uid}:${e.gid}`.padEnd(9)} ${size.padStart(10)} ${(e.sha256 ?? '-').padEnd(64)} ${printable(tail)}`;
}

/**
 * CLI entry of `enclave-verify ramdisk`.
 *
 * @example
 * ```ts
 * await run(['ls', 'rootfs.cpio.gz', '--json'], ctx);
 * ```
 */
export const run: Command = async (argv, ctx) => {
  let json = argv.includes('--json');
  try {
    const { values, positionals } = parseFlags(
      {
        args: argv,
        allowPositionals: true,
        options: {
          out: { type: 'string' },
          index: { type: 'string' },
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
    json = values.json ?? false;
    const [sub, ...files] = positionals;
    const at = (p: string) => resolve(ctx.cwd, p);
    if (sub === 'ls') {
      if (files.length !== 1) throw usage('ramdisk ls takes one file');
      const all = await ramdisksFromFile(at(files[0]!));
      const chosen = values.index === undefined ? all : [pick(all, values.index, files[0]!)];
      const listed = await Promise.all(
        chosen.map(async (r) => ({ ramdisk: r.label, entries: await listRamdisk(readCpio(r.cpio)) })),
      );
      if (json) {
        ctx.stdout.write(`${JSON.stringify({ ok: true, file: files[0], ramdisks: listed })}\n`);
      } else {
        for (const l of listed) {
          if (listed.length > 1) ctx.stdout.write(`# ${printable(l.ramdisk)}\n`);
          for (const e of l.entries) ctx.stdout.write(`${row(e)}\n`);
        }
      }
      return EXIT.VERIFIED;
    }
    if (sub === 'extract') {
      if (files.length !== 1) throw usage('ramdisk extract takes one file');
      if (!values.out) throw usage('--out DIR or --out FILE.tar is required');
      const r = pick(await ramdisksFromFile(at(files[0]!)), values.index, files[0]!);
      const tree = treeFromCpio(readCpio(r.cpio));
      const out = at(values.out);
      if (out.endsWith('.tar')) {
        const fd = openSync(out, 'wx');
        try {
          for await (const chunk of writeTar(tree)) {
            let done = 0;
            while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
          }
        } finally {
          closeSync(fd);
        }
      } else {
        await writeTreeToDirectory(tree, out);
      }
      if (json)
        ctx.stdout.write(`${JSON.stringify({ ok: true, ramdisk: r.label, out, entries: tree.size })}\n`);
      else ctx.stdout.write(`extracted ${tree.size} entries of ${printable(r.label)} to ${printable(out)}\n`);
      return EXIT.VERIFIED;
    }
    if (sub === 'diff') {
      if (files.length !== 2) throw usage('ramdisk diff takes two files: rebuilt and reference');
      const a = pick(await ramdisksFromFile(at(files[0]!)), values.index, files[0]!);
      const b = pick(await ramdisksFromFile(at(files[1]!)), values.index, files[1]!);
      const diff = await diffRamdisks(a.cpio, b.cpio);
      if (json) ctx.stdout.write(`${JSON.stringify({ ok: diff.identical, ...diff })}\n`);
      else {
        ctx.stdout.write(`${diff.identical ? 'identical' : `${diff.differences.length} entries differ`}\n`);
        for (const d of diff.differences) {
          const what =
            d.change === 'changed'
              ? (d.fields ?? [])
                  .map((f) => `${f.field} ${String(f.rebuilt)} vs ${String(f.reference)}`)
                  .join(', ')
              : d.change === 'added'
                ? 'only in the first'
                : 'only in the second';
          ctx.stdout.write(`  ${printable(`${d.path}: ${what}`)}\n`);
        }
        if (diff.orderDiffers) ctx.stdout.write('  same entries, different order\n');
        if (diff.layoutOnly) ctx.stdout.write('  same entries and contents; header layout differs\n');
      }
      return diff.identical ? EXIT.VERIFIED : EXIT.REJECTED;
    }
    throw usage(
      sub === undefined ? 'missing sub-command (ls, extract, diff)' : `unknown sub-command '${sub}'`,
    );
  } catch (error) {
    return reportError(ctx, error, json);
  }
};
