/**
 * linuxkit v1.5.2 (with AWS's nitro-cli patches) as nitro-cli runs it, on streams of entries
 * (SPEC 3.3): the filter linuxkit applies to an image's export (`ImageTar`: a prefix, dropped
 * and replaced files, the "touch" list with a fixed mtime), the YAML `files:` section, and the
 * newc writer (surma/gocpio through linuxkit's `initrd` package: inode numbers from 721, device
 * 3:1, lowercase hex, hard links turned into relative symlinks, no compression, padded to 512).
 * Entries are written in the order they come, as linuxkit does: no sorting here.
 */
import { EnclaveVerifyError } from '../errors.js';
import type { ExportEntry } from './docker-export.js';
import { pathFromText, pathToBytes, pathToText } from './paths.js';
import { type FileData, memoryData, TYPE_BITS } from './tree.js';

/** linuxkit's `defaultModTime` (2017-04-18T16:30:00Z): the mtime of every entry it generates. */
export const LINUXKIT_MTIME = 1492533000;

/** Where nitro-cli's customer YAML has linuxkit unpack the image (`prefix: rootfs/`). */
export const NITRO_ROOTFS_PREFIX = 'rootfs/';

/** The `resolv.conf` symlink target linuxkit uses for init images. */
export const LINUXKIT_RESOLV_SYMLINK = '/run/resolvconf/resolv.conf';

/** One member of the tar stream linuxkit converts to cpio. */
export type LinuxkitEntry = Omit<ExportEntry, 'inode'> & { inode?: ExportEntry['inode'] };

const EXCLUDE = new Set(['.dockerenv', 'Dockerfile', 'dev/console', 'dev/pts', 'dev/shm', 'etc/hostname']);

const HOSTS = pathFromText(
  '127.0.0.1       localhost\n::1     localhost ip6-localhost ip6-loopback\nfe00::0 ip6-localnet\nff00::0 ip6-mcastprefix\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n',
);
const RESOLV = '\n# no resolv.conf configured\n';

interface TouchEntry {
  name: string;
  type: 'dir' | 'file' | 'symlink';
  mode: number;
  linkname?: string;
}

// Files that must exist in every init image: their mtime is reset, and they are created when
// the export lacks them. Keyed by export name; written in sorted key order when missing.
const TOUCH: Record<string, TouchEntry> = {
  'dev/': { name: 'dev', type: 'dir', mode: 0o755 },
  'dev/pts/': { name: 'dev/pts', type: 'dir', mode: 0o755 },
  'dev/shm/': { name: 'dev/shm', type: 'dir', mode: 0o755 },
  'etc/': { name: 'etc', type: 'dir', mode: 0o755 },
  'etc/mtab': { name: 'etc/mtab', type: 'symlink', mode: 0o755, linkname: '/proc/mounts' },
  'etc/resolv.conf': { name: 'etc/resolv.conf', type: 'file', mode: 0o644 },
  'etc/hosts': { name: 'etc/hosts', type: 'file', mode: 0o644 },
  'proc/': { name: 'proc', type: 'dir', mode: 0o755 },
  'sys/': { name: 'sys', type: 'dir', mode: 0o755 },
};

/** Export names whose mtime linuxkit resets (so Docker's extraction time never shows there). */
export const LINUXKIT_TOUCHED = new Set([...Object.keys(TOUCH), 'etc/hosts', 'etc/resolv.conf']);

function generated(
  name: string,
  type: LinuxkitEntry['type'],
  mode: number,
  extra: Partial<LinuxkitEntry> = {},
) {
  return {
    name,
    type,
    mode,
    uid: 0,
    gid: 0,
    mtime: LINUXKIT_MTIME,
    linkname: '',
    devMajor: 0,
    devMinor: 0,
    ...extra,
  } as LinuxkitEntry;
}

/**
 * linuxkit's `ImageTar` over an export stream: the prefix's directories first, then every
 * export member under the prefix except the excluded ones, `etc/hosts` with linuxkit's text and
 * `etc/resolv.conf` as a symlink (both keeping the export's mode and owner), the touch list's
 * mtimes reset, and the touch entries the export lacked at the end.
 *
 * @example
 * ```ts
 * for (const e of linuxkitImageTar(rootfs.exportEntries(), 'rootfs/')) console.log(e.name);
 * ```
 */
export function* linuxkitImageTar(
  exported: Iterable<ExportEntry>,
  prefix: string,
  resolv: string = LINUXKIT_RESOLV_SYMLINK,
): Generator<LinuxkitEntry> {
  if (prefix !== '') {
    const dirs = prefix.replace(/\/$/, '').split('/');
    for (let i = 1; i <= dirs.length; i++) yield generated(dirs.slice(0, i).join('/'), 'dir', 0o755);
  }
  const found = new Set<string>();
  for (const e of exported) {
    if (EXCLUDE.has(e.name)) continue;
    if (e.name === 'etc/hosts' || e.name === 'etc/resolv.conf') {
      found.add(e.name); // AWS patch 0003: no second copy from the touch list
      if (e.name === 'etc/hosts' || resolv === '') {
        const text = e.name === 'etc/hosts' ? HOSTS : RESOLV;
        yield { ...e, name: prefix + e.name, mtime: LINUXKIT_MTIME, data: memoryData(pathToBytes(text)) };
      } else {
        yield {
          ...e,
          name: prefix + e.name,
          type: 'symlink',
          linkname: resolv,
          mtime: LINUXKIT_MTIME,
          data: undefined,
        };
      }
      continue;
    }
    const touched = TOUCH[e.name] !== undefined;
    if (touched) found.add(e.name);
    yield {
      ...e,
      name: prefix + e.name,
      ...(touched ? { mtime: LINUXKIT_MTIME } : {}),
      ...(e.type === 'hardlink' ? { linkname: prefix + e.linkname } : {}),
    };
  }
  for (const key of Object.keys(TOUCH).sort()) {
    if (found.has(key)) continue;
    const t = TOUCH[key]!;
    if (t.name === 'etc/resolv.conf' && resolv !== '') {
      yield generated(prefix + t.name, 'symlink', t.mode, { linkname: resolv });
    } else if (t.name === 'etc/hosts' || t.name === 'etc/resolv.conf') {
      const text = t.name === 'etc/hosts' ? HOSTS : RESOLV;
      yield generated(prefix + t.name, 'file', t.mode, { data: memoryData(pathToBytes(text)) });
    } else {
      yield generated(prefix + t.name, t.type, t.mode, t.linkname ? { linkname: t.linkname } : {});
    }
  }
}

/** One entry of a linuxkit YAML `files:` section. */
export interface LinuxkitFile {
  /** Path in the ramdisk (byte string, relative). */
  path: string;
  directory?: boolean;
  /** Contents of a regular file. */
  data?: FileData;
  /** Permission bits (linuxkit's default: 0600 files, 0700 directories). */
  mode?: number;
}

/**
 * linuxkit's `files:` section: each file's missing leading directories (mode widened with the
 * execute bits of its read bits' classes, owner 0:0) once, then the file itself, all with
 * linuxkit's fixed mtime.
 *
 * @example
 * ```ts
 * [...linuxkitFiles([{ path: 'rootfs/dev', directory: true, mode: 0o755 }])].map((e) => e.name); // ['rootfs', 'rootfs/dev']
 * ```
 */
export function* linuxkitFiles(files: LinuxkitFile[]): Generator<LinuxkitEntry> {
  const added = new Set<string>();
  for (const f of files) {
    const mode = f.mode ?? (f.directory ? 0o700 : 0o600);
    let dirMode = mode;
    if (dirMode & 0o700) dirMode |= 0o100;
    if (dirMode & 0o070) dirMode |= 0o010;
    if (dirMode & 0o007) dirMode |= 0o001;
    const parts = f.path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (added.has(dir)) continue;
      added.add(dir);
      yield generated(dir, 'dir', dirMode);
    }
    added.add(f.path);
    if (f.directory) yield generated(f.path, 'dir', mode);
    else yield generated(f.path, 'file', mode, { data: f.data ?? memoryData(new Uint8Array(0)) });
  }
}

/**
 * Go's `filepath.Rel(base, target)` for clean relative paths: how linuxkit turns a hard link
 * into a symlink relative to the link's directory.
 *
 * @example
 * ```ts
 * relativeLink('rootfs/usr/bin', 'rootfs/lib/x'); // '../../lib/x'
 * ```
 */
export function relativeLink(base: string, target: string): string {
  const b = base === '.' || base === '' ? [] : base.split('/');
  const t = target === '.' || target === '' ? [] : target.split('/');
  let i = 0;
  while (i < b.length && i < t.length && b[i] === t[i]) i++;
  const parts = [...b.slice(i).map(() => '..'), ...t.slice(i)];
  return parts.length === 0 ? '.' : parts.join('/');
}

function dirname(name: string): string {
  const i = name.lastIndexOf('/');
  return i < 0 ? '.' : name.slice(0, i);
}

const HEADER = 110;
const MAX = 0xffffffff;

function fail(name: string, what: string, value: number): never {
  throw new EnclaveVerifyError(
    'ERR_RECIPE',
    `'${pathToText(name)}': ${what} ${value} does not fit a newc cpio header (0..4294967295); linuxkit would write a corrupt ramdisk`,
    { details: { path: pathToText(name), field: what, value } },
  );
}

/** Options of {@link writeLinuxkitCpio}. */
export interface LinuxkitCpioOptions {
  /** Largest chunk read from a file at a time (bounded memory for large files); default 256 KiB. */
  readSize?: number;
}

/**
 * The uncompressed newc archive linuxkit writes for a tar stream (its `initrd` package over
 * surma/gocpio), streamed as chunks in entry order.
 *
 * @example
 * ```ts
 * for await (const chunk of writeLinuxkitCpio(linuxkitFiles([{ path: 'init', data, mode: 0o755 }]))) out.write(chunk);
 * ```
 */
export async function* writeLinuxkitCpio(
  entries: Iterable<LinuxkitEntry> | AsyncIterable<LinuxkitEntry>,
  options: LinuxkitCpioOptions = {},
): AsyncGenerator<Uint8Array> {
  const readSize = options.readSize ?? 256 * 1024;
  let ino = 721;
  let length = 0;
  let pending: Uint8Array[] = [];
  let pendingSize = 0;
  const push = (b: Uint8Array): void => {
    pending.push(b);
    pendingSize += b.length;
    length += b.length;
  };
  // Small pieces (headers, names, padding) are merged; file contents pass through uncopied.
  const flush = (): Uint8Array[] => {
    const out: Uint8Array[] = [];
    let run: Uint8Array[] = [];
    let runSize = 0;
    const merge = () => {
      if (run.length === 1) out.push(run[0]!);
      else if (run.length > 1) {
        const m = new Uint8Array(runSize);
        let o = 0;
        for (const p of run) {
          m.set(p, o);
          o += p.length;
        }
        out.push(m);
      }
      run = [];
      runSize = 0;
    };
    for (const p of pending) {
      if (p.length >= 64 * 1024) {
        merge();
        out.push(p);
      } else {
        run.push(p);
        runSize += p.length;
      }
    }
    merge();
    pending = [];
    pendingSize = 0;
    return out;
  };
  const pad = (mod: number): void => {
    const n = (mod - (length % mod)) % mod;
    if (n > 0) push(new Uint8Array(n));
  };
  const header = (
    name: string,
    mode: number,
    typeBits: number,
    e: Partial<LinuxkitEntry>,
    size: number,
  ): void => {
    pad(4); // gocpio pads the previous member's data before each header
    const nameBytes = pathToBytes(name);
    const fields: [number, string][] = [
      [ino, 'inode'],
      [(mode & 0o7777) | typeBits, 'mode'],
      [e.uid ?? 0, 'uid'],
      [e.gid ?? 0, 'gid'],
      [typeBits === TYPE_BITS.dir ? 2 : 1, 'link count'],
      [e.mtime ?? 0, 'mtime'],
      [size, 'size'],
      [3, 'dev major'],
      [1, 'dev minor'],
      [e.devMajor ?? 0, 'rdev major'],
      [e.devMinor ?? 0, 'rdev minor'],
      [nameBytes.length + 1, 'name size'],
      [0, 'check'],
    ];
    let s = '070701';
    for (const [v, what] of fields) {
      if (!Number.isInteger(v) || v < 0 || v > MAX) fail(name, what, v);
      s += v.toString(16).padStart(8, '0');
    }
    const h = new Uint8Array(HEADER + nameBytes.length + 1);
    for (let i = 0; i < HEADER; i++) h[i] = s.charCodeAt(i);
    h.set(nameBytes, HEADER);
    push(h);
    ino++;
    pad(4);
  };
  for await (const e of entries) {
    let typeBits: number;
    let link: string | undefined;
    switch (e.type) {
      case 'hardlink':
        // linuxkit: "Convert to relative symlink as absolute will not work in container".
        typeBits = TYPE_BITS.symlink;
        link = relativeLink(dirname(e.name), e.linkname);
        break;
      case 'symlink':
        typeBits = TYPE_BITS.symlink;
        link = e.linkname;
        break;
      default:
        typeBits = TYPE_BITS[e.type];
    }
    if (link !== undefined) {
      const target = pathToBytes(link);
      header(e.name, e.mode, typeBits, e, target.length);
      push(target);
    } else if (e.type === 'file') {
      const data = e.data ?? memoryData(new Uint8Array(0));
      header(e.name, e.mode, typeBits, e, data.size);
      if (data.size > 0) {
        if (data.read && data.size > readSize) {
          for (let o = 0; o < data.size; o += readSize) {
            const n = Math.min(readSize, data.size - o);
            const part = await data.read(o, n);
            if (part.length !== n) throw changed(e.name, data.size);
            yield* flush();
            push(part);
          }
        } else {
          const bytes = await data.bytes();
          if (bytes.length !== data.size) throw changed(e.name, data.size);
          push(bytes);
        }
      }
    } else {
      header(e.name, e.mode, typeBits, e, 0);
    }
    if (pendingSize >= 256 * 1024) yield* flush();
  }
  header('TRAILER!!!', 0, 0, {}, 0);
  pad(512);
  yield* flush();
}

function changed(name: string, size: number): EnclaveVerifyError {
  return new EnclaveVerifyError(
    'ERR_IO',
    `'${pathToText(name)}' changed while it was archived (expected ${size} bytes); retry on a stable input`,
  );
}
