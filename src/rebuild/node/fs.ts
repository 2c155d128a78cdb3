/**
 * Node-only bridges between {@link FileTree} and the disk: files as byte sources, directories
 * read into trees (hard links kept), trees written out as directories.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { EnclaveVerifyError } from '../../errors.js';
import type { ImageFiles } from '../image.js';
import { pathToText } from '../paths.js';
import type { ByteSource } from '../tar.js';
import { FileTree, type Inode, makeInode, nodeTypeOfMode } from '../tree.js';

/** A file opened as a {@link ByteSource}; call `close()` when done. */
export interface FileSource extends ByteSource {
  close(): void;
}

function ioError(what: string, path: string, cause: unknown): EnclaveVerifyError {
  const code = (cause as NodeJS.ErrnoException)?.code ?? 'error';
  return new EnclaveVerifyError(
    'ERR_IO',
    `cannot ${what} '${path}' (${code}); check the path and permissions`,
    {
      cause,
    },
  );
}

/**
 * Open `path` for random-access reads.
 *
 * @example
 * ```ts
 * const src = openFileSource('app.tar');
 * try { const tree = await treeFromTar(src); } finally { src.close(); }
 * ```
 */
export function openFileSource(path: string): FileSource {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw ioError('open', path, e);
  }
  const size = fs.fstatSync(fd).size;
  return {
    size,
    read(offset, length) {
      const n = Math.max(0, Math.min(length, size - offset));
      // Uninitialised memory, filled by the read: zero-filling fresh buffers cost more CPU
      // than the reads themselves on large images. A plain Uint8Array over its own
      // ArrayBuffer (not Buffer's shared pool), so `.buffer` and `.slice()` behave as usual.
      const buf = new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
      let done = 0;
      while (done < n) {
        const r = fs.readSync(fd, buf, done, n - done, offset + done);
        if (r === 0) break;
        done += r;
      }
      if (done === n) return buf;
      buf.fill(0, done); // a file that shrank: never expose what the memory held before
      return buf.subarray(0, done);
    },
    close() {
      fs.closeSync(fd);
    },
  };
}

// Two kinds of path meet here. A directory the user names (`--out`, `--app`) is text and
// reaches the file system as UTF-8, as every other Node call spells a string path. Names from
// an archive are byte strings (see paths.ts): one character per byte, so they go through
// Latin-1 and arrive byte for byte, even when they are not UTF-8.
const hostPath = (p: string): Buffer => Buffer.from(p, 'utf8');
const archivePath = (p: string): Buffer => Buffer.from(p, 'latin1');
const SLASH = Buffer.from('/');

/**
 * Read a directory into a tree, as `find` + `lstat` see it: owners, modes, mtimes, symlink
 * targets and device numbers as on disk, hard links (same device and inode) as one
 * {@link Inode}. File contents are read when the archive is written.
 *
 * @example
 * ```ts
 * const tree = treeFromDirectory('/tmp/rootfs');
 * ```
 */
export function treeFromDirectory(root: string): FileTree {
  let rootStat: fs.Stats;
  try {
    rootStat = fs.lstatSync(root);
  } catch (e) {
    throw ioError('read directory', root, e);
  }
  if (!rootStat.isDirectory()) {
    throw new EnclaveVerifyError('ERR_USAGE', `'${root}' is not a directory`);
  }
  const tree = new FileTree(
    makeInode('dir', rootStat.mode, {
      uid: rootStat.uid,
      gid: rootStat.gid,
      mtime: Math.floor(rootStat.mtimeMs / 1000),
    }),
  );
  const seen = new Map<string, Inode>();
  const rootBuf = hostPath(root);
  const walk = (dirInode: Inode, rel: string): void => {
    const dirPath = rel === '' ? rootBuf : Buffer.concat([rootBuf, SLASH, archivePath(rel)]);
    let names: Buffer[];
    try {
      names = fs.readdirSync(dirPath, { encoding: 'buffer' });
    } catch (e) {
      throw ioError('list', rel === '' ? root : `${root}/${pathToText(rel)}`, e);
    }
    for (const nameBuf of names) {
      const name = nameBuf.toString('latin1');
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const full = Buffer.concat([dirPath, SLASH, nameBuf]);
      const st = fs.lstatSync(full, { bigint: true });
      const type = nodeTypeOfMode(Number(st.mode));
      if (!type) throw new EnclaveVerifyError('ERR_IO', `'${pathToText(childRel)}' has an unknown file type`);
      const key = `${st.dev}:${st.ino}`;
      const linked = type !== 'dir' && st.nlink > 1n ? seen.get(key) : undefined;
      if (linked) {
        dirInode.children!.set(name, linked);
        continue;
      }
      const meta = { uid: Number(st.uid), gid: Number(st.gid), mtime: Number(st.mtimeMs / 1000n) };
      let inode: Inode;
      if (type === 'file') {
        const size = Number(st.size);
        inode = makeInode('file', Number(st.mode), {
          ...meta,
          data: { size, bytes: () => new Uint8Array(fs.readFileSync(full)) },
        });
      } else if (type === 'symlink') {
        inode = makeInode('symlink', Number(st.mode), {
          ...meta,
          target: (fs.readlinkSync(full, { encoding: 'buffer' }) as Buffer).toString('latin1'),
        });
      } else if (type === 'char' || type === 'block') {
        const rdev = Number(st.rdev);
        inode = makeInode(type, Number(st.mode), {
          ...meta,
          rdevMajor: Math.floor(rdev / 256) & 0xfff,
          rdevMinor: (rdev & 0xff) | (Math.floor(rdev / 4096) & 0xfff00),
        });
      } else {
        inode = makeInode(type, Number(st.mode), meta);
      }
      if (type !== 'dir' && st.nlink > 1n) seen.set(key, inode);
      dirInode.children!.set(name, inode);
      if (type === 'dir') walk(inode, childRel);
    }
  };
  walk(tree.root, '');
  return tree;
}

/**
 * Write `tree` under `dir` (which must not exist or be empty): contents, modes, owners (when
 * running as root), mtimes, symlinks, hard links, fifos and device nodes (`mknod`, root only).
 *
 * @example
 * ```ts
 * await writeTreeToDirectory(treeFromCpio(readCpio(bytes)), 'out/rootfs');
 * ```
 */
export async function writeTreeToDirectory(tree: FileTree, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  if (fs.readdirSync(dir).length > 0) {
    throw new EnclaveVerifyError('ERR_USAGE', `'${dir}' is not empty; give a new or empty directory`);
  }
  const isRoot = process.getuid?.() === 0;
  const written = new Map<Inode, Buffer>();
  const dirs: [Buffer, Inode][] = [];
  const base = hostPath(dir);
  for (const { path, inode } of tree.entries()) {
    const full = path === '' ? base : Buffer.concat([base, SLASH, archivePath(path)]);
    const first = written.get(inode);
    if (first && inode.type !== 'dir') {
      fs.linkSync(first, full);
      continue;
    }
    switch (inode.type) {
      case 'dir':
        if (path !== '') fs.mkdirSync(full);
        dirs.push([full, inode]);
        continue;
      case 'file':
        fs.writeFileSync(full, inode.data ? await inode.data.bytes() : new Uint8Array(0));
        break;
      case 'symlink':
        fs.symlinkSync(archivePath(inode.target ?? ''), full);
        break;
      default: {
        const kind =
          inode.type === 'fifo' ? 'p' : inode.type === 'char' ? 'c' : inode.type === 'block' ? 'b' : '';
        if (!kind) continue; // sockets cannot be recreated from an archive
        // mknod(1) takes its path as an argument, and Node passes arguments as UTF-8 text: an
        // archive name that is not UTF-8 cannot be spelled there. So the node is made under a
        // fresh ASCII name in `dir` (text, so UTF-8 is right) and renamed to its byte-exact name.
        const scratch = `.enclave-verify-mknod-${randomUUID()}`;
        const args = [scratch, kind];
        if (kind !== 'p') args.push(String(inode.rdevMajor ?? 0), String(inode.rdevMinor ?? 0));
        const r = spawnSync('mknod', args, { cwd: dir, encoding: 'utf8' });
        if (r.status !== 0) {
          throw new EnclaveVerifyError(
            'ERR_IO',
            `cannot create ${inode.type} '${pathToText(path)}': ${r.stderr || r.error?.message || 'mknod failed'}`,
          );
        }
        fs.renameSync(Buffer.concat([base, SLASH, Buffer.from(scratch)]), full);
      }
    }
    written.set(inode, full);
    if (isRoot) fs.lchownSync(full, inode.uid, inode.gid);
    if (inode.type !== 'symlink') fs.chmodSync(full, inode.mode);
    fs.lutimesSync(full, inode.mtime, inode.mtime);
  }
  // Directories last, deepest first, so that writing their children did not touch the times.
  for (const [full, inode] of dirs.reverse()) {
    if (isRoot) fs.lchownSync(full, inode.uid, inode.gid);
    fs.chmodSync(full, inode.mode);
    fs.utimesSync(full, inode.mtime, inode.mtime);
  }
}

/**
 * An image directory (an OCI layout) as {@link ImageFiles}: each file asked for is opened and
 * added to `opened`, which the caller closes when done; a missing or non-regular file is
 * undefined.
 *
 * @example
 * ```ts
 * const opened: FileSource[] = [];
 * const files = directoryFiles('oci-dir', opened);
 * ```
 */
export function directoryFiles(root: string, opened: FileSource[]): ImageFiles {
  return {
    get(path) {
      const full = join(root, path);
      if (!fs.existsSync(full) || !fs.statSync(full).isFile()) return undefined;
      const s = openFileSource(full);
      opened.push(s);
      return s;
    },
  };
}

/**
 * Writes all of `bytes` to an open file (`writeSync` may write less than asked).
 *
 * @example
 * ```ts
 * writeAll(fd, chunk);
 * ```
 */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done);
}
