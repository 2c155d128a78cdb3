/**
 * Caution's ramdisk recipe (SPEC 3.1): the application's file system with the EnclaveOS /
 * platform files laid over it, normalised, archived with GNU cpio 2.15 `--reproducible` and
 * compressed with busybox 1.37.0 gzip.
 */
import { EnclaveVerifyError } from '../errors.js';
import { extractOverlay, resolveDir } from './apply.js';
import { type CpioWriteOptions, writeCpio } from './cpio.js';
import { pathToText } from './paths.js';
import type { TarEntry } from './tar.js';
import type { FileTree, Inode } from './tree.js';

/** Kernel command line Caution's template passes to eif_build (SPEC 3.1). */
export const CAUTION_CMDLINE =
  'reboot=k panic=1 pci=off nomodules console=ttyS0 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd nit.target=/run.sh';

function walk(dir: Inode, fn: (inode: Inode) => void, seen = new Set<Inode>()): void {
  for (const child of dir.children!.values()) {
    if (seen.has(child)) continue;
    seen.add(child);
    fn(child);
    if (child.type === 'dir') walk(child, fn, seen);
  }
}

/**
 * Modes as the template normalises the application: directories 0755, regular files with any
 * execute bit 0755, other regular files 0644 (setuid/setgid/sticky dropped), symlinks 0777;
 * devices and fifos keep their bits. Owners become 0:0.
 *
 * @example
 * ```ts
 * normalizeAppTree(appTree);
 * ```
 */
export function normalizeAppTree(tree: FileTree): void {
  const fix = (inode: Inode): void => {
    inode.uid = 0;
    inode.gid = 0;
    if (inode.type === 'dir') inode.mode = 0o755;
    else if (inode.type === 'file') inode.mode = (inode.mode & 0o111) !== 0 ? 0o755 : 0o644;
    else if (inode.type === 'symlink') inode.mode = 0o777;
  };
  fix(tree.root);
  walk(tree.root, fix);
}

/**
 * The template's layout checks: `bin` and `lib` are directories or the symlinks `usr/bin` and
 * `usr/lib` (anything else is refused); `etc/ssl/certs` is created 0755 when missing.
 *
 * @example
 * ```ts
 * checkCautionLayout(appTree); // throws ERR_RECIPE when bin -> /somewhere/else
 * ```
 */
export function checkCautionLayout(tree: FileTree): void {
  for (const name of ['bin', 'lib']) {
    const node = tree.root.children!.get(name);
    if (!node || node.type === 'dir') continue;
    if (node.type === 'symlink' && node.target === `usr/${name}`) continue;
    const what =
      node.type === 'symlink' ? `a symlink to '${pathToText(node.target ?? '')}'` : `a ${node.type}`;
    throw new EnclaveVerifyError(
      'ERR_RECIPE',
      `the application's /${name} is ${what}; Caution's template accepts only a directory or the symlink ${name} -> usr/${name}`,
      { details: { path: name } },
    );
  }
  resolveDir(tree, 'etc/ssl/certs', true);
}

/**
 * Every entry's mtime 0 (`touch -hcd @0`) and owner 0:0.
 *
 * @example
 * ```ts
 * finalizeTree(tree);
 * ```
 */
export function finalizeTree(tree: FileTree): void {
  const fix = (inode: Inode): void => {
    inode.mtime = 0;
    inode.uid = 0;
    inode.gid = 0;
  };
  fix(tree.root);
  walk(tree.root, fix);
}

/**
 * Steps 1-5 of the Caution recipe on an application tree already loaded (from a `docker
 * export` tar, a directory or image layers): normalise it, check the layout, lay the
 * overlays over it in order, zero mtimes and owners. The tree is modified in place.
 *
 * @example
 * ```ts
 * const tree = await treeFromTar(memorySource(appTar));
 * await buildCautionTree(tree, [readTar(memorySource(enclaveOsTar))]);
 * for await (const chunk of writeCpio(tree)) gzip.write(chunk);
 * ```
 */
export async function buildCautionTree(
  tree: FileTree,
  overlays: Iterable<AsyncIterable<TarEntry> | Iterable<TarEntry>>,
): Promise<FileTree> {
  normalizeAppTree(tree);
  checkCautionLayout(tree);
  for (const overlay of overlays) await extractOverlay(tree, overlay);
  finalizeTree(tree);
  return tree;
}

/** Something that compresses a stream: busybox-compatible gzip in practice. */
export interface StreamCompressor {
  write(chunk: Uint8Array): Uint8Array;
  end(): Uint8Array;
}

/** Consumer of the archive streams of {@link archiveTree}. */
export interface ArchiveSinks {
  /** Receives the uncompressed cpio stream. */
  cpio?(chunk: Uint8Array): void | Promise<void>;
  /** Receives the compressed stream (needs `compressor`). */
  compressed?(chunk: Uint8Array): void | Promise<void>;
}

/**
 * Write the cpio archive of `tree` and, when a compressor is given, its compressed form, in
 * one pass: chunks flow to the sinks as they are produced.
 *
 * @example
 * ```ts
 * await archiveTree(tree, new BusyboxGzipEncoder(), { compressed: (c) => out.write(c) });
 * ```
 */
export async function archiveTree(
  tree: FileTree,
  compressor: StreamCompressor | undefined,
  sinks: ArchiveSinks,
  options: CpioWriteOptions = {},
): Promise<{ cpioSize: number; compressedSize: number }> {
  let cpioSize = 0;
  let compressedSize = 0;
  for await (const chunk of writeCpio(tree, options)) {
    cpioSize += chunk.length;
    if (sinks.cpio) await sinks.cpio(chunk);
    if (compressor) {
      const z = compressor.write(chunk);
      compressedSize += z.length;
      if (z.length > 0 && sinks.compressed) await sinks.compressed(z);
    }
  }
  if (compressor) {
    const z = compressor.end();
    compressedSize += z.length;
    if (z.length > 0 && sinks.compressed) await sinks.compressed(z);
  }
  return { cpioSize, compressedSize };
}
