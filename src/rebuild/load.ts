/**
 * Building a {@link FileTree} from archives: a flat tar (`docker export`, overlay), image
 * layers, or a newc cpio ramdisk.
 */
import { EnclaveVerifyError } from '../errors.js';
import { applyLayer } from './apply.js';
import type { CpioEntry } from './cpio.js';
import { bytesToPath, normalizeMemberPath, pathToText, splitPath } from './paths.js';
import { type ByteSource, readTar, type TarReadOptions } from './tar.js';
import { FileTree, type Inode, makeInode, memoryData } from './tree.js';

/**
 * The tree a flat tar archive describes (a `docker export` tar: no whiteouts).
 *
 * @example
 * ```ts
 * const tree = await treeFromTar(memorySource(bytes), { label: 'app.tar' });
 * ```
 */
export async function treeFromTar(source: ByteSource, options: TarReadOptions = {}): Promise<FileTree> {
  const tree = new FileTree();
  await applyLayer(tree, readTar(source, options));
  return tree;
}

/**
 * The tree a newc archive unpacks to. Hard links are the entries sharing an inode number
 * with a link count above 1; their contents are those of the entry that carries data (GNU
 * cpio puts them on the last name, other writers on the first).
 *
 * @example
 * ```ts
 * const tree = treeFromCpio(readCpio(bytes));
 * ```
 */
export function treeFromCpio(entries: CpioEntry[]): FileTree {
  const tree = new FileTree();
  const groups = new Map<string, Inode>();
  for (const e of entries) {
    const path = normalizeMemberPath(e.name, 'cpio member');
    const base = { uid: e.uid, gid: e.gid, mtime: e.mtime };
    let inode: Inode;
    switch (e.type) {
      case 'dir':
        if (path === '') {
          tree.set('', makeInode('dir', e.mode, base));
          continue;
        }
        {
          const existing = tree.get(path);
          if (existing?.type === 'dir') {
            Object.assign(existing, base, { mode: e.mode & 0o7777 });
            continue;
          }
        }
        inode = makeInode('dir', e.mode, base);
        break;
      case 'symlink':
        inode = makeInode('symlink', e.mode, { ...base, target: bytesToPath(e.data) });
        break;
      case 'file': {
        const key = `${e.archive}:${e.devMajor}:${e.devMinor}:${e.ino}`;
        const shared = e.nlink > 1 ? groups.get(key) : undefined;
        if (shared) {
          if (e.data.length > 0) shared.data = memoryData(e.data);
          inode = shared;
        } else {
          inode = makeInode('file', e.mode, { ...base, data: memoryData(e.data) });
          if (e.nlink > 1) groups.set(key, inode);
        }
        break;
      }
      default:
        inode = makeInode(e.type, e.mode, { ...base, rdevMajor: e.rdevMajor, rdevMinor: e.rdevMinor });
    }
    if (path === '') {
      throw new EnclaveVerifyError(
        'ERR_ARCHIVE_MALFORMED',
        `cpio root entry '.' is a ${e.type}, not a directory`,
      );
    }
    const [parent] = splitPath(path);
    const dir = tree.get(parent);
    if (dir && dir.type !== 'dir') {
      throw new EnclaveVerifyError(
        'ERR_ARCHIVE_MALFORMED',
        `cpio member '${pathToText(path)}' is placed under a ${dir.type}`,
      );
    }
    try {
      tree.set(path, inode);
    } catch (cause) {
      // a member under a symlink or file: unpacking it would write through or fail
      throw new EnclaveVerifyError(
        'ERR_ARCHIVE_MALFORMED',
        `cpio member '${pathToText(path)}' is placed under something that is not a directory`,
        { cause },
      );
    }
  }
  return tree;
}
