/**
 * What `docker create` + `docker export` (Docker 20.10, overlay2) make of an image, emulated on
 * in-memory trees (SPEC 3.3), so nitro-cli's customer ramdisk can be rebuilt without Docker:
 * - each layer is unpacked as Docker's `archive.Unpack` does into an empty diff directory
 *   (a parent missing from the layer tar is created 0755 root:root at extraction time, `.wh.`
 *   names become whiteouts, `.wh..wh..opq` marks the directory opaque, a hard-link member's own
 *   mode/owner/mtime land on the shared inode), then laid over the layers below as overlayfs
 *   does (the upper directory's attributes win, whiteouts and opaque directories hide);
 * - the container's init layer (`.dockerenv`, `etc/hosts`, `etc/resolv.conf`, `etc/hostname`,
 *   `dev/console`, `dev/pts`, `dev/shm`, `proc`, `sys`, `etc/mtab`) and the working directory;
 * - the export walk: depth first, siblings in byte order, directories named with a trailing `/`,
 *   a second name of an inode as a hard link to the first.
 * Entries whose mtime is the time Docker ran (implicit directories) are tracked so recipes can
 * say which outputs depend on it.
 */
import { EnclaveVerifyError } from '../errors.js';
import { lookup, resolveDir } from './apply.js';
import { pathToText, splitPath } from './paths.js';
import type { TarEntry } from './tar.js';
import { type FileData, FileTree, type Inode, makeInode, memoryData } from './tree.js';

/** The parts of an image's config (`docker inspect` `.Config`) that nitro-cli and Docker use. */
export interface DockerImageConfig {
  cmd: string[] | null;
  entrypoint: string[] | null;
  env: string[] | null;
  workingDir: string;
}

/** One member of Docker's export stream (as Go's archive/tar returns it). */
export interface ExportEntry {
  /** Byte-string name; directories end in `/`. */
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'char' | 'block';
  /** Permission bits including setuid/setgid/sticky. */
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  /** Symlink target, or the name a hard link points to. */
  linkname: string;
  devMajor: number;
  devMinor: number;
  /** Regular files: the contents. */
  data?: FileData;
  /** The inode this entry shows (for provenance such as implicit mtimes). */
  inode?: Inode;
}

function malformed(message: string, path: string): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', message, { details: { path: pathToText(path) } });
}

/**
 * The root file system of a container being built from image layers, with Docker's semantics.
 *
 * @example
 * ```ts
 * const fs = new DockerRootfs({ implicitMtime: 0 });
 * for (const layer of layers) await fs.applyLayer(readTar(layer));
 * fs.createContainer(config);
 * for (const e of fs.exportEntries()) console.log(pathToText(e.name));
 * ```
 */
export class DockerRootfs {
  readonly tree = new FileTree();
  /** Inodes whose mtime (or existence) is the time Docker ran, not something in the image. */
  readonly implicit = new Set<Inode>();
  private readonly whiteouts = new Set<Inode>();
  private readonly opaque = new Set<Inode>();
  private readonly implicitMtime: number;

  constructor(options: { implicitMtime?: number } = {}) {
    this.implicitMtime = options.implicitMtime ?? 0;
  }

  private implicitDir(): Inode {
    const dir = makeInode('dir', 0o755, { mtime: this.implicitMtime });
    this.implicit.add(dir);
    return dir;
  }

  /** Parent directory of `path` inside a layer's diff, created as Docker's MkdirAll would. */
  private diffParent(diff: FileTree, parent: string, path: string): Inode {
    let node = diff.root;
    if (parent === '') return node;
    const parts = parent.split('/');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const child = node.children!.get(part);
      if (!child) {
        const dir = this.implicitDir();
        node.children!.set(part, dir);
        node = dir;
      } else if (child.type === 'dir') {
        node = child;
      } else if (child.type === 'symlink') {
        // Docker resolves the rest inside the layer's own directory (chroot): rare, delegated.
        const rest = parts.slice(0, i + 1).join('/');
        let dir: Inode | undefined;
        try {
          dir = resolveDir(diff, rest, true);
        } catch (cause) {
          throw new EnclaveVerifyError(
            'ERR_ARCHIVE_UNSAFE',
            `layer member '${pathToText(path)}' is placed under '${pathToText(rest)}', a symlink that loops or leads to a non-directory; refusing the layer`,
            { details: { path: pathToText(path) }, cause },
          );
        }
        if (!dir) throw malformed(`'${pathToText(path)}' is placed under a dangling symlink`, path);
        node = dir;
      } else {
        throw malformed(
          `layer member '${pathToText(path)}' is placed under '${pathToText(parts.slice(0, i + 1).join('/'))}', which is a ${child.type}; Docker cannot extract this layer`,
          path,
        );
      }
    }
    return node;
  }

  /**
   * Unpack one layer tar into a fresh diff and lay it over the tree (overlayfs rules).
   *
   * @example
   * ```ts
   * await fs.applyLayer(readTar(memorySource(layerTar), { label: 'layer 1' }));
   * ```
   */
  async applyLayer(entries: AsyncIterable<TarEntry> | Iterable<TarEntry>): Promise<void> {
    const diff = new FileTree();
    for await (const e of entries) {
      if (e.path === '') continue; // Docker skips the layer's root entry
      const [parent, name] = splitPath(e.path);
      const dir = this.diffParent(diff, parent, e.path);
      if (name.startsWith('.wh.')) {
        if (name === '.wh..wh..opq') {
          this.opaque.add(dir);
        } else {
          const marker = makeInode('char', 0, { uid: e.uid, gid: e.gid });
          this.whiteouts.add(marker);
          dir.children!.set(name.slice(4), marker);
        }
        continue;
      }
      const existing = dir.children!.get(name);
      if (e.type === 'dir') {
        if (existing?.type === 'dir') {
          existing.mode = e.mode & 0o7777;
          existing.uid = e.uid;
          existing.gid = e.gid;
          existing.mtime = e.mtime;
          this.implicit.delete(existing);
        } else {
          dir.children!.set(name, makeInode('dir', e.mode, { uid: e.uid, gid: e.gid, mtime: e.mtime }));
        }
        continue;
      }
      if (e.type === 'hardlink') {
        const target = lookup(diff, e.linkTarget);
        if (!target || this.whiteouts.has(target)) {
          throw malformed(
            `hard link '${pathToText(e.path)}' names '${pathToText(e.linkTarget)}', which this layer does not hold before it; Docker cannot extract this layer`,
            e.path,
          );
        }
        if (target.type === 'dir') {
          throw new EnclaveVerifyError(
            'ERR_ARCHIVE_UNSAFE',
            `hard link '${pathToText(e.path)}' names a directory`,
            {
              details: { path: pathToText(e.path) },
            },
          );
        }
        // Docker: lchown always; chmod and chtimes unless the target is a symlink.
        target.uid = e.uid;
        target.gid = e.gid;
        if (target.type !== 'symlink') {
          target.mode = e.mode & 0o7777;
          target.mtime = e.mtime;
        }
        dir.children!.set(name, target);
        continue;
      }
      const base = { uid: e.uid, gid: e.gid, mtime: e.mtime };
      let inode: Inode;
      if (e.type === 'file') inode = makeInode('file', e.mode, { ...base, data: e.data });
      else if (e.type === 'symlink') inode = makeInode('symlink', 0o777, { ...base, target: e.linkTarget });
      else if (e.type === 'char' || e.type === 'block')
        inode = makeInode(e.type, e.mode, { ...base, rdevMajor: e.devMajor, rdevMinor: e.devMinor });
      else inode = makeInode('fifo', e.mode, base);
      dir.children!.set(name, inode);
    }
    this.merge(this.tree.root, diff.root);
  }

  private strip(upper: Inode): Inode {
    // An upper directory with nothing below it: its whiteouts hide nothing.
    if (upper.type !== 'dir') return upper;
    for (const [name, child] of upper.children!) {
      if (this.whiteouts.has(child)) upper.children!.delete(name);
      else this.strip(child);
    }
    return upper;
  }

  private merge(lower: Inode, upper: Inode): void {
    for (const [name, u] of upper.children!) {
      if (this.whiteouts.has(u)) {
        lower.children!.delete(name);
        continue;
      }
      const l = lower.children!.get(name);
      if (u.type === 'dir' && l?.type === 'dir' && !this.opaque.has(u)) {
        l.mode = u.mode;
        l.uid = u.uid;
        l.gid = u.gid;
        l.mtime = u.mtime;
        if (this.implicit.has(u)) this.implicit.add(l);
        else this.implicit.delete(l);
        this.merge(l, u);
      } else {
        lower.children!.set(name, this.strip(u));
      }
    }
  }

  /**
   * What `docker create` adds: the init layer (Docker 20.10 `initlayer.Setup`: each path's
   * components are unlinked when they are not directories, then missing entries are created,
   * files and directories 0755 root:root, `etc/mtab` a symlink to `/proc/mounts`) and the
   * working directory when missing.
   *
   * @example
   * ```ts
   * fs.createContainer({ cmd: ['/app'], entrypoint: null, env: null, workingDir: '' });
   * ```
   */
  createContainer(config: Pick<DockerImageConfig, 'workingDir'>): void {
    const initPaths: [string, 'dir' | 'file' | string][] = [
      ['dev/pts', 'dir'],
      ['dev/shm', 'dir'],
      ['proc', 'dir'],
      ['sys', 'dir'],
      ['.dockerenv', 'file'],
      ['etc/resolv.conf', 'file'],
      ['etc/hosts', 'file'],
      ['etc/hostname', 'file'],
      ['dev/console', 'file'],
      ['etc/mtab', '/proc/mounts'],
    ];
    const t = this.implicitMtime;
    for (const [path, kind] of initPaths) {
      const parts = path.split('/');
      for (let i = 1; i <= parts.length; i++) {
        const prefix = parts.slice(0, i).join('/');
        const node = this.tree.get(prefix);
        if (node && node.type !== 'dir') this.tree.remove(prefix);
      }
      if (this.tree.get(path)) continue; // a directory stays
      const [parent, name] = splitPath(path);
      let dir = this.tree.root;
      if (parent !== '') {
        const existing = this.tree.get(parent);
        if (existing) dir = existing;
        else {
          dir = this.implicitDir();
          this.tree.root.children!.set(parent, dir);
        }
      }
      let inode: Inode;
      if (kind === 'dir') inode = this.implicitDir();
      else if (kind === 'file')
        inode = makeInode('file', 0o755, { mtime: t, data: memoryData(new Uint8Array(0)) });
      else inode = makeInode('symlink', 0o777, { mtime: t, target: kind });
      this.implicit.add(inode);
      dir.children!.set(name, inode);
      // Adding an entry changes the directory's mtime to the time Docker ran.
      if (dir !== this.tree.root) this.implicit.add(dir);
    }
    const wd = config.workingDir.split('/').filter((p) => p !== '' && p !== '.');
    if (wd.length > 0 && !resolveDir(this.tree, wd.join('/'), false)) {
      for (let i = 1; i <= wd.length; i++) {
        const here = wd.slice(0, i).join('/');
        if (resolveDir(this.tree, here, false)) continue;
        const parent = resolveDir(this.tree, wd.slice(0, i - 1).join('/'), false);
        if (!parent) break;
        const existing = parent.children!.get(wd[i - 1]!);
        if (existing) {
          throw new EnclaveVerifyError(
            'ERR_RECIPE',
            `the image's WorkingDir '${pathToText(config.workingDir)}' goes through '${pathToText(here)}', which is a ${existing.type}; docker create would fail`,
          );
        }
        parent.children!.set(wd[i - 1]!, makeInode('dir', 0o755, { mtime: t }));
        this.implicit.add(parent.children!.get(wd[i - 1]!)!);
        if (parent !== this.tree.root) this.implicit.add(parent);
      }
    }
  }

  /**
   * Docker's export stream of the tree: pre-order, siblings in byte order, directories with a
   * trailing `/`, every later name of an inode as a hard link to its first name. The root is
   * not exported.
   *
   * @example
   * ```ts
   * for (const e of fs.exportEntries()) if (e.type === 'hardlink') console.log(e.name, '->', e.linkname);
   * ```
   */
  *exportEntries(): Generator<ExportEntry> {
    const first = new Map<Inode, string>();
    const walk = function* (dir: Inode, prefix: string): Generator<ExportEntry> {
      const names = [...dir.children!.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const name of names) {
        const inode = dir.children!.get(name)!;
        const path = prefix + name;
        const base = {
          mode: inode.mode & 0o7777,
          uid: inode.uid,
          gid: inode.gid,
          mtime: inode.mtime,
          devMajor: 0,
          devMinor: 0,
          linkname: '',
          inode,
        };
        if (inode.type === 'dir') {
          yield { ...base, name: `${path}/`, type: 'dir' };
          yield* walk(inode, `${path}/`);
          continue;
        }
        if (inode.type === 'socket') continue; // Docker skips sockets
        const seen = first.get(inode);
        if (seen !== undefined) {
          yield { ...base, name: path, type: 'hardlink', linkname: seen };
          continue;
        }
        first.set(inode, path);
        if (inode.type === 'file') {
          yield { ...base, name: path, type: 'file', data: inode.data ?? memoryData(new Uint8Array(0)) };
        } else if (inode.type === 'symlink') {
          yield { ...base, name: path, type: 'symlink', linkname: inode.target ?? '' };
        } else if (inode.type === 'char' || inode.type === 'block') {
          yield {
            ...base,
            name: path,
            type: inode.type,
            devMajor: inode.rdevMajor ?? 0,
            devMinor: inode.rdevMinor ?? 0,
          };
        } else {
          yield { ...base, name: path, type: 'fifo' };
        }
      }
    };
    yield* walk(this.tree.root, '');
  }
}

/**
 * The `.Config` of an image config JSON (`config` in OCI / `docker save`), checked for shape.
 *
 * @example
 * ```ts
 * const c = dockerImageConfig(JSON.parse(configJson)); // { cmd: ['/app'], env: [...], ... }
 * ```
 */
export function dockerImageConfig(json: unknown): DockerImageConfig {
  const bad = (what: string) =>
    new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', `image config: ${what}; the image is damaged`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('not a JSON object');
  const c = (json as { config?: unknown }).config;
  if (c === undefined || c === null) return { cmd: null, entrypoint: null, env: null, workingDir: '' };
  if (typeof c !== 'object' || Array.isArray(c)) throw bad('"config" is not an object');
  const o = c as Record<string, unknown>;
  const list = (key: string): string[] | null => {
    const v = o[key];
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
      throw bad(`"${key}" is not a list of strings`);
    return v as string[];
  };
  const wd = o.WorkingDir;
  if (wd !== undefined && wd !== null && typeof wd !== 'string') throw bad('"WorkingDir" is not a string');
  return { cmd: list('Cmd'), entrypoint: list('Entrypoint'), env: list('Env'), workingDir: wd ?? '' };
}
