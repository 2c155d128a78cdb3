/**
 * Putting archive members into a {@link FileTree}, with the two semantics the recipes need:
 * - {@link applyLayer}: a container image layer (or a `docker export` tar): members replace
 *   what is there, directories merge, `.wh.NAME` deletes NAME and `.wh..wh..opq` empties a
 *   directory of what lower layers put in it (OCI image spec, "whiteouts").
 * - {@link extractOverlay}: `tar -xp --overwrite --keep-directory-symlink` run inside the
 *   tree, as checked against GNU tar by the tests: a regular file over an existing regular
 *   file is written in place (so every hard link of it changes), other types replace the old
 *   entry, a directory member over a symlink to a directory keeps the symlink and leaves the
 *   target's mode alone, over a real directory it sets the mode.
 * Both resolve symlinks in parent paths inside the tree (chroot-like: an absolute target
 * starts at the tree's root, `..` stops at it), so `bin/x` over `bin -> usr/bin` lands in
 * `usr/bin/x` and nothing can be written outside the tree.
 */
import { EnclaveVerifyError } from '../errors.js';
import { pathToText, splitPath } from './paths.js';
import type { TarEntry } from './tar.js';
import { type FileTree, type Inode, makeInode } from './tree.js';

const MAX_SYMLINK_HOPS = 40;

function recipeError(message: string, path: string): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_RECIPE', message, { details: { path: pathToText(path) } });
}

/**
 * Directory inode that `path` resolves to, following every symlink inside the tree; missing
 * directories are created 0755 when `create` is set. Throws ERR_RECIPE when a component is not
 * a directory.
 *
 * @example
 * ```ts
 * const dir = resolveDir(tree, 'bin', true); // the inode of usr/bin when bin -> usr/bin
 * ```
 */
export function resolveDir(tree: FileTree, path: string, create: boolean): Inode | undefined {
  const stack: Inode[] = [tree.root];
  const todo = path === '' ? [] : path.split('/').reverse();
  let hops = 0;
  while (todo.length > 0) {
    const part = todo.pop()!;
    if (part === '' || part === '.') continue;
    const here = stack[stack.length - 1]!;
    if (part === '..') {
      if (stack.length > 1) stack.pop();
      continue;
    }
    let child = here.children!.get(part);
    if (!child) {
      if (!create) return undefined;
      // Also behind a dangling symlink, where GNU tar fails (Cannot open): creating the
      // missing target keeps even hostile links landing inside the tree (test/fuzz relies on it).
      child = makeInode('dir', 0o755);
      here.children!.set(part, child);
    }
    if (child.type === 'symlink') {
      if (++hops > MAX_SYMLINK_HOPS)
        throw recipeError(`too many levels of symlinks under '${pathToText(path)}'`, path);
      const target = child.target ?? '';
      if (target.startsWith('/')) stack.length = 1;
      todo.push(...target.split('/').reverse());
      continue;
    }
    if (child.type !== 'dir') {
      if (!create) return undefined;
      throw recipeError(
        `'${pathToText(path)}' goes through '${pathToText(part)}', which is a ${child.type}, not a directory`,
        path,
      );
    }
    stack.push(child);
  }
  return stack[stack.length - 1]!;
}

/**
 * Inode `path` names, following symlinks in the parents but not in the last component
 * (the `lstat` view through the tree's symlinks).
 *
 * @example
 * ```ts
 * lookup(tree, 'bin/sh'); // the inode of usr/bin/sh when bin -> usr/bin
 * ```
 */
export function lookup(tree: FileTree, path: string): Inode | undefined {
  if (path === '') return tree.root;
  const [parent, name] = splitPath(path);
  return resolveDir(tree, parent, false)?.children?.get(name);
}

function inodeOf(entry: TarEntry): Inode {
  const base = { uid: entry.uid, gid: entry.gid, mtime: entry.mtime };
  switch (entry.type) {
    case 'file':
      return makeInode('file', entry.mode, { ...base, data: entry.data });
    case 'dir':
      return makeInode('dir', entry.mode, base);
    case 'symlink':
      return makeInode('symlink', 0o777, { ...base, target: entry.linkTarget });
    case 'char':
    case 'block':
      return makeInode(entry.type, entry.mode, {
        ...base,
        rdevMajor: entry.devMajor,
        rdevMinor: entry.devMinor,
      });
    case 'fifo':
      return makeInode('fifo', entry.mode, base);
    case 'hardlink':
      throw new TypeError('hard links name an existing inode');
  }
}

function hardlinkTarget(tree: FileTree, entry: TarEntry): Inode {
  const target = lookup(tree, entry.linkTarget);
  if (!target) {
    throw new EnclaveVerifyError(
      'ERR_ARCHIVE_MALFORMED',
      `hard link '${pathToText(entry.path)}' names '${pathToText(entry.linkTarget)}', which is not in the tree before it`,
      { details: { path: pathToText(entry.path), target: pathToText(entry.linkTarget) } },
    );
  }
  if (target.type === 'dir') {
    throw new EnclaveVerifyError(
      'ERR_ARCHIVE_UNSAFE',
      `hard link '${pathToText(entry.path)}' names a directory`,
    );
  }
  return target;
}

function setMeta(target: Inode, entry: TarEntry): void {
  target.mode = entry.mode & 0o7777;
  target.uid = entry.uid;
  target.gid = entry.gid;
  target.mtime = entry.mtime;
}

/** Options of {@link applyLayer}. */
export interface ApplyLayerOptions {
  /** Interpret `.wh.` names as OCI whiteouts (image layers); off for `docker export` tars. */
  whiteouts?: boolean;
}

/**
 * Apply one image layer (or a flat `docker export` tar) to `tree`.
 *
 * @example
 * ```ts
 * const tree = new FileTree();
 * for (const layer of layers) await applyLayer(tree, readTar(layer), { whiteouts: true });
 * ```
 */
export async function applyLayer(
  tree: FileTree,
  entries: AsyncIterable<TarEntry> | Iterable<TarEntry>,
  options: ApplyLayerOptions = {},
): Promise<void> {
  const members: TarEntry[] = [];
  for await (const e of entries) members.push(e);
  // Whiteouts hide what lower layers hold, never what this layer adds: apply them first.
  const rest: TarEntry[] = [];
  for (const e of members) {
    const [parent, name] = splitPath(e.path);
    if (options.whiteouts && name.startsWith('.wh.')) {
      const dir = resolveDir(tree, parent, false);
      if (!dir) continue;
      if (name === '.wh..wh..opq') dir.children!.clear();
      else dir.children!.delete(name.slice(4));
    } else {
      rest.push(e);
    }
  }
  for (const e of rest) {
    if (e.path === '') {
      if (e.type === 'dir') setMeta(tree.root, e);
      continue;
    }
    const [parent, name] = splitPath(e.path);
    const dir = resolveDir(tree, parent, true)!;
    const existing = dir.children!.get(name);
    if (e.type === 'dir' && existing?.type === 'dir') {
      setMeta(existing, e);
      continue;
    }
    dir.children!.set(name, e.type === 'hardlink' ? hardlinkTarget(tree, e) : inodeOf(e));
  }
}

/**
 * Extract an overlay archive over `tree` like `tar -xp --overwrite --keep-directory-symlink`
 * run at the tree's root.
 *
 * @example
 * ```ts
 * await extractOverlay(tree, readTar(memorySource(enclaveOsTar), { label: 'enclaveos.tar' }));
 * ```
 */
export async function extractOverlay(
  tree: FileTree,
  entries: AsyncIterable<TarEntry> | Iterable<TarEntry>,
): Promise<void> {
  for await (const e of entries) {
    if (e.path === '') {
      if (e.type === 'dir') setMeta(tree.root, e);
      continue;
    }
    const [parent, name] = splitPath(e.path);
    const dir = resolveDir(tree, parent, true)!;
    const existing = dir.children!.get(name);
    if (e.type === 'dir') {
      if (existing?.type === 'dir') {
        setMeta(existing, e);
        continue;
      }
      if (existing?.type === 'symlink' && resolveDir(tree, e.path, false)) continue;
      dir.children!.set(name, inodeOf(e));
      continue;
    }
    if (existing?.type === 'dir' && existing.children!.size > 0) {
      throw recipeError(
        `overlay member '${pathToText(e.path)}' (${e.type}) would replace a non-empty directory; tar refuses that too`,
        e.path,
      );
    }
    if (e.type === 'file' && existing?.type === 'fifo') {
      // tar opens the existing name for writing; on a fifo without a reader that fails (ENXIO)
      throw recipeError(
        `overlay file '${pathToText(e.path)}' would be written into an existing fifo; tar fails there`,
        e.path,
      );
    }
    if (e.type === 'file' && existing?.type === 'file') {
      // tar opens the existing file with O_TRUNC: the inode, and so every hard link, changes.
      existing.data = e.data;
      setMeta(existing, e);
      continue;
    }
    if (e.type === 'hardlink') {
      const target = hardlinkTarget(tree, e);
      if (target !== existing) dir.children!.set(name, target);
      continue;
    }
    dir.children!.set(name, inodeOf(e));
  }
}
