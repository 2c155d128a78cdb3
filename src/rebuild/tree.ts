/**
 * In-memory model of a file system tree, the common ground of every rebuild stage: archive
 * readers fill it, recipes rewrite it, the cpio writer walks it.
 *
 * Paths are byte strings (see `paths.ts`); the root is `''`. Nodes are inodes: hard links are
 * the same {@link Inode} object under several names, so writing through one link changes all
 * of them, as on a real file system. File contents are not held here unless they already are
 * in memory: {@link FileData} fetches them when the archive is written.
 */
import { EnclaveVerifyError } from '../errors.js';
import { pathToText, splitPath } from './paths.js';

/** File types a ramdisk can hold. */
export type NodeType = 'file' | 'dir' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket';

/** Contents of a regular file, fetched on demand (from memory, a file, an archive range). */
export interface FileData {
  /** Exact length in bytes; the writer checks {@link bytes} against it. */
  readonly size: number;
  /** The contents. */
  bytes(): Uint8Array | Promise<Uint8Array>;
  /** Part of the contents, when the source allows reading a range (large files, bounded memory). */
  read?(offset: number, length: number): Uint8Array | Promise<Uint8Array>;
}

/** One file system object. Directories carry their children; other types carry no names. */
export interface Inode {
  type: NodeType;
  /** Permission bits including setuid/setgid/sticky (`0o7777`); the type is in {@link type}. */
  mode: number;
  uid: number;
  gid: number;
  /** Modification time, seconds since the epoch. */
  mtime: number;
  /** Regular files only. */
  data?: FileData;
  /** Symlinks only: the target as a byte string, exactly as stored. */
  target?: string;
  /** Character and block devices only. */
  rdevMajor?: number;
  rdevMinor?: number;
  /** Directories only: name (byte string) to inode. */
  children?: Map<string, Inode>;
}

/** A path of the tree and the inode it names, as listed by {@link FileTree.entries}. */
export interface TreeEntry {
  /** Byte-string path; `''` is the root. */
  path: string;
  inode: Inode;
  /** Number of names of {@link inode} in the whole tree (hard links). */
  links: number;
}

/** Type bits of `st_mode` for each {@link NodeType}. */
export const TYPE_BITS: Record<NodeType, number> = {
  file: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  fifo: 0o010000,
  char: 0o020000,
  block: 0o060000,
  socket: 0o140000,
};

/**
 * {@link NodeType} of a full `st_mode`, or undefined for an unknown type.
 *
 * @example
 * ```ts
 * nodeTypeOfMode(0o100644); // 'file'
 * ```
 */
export function nodeTypeOfMode(mode: number): NodeType | undefined {
  const bits = mode & 0o170000;
  for (const [type, value] of Object.entries(TYPE_BITS)) if (value === bits) return type as NodeType;
  return undefined;
}

/**
 * File contents already in memory.
 *
 * @example
 * ```ts
 * const data = memoryData(new TextEncoder().encode('hello\n'));
 * ```
 */
export function memoryData(bytes: Uint8Array): FileData {
  return { size: bytes.length, bytes: () => bytes };
}

/**
 * A new inode with owner 0:0 and mtime 0 unless given.
 *
 * @example
 * ```ts
 * const dir = makeInode('dir', 0o755);
 * ```
 */
export function makeInode(type: NodeType, mode: number, extra: Partial<Inode> = {}): Inode {
  const inode: Inode = { type, mode: mode & 0o7777, uid: 0, gid: 0, mtime: 0, ...extra };
  if (type === 'dir' && !inode.children) inode.children = new Map();
  return inode;
}

/**
 * A file system tree rooted at a directory inode. Lookups here never follow symlinks (the
 * `lstat` view); recipes that must resolve symlinks do so explicitly (see `overlay.ts`).
 *
 * @example
 * ```ts
 * const tree = new FileTree();
 * tree.set('etc/hostname', makeInode('file', 0o644, { data: memoryData(utf8('enclave\n')) }));
 * tree.entries().map((e) => e.path); // ['', 'etc', 'etc/hostname']
 * ```
 */
export class FileTree {
  readonly root: Inode;

  constructor(root: Inode = makeInode('dir', 0o755)) {
    if (root.type !== 'dir') throw new TypeError('the root of a tree must be a directory');
    this.root = root;
  }

  /** Inode at `path` without following any symlink, or undefined. */
  get(path: string): Inode | undefined {
    if (path === '') return this.root;
    let node: Inode | undefined = this.root;
    for (const part of path.split('/')) {
      node = node?.children?.get(part);
      if (!node) return undefined;
    }
    return node;
  }

  /**
   * Put `inode` at `path`, replacing whatever was there (a replaced directory goes with its
   * contents). Missing parent directories are created 0755; a non-directory in the way of a
   * parent is an error because real extraction would fail there too.
   */
  set(path: string, inode: Inode, parentMode = 0o755): void {
    if (path === '') {
      if (inode.type !== 'dir') throw recipeError('the root of the tree must stay a directory');
      const root = this.root;
      root.mode = inode.mode;
      root.uid = inode.uid;
      root.gid = inode.gid;
      root.mtime = inode.mtime;
      return;
    }
    const [parentPath, name] = splitPath(path);
    this.ensureDir(parentPath, parentMode).children!.set(name, inode);
  }

  /** Directory at `path`, creating missing ones (mode `mode`, owner 0:0, mtime 0). */
  ensureDir(path: string, mode = 0o755): Inode {
    let node = this.root;
    if (path === '') return node;
    let walked = '';
    for (const part of path.split('/')) {
      walked = walked === '' ? part : `${walked}/${part}`;
      let next = node.children!.get(part);
      if (!next) {
        next = makeInode('dir', mode);
        node.children!.set(part, next);
      } else if (next.type !== 'dir') {
        throw recipeError(
          `'${pathToText(walked)}' is a ${next.type}, not a directory, but entries are placed under it`,
        );
      }
      node = next;
    }
    return node;
  }

  /** Remove `path` (and everything under it); true when something was removed. */
  remove(path: string): boolean {
    if (path === '') throw recipeError('cannot remove the root of the tree');
    const [parentPath, name] = splitPath(path);
    const parent = this.get(parentPath);
    return parent?.type === 'dir' ? parent.children!.delete(name) : false;
  }

  /**
   * Every path with its inode in byte order of `./path`, the order of `find . | sort -z`
   * (so the root comes first), with the number of names each inode has in the tree.
   */
  entries(): TreeEntry[] {
    const list: { path: string; inode: Inode }[] = [];
    const links = new Map<Inode, number>();
    const walk = (dir: Inode, prefix: string): void => {
      for (const [name, child] of dir.children!) {
        const path = prefix === '' ? name : `${prefix}/${name}`;
        list.push({ path, inode: child });
        links.set(child, (links.get(child) ?? 0) + 1);
        if (child.type === 'dir') walk(child, path);
      }
    };
    walk(this.root, '');
    // Byte strings compare as bytes; every find path shares the './' prefix, so sorting the
    // bare paths gives the order of `sort -z` on find's output.
    list.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return [
      { path: '', inode: this.root, links: 1 },
      ...list.map((e) => ({ ...e, links: links.get(e.inode) ?? 1 })),
    ];
  }

  /** Number of paths in the tree, the root included. */
  get size(): number {
    let n = 1;
    const walk = (dir: Inode): void => {
      for (const child of dir.children!.values()) {
        n++;
        if (child.type === 'dir') walk(child);
      }
    };
    walk(this.root);
    return n;
  }
}

function recipeError(message: string): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_RECIPE', message);
}
