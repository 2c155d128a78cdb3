/**
 * cpio "newc" (SVR4 ASCII, magic 070701) writers and reader.
 *
 * Two writers sit behind one interface because two tools produce the ramdisks we must match:
 * - `gnu-reproducible`: GNU cpio 2.15 `--create --format=newc --reproducible` fed with
 *   `find . -print0 | sort -z` (Caution's pipeline, SPEC 3.1). Observed behaviour, checked
 *   against the real tool by the tests: names without the leading `./` (the root is `.`);
 *   inode numbers renumbered from 0 in order of first appearance; device numbers 0; every
 *   directory with link count 2; uppercase hex; a regular file with several names is held back
 *   until its last name is seen, then all names are written newest-first with size 0 and the
 *   last one carries the data (sets left incomplete are flushed at the end the same way);
 *   the archive is padded with zeros to a multiple of 512 bytes.
 * - `linuxkit`: the header layout of the writer nitro-cli's linuxkit uses (SPEC 3.3): inode
 *   numbers from 721, device 3:1, lowercase hex, padded to 512, but in sorted tree order (and a
 *   trailer on device 0:0). nitro-cli ramdisks are written by `linuxkit.ts` instead, which
 *   follows linuxkit's stream order and is checked byte for byte against the nitro-cli vectors.
 */
import { EnclaveVerifyError } from '../errors.js';
import { ByteChunks } from '../util/bytes.js';
import { bytesToPath, pathToBytes, pathToText } from './paths.js';
import {
  type FileTree,
  type Inode,
  type NodeType,
  nodeTypeOfMode,
  type TreeEntry,
  TYPE_BITS,
} from './tree.js';

/** Which tool's archive layout to reproduce. */
export type CpioFormat = 'gnu-reproducible' | 'linuxkit';

/** Options of {@link writeCpio}. */
export interface CpioWriteOptions {
  /** Layout to reproduce; default `gnu-reproducible`. */
  format?: CpioFormat;
  /** Size of the chunks yielded (file contents larger than this are yielded as they are). */
  chunkSize?: number;
}

const HEADER_SIZE = 110;
const BLOCK = 512;
const MAX_FIELD = 0xffffffff;
const TRAILER = 'TRAILER!!!';

/** Buffers small writes (headers, names, padding) into large chunks. */
class ChunkBuffer {
  private buf: Uint8Array;
  private pos = 0;
  total = 0;
  readonly out: Uint8Array[] = [];

  constructor(private readonly size: number) {
    this.buf = new Uint8Array(size);
  }

  private flush(): void {
    if (this.pos === 0) return;
    this.out.push(this.buf.subarray(0, this.pos));
    this.buf = new Uint8Array(this.size);
    this.pos = 0;
  }

  bytes(b: Uint8Array): void {
    this.total += b.length;
    if (b.length >= this.size / 2) {
      this.flush();
      this.out.push(b);
      return;
    }
    if (this.pos + b.length > this.size) this.flush();
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  zeros(n: number): void {
    if (n > 0) this.bytes(new Uint8Array(n));
  }

  /** Writes an ASCII header directly into the buffer. */
  ascii(s: string): void {
    if (this.pos + s.length > this.size) this.flush();
    for (let i = 0; i < s.length; i++) this.buf[this.pos + i] = s.charCodeAt(i);
    this.pos += s.length;
    this.total += s.length;
  }

  /** Chunks complete so far; the partial buffer stays until {@link finish}. */
  take(): Uint8Array[] {
    return this.out.splice(0, this.out.length);
  }

  finish(): Uint8Array[] {
    this.flush();
    return this.take();
  }
}

interface HeaderFields {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  filesize: number;
  devMajor: number;
  devMinor: number;
  rdevMajor: number;
  rdevMinor: number;
  name: Uint8Array;
}

function hex8(value: number, what: string, path: string, upper: boolean): string {
  if (!Number.isInteger(value) || value < 0 || value > MAX_FIELD) {
    throw new EnclaveVerifyError(
      'ERR_RECIPE',
      `'${pathToText(path)}': ${what} ${value} does not fit a newc cpio header (0..4294967295)`,
      { details: { path: pathToText(path), field: what, value } },
    );
  }
  const s = value.toString(16).padStart(8, '0');
  return upper ? s.toUpperCase() : s;
}

function writeHeader(out: ChunkBuffer, h: HeaderFields, path: string, upper: boolean): void {
  const fields: [number, string][] = [
    [h.ino, 'inode'],
    [h.mode, 'mode'],
    [h.uid, 'uid'],
    [h.gid, 'gid'],
    [h.nlink, 'link count'],
    [h.mtime, 'mtime'],
    [h.filesize, 'size'],
    [h.devMajor, 'dev major'],
    [h.devMinor, 'dev minor'],
    [h.rdevMajor, 'rdev major'],
    [h.rdevMinor, 'rdev minor'],
    [h.name.length + 1, 'name size'],
    [0, 'check'],
  ];
  let s = '070701';
  for (const [v, what] of fields) s += hex8(v, what, path, upper);
  out.ascii(s);
  out.bytes(h.name);
  // NUL terminator plus padding of header + name to a multiple of 4
  const used = HEADER_SIZE + h.name.length + 1;
  out.zeros(1 + ((4 - (used % 4)) % 4));
}

async function contents(inode: Inode, path: string): Promise<Uint8Array> {
  if (inode.type === 'symlink') return pathToBytes(inode.target ?? '');
  if (inode.type !== 'file' || !inode.data) return new Uint8Array(0);
  const bytes = await inode.data.bytes();
  if (bytes.length !== inode.data.size) {
    throw new EnclaveVerifyError(
      'ERR_IO',
      `'${pathToText(path)}' changed while it was archived (expected ${inode.data.size} bytes, read ${bytes.length}); retry on a stable tree`,
    );
  }
  return bytes;
}

function dataSize(inode: Inode): number {
  if (inode.type === 'symlink') return (inode.target ?? '').length;
  return inode.type === 'file' ? (inode.data?.size ?? 0) : 0;
}

function archiveName(path: string): Uint8Array {
  // GNU cpio strips find's leading './' and keeps '.' for the root. (The linuxkit option names
  // entries the same way; its real naming is unverified, see the module comment.)
  return pathToBytes(path === '' ? '.' : path);
}

/**
 * Stream the newc archive of `tree` as chunks. Entries are written in `find . | sort -z`
 * order; file contents are fetched one file at a time, so memory stays near one file plus
 * `chunkSize`.
 *
 * @example
 * ```ts
 * const parts: Uint8Array[] = [];
 * for await (const chunk of writeCpio(tree)) parts.push(chunk);
 * const archive = concatBytes(...parts);
 * ```
 */
export async function* writeCpio(tree: FileTree, options: CpioWriteOptions = {}): AsyncGenerator<Uint8Array> {
  const format = options.format ?? 'gnu-reproducible';
  const out = new ChunkBuffer(options.chunkSize ?? 256 * 1024);
  const entries = tree.entries();
  const upper = format === 'gnu-reproducible';
  const inodeNumbers = new Map<Inode, number>();
  let nextIno = format === 'linuxkit' ? 721 : 0;
  const numberOf = (inode: Inode): number => {
    let n = inodeNumbers.get(inode);
    if (n === undefined) {
      n = nextIno++;
      inodeNumbers.set(inode, n);
    }
    return n;
  };
  const fields = (e: TreeEntry, withData: boolean): HeaderFields => {
    const inode = e.inode;
    const device = inode.type === 'char' || inode.type === 'block';
    return {
      ino: numberOf(inode),
      mode: TYPE_BITS[inode.type] | (inode.mode & 0o7777),
      uid: inode.uid,
      gid: inode.gid,
      nlink: inode.type === 'dir' ? 2 : e.links,
      mtime: inode.mtime,
      filesize: withData ? dataSize(inode) : 0,
      devMajor: format === 'linuxkit' ? 3 : 0,
      devMinor: format === 'linuxkit' ? 1 : 0,
      rdevMajor: device ? (inode.rdevMajor ?? 0) : 0,
      rdevMinor: device ? (inode.rdevMinor ?? 0) : 0,
      name: archiveName(e.path),
    };
  };
  const emit = async (e: TreeEntry, withData: boolean): Promise<void> => {
    const h = fields(e, withData);
    writeHeader(out, h, e.path, upper);
    if (h.filesize > 0) {
      const body = await contents(e.inode, e.path);
      out.bytes(body);
      out.zeros((4 - (body.length % 4)) % 4);
    }
  };

  // Regular files with several names wait here (newest last) until their last name appears.
  let deferred: TreeEntry[] = [];
  for (const e of entries) {
    const holdBack = format === 'gnu-reproducible' && e.inode.type === 'file' && e.links > 1;
    if (!holdBack) {
      await emit(e, true);
    } else {
      numberOf(e.inode);
      const waiting = deferred.filter((d) => d.inode === e.inode);
      if (waiting.length + 1 < e.links) {
        deferred.push(e);
        continue;
      }
      for (let i = waiting.length - 1; i >= 0; i--) await emit(waiting[i]!, false);
      deferred = deferred.filter((d) => d.inode !== e.inode);
      await emit(e, true);
    }
    yield* out.take();
  }
  // Sets whose other names are not in the tree: newest first, data on the oldest name.
  for (let i = deferred.length - 1; i >= 0; i--) {
    const e = deferred[i]!;
    const olderSibling = deferred.slice(0, i).some((d) => d.inode === e.inode);
    await emit(e, !olderSibling);
  }
  yield* out.take();

  writeHeader(
    out,
    {
      ino: 0,
      mode: 0,
      uid: 0,
      gid: 0,
      nlink: 1,
      mtime: 0,
      filesize: 0,
      devMajor: 0,
      devMinor: 0,
      rdevMajor: 0,
      rdevMinor: 0,
      name: pathToBytes(TRAILER),
    },
    TRAILER,
    upper,
  );
  out.zeros((BLOCK - (out.total % BLOCK)) % BLOCK);
  yield* out.finish();
}

/**
 * The whole newc archive of `tree` in one buffer (convenience over {@link writeCpio}).
 *
 * @example
 * ```ts
 * const cpio = await writeCpioBytes(tree);
 * ```
 */
export async function writeCpioBytes(tree: FileTree, options: CpioWriteOptions = {}): Promise<Uint8Array> {
  const chunks = new ByteChunks();
  for await (const c of writeCpio(tree, options)) chunks.push(c);
  return chunks.join();
}

/** One entry of a newc archive as stored (names raw, data as a view into the archive). */
export interface CpioEntry {
  /** Name exactly as stored, as a byte string (GNU: `.` for the root, no `./`). */
  name: string;
  type: NodeType;
  /** Full `st_mode` as stored (type and permission bits). */
  mode: number;
  ino: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  devMajor: number;
  devMinor: number;
  rdevMajor: number;
  rdevMinor: number;
  /** Stored data: file contents, or the symlink target. */
  data: Uint8Array;
  /** Byte offset of the header in the archive. */
  offset: number;
  /**
   * Which archive of the stream the entry is in (0 = first). The kernel unpacks every archive
   * of an initramfs in turn; hard links only pair up inside one archive.
   */
  archive: number;
}

const MAGICS = new Set(['070701', '070702']);

/**
 * Offset just past the newc archive starting at `offset` (after its `TRAILER!!!` entry and the
 * padding to 4 bytes), without building entries. Throws ERR_ARCHIVE_MALFORMED like
 * {@link readCpio}.
 *
 * @example
 * ```ts
 * const end = cpioArchiveEnd(bytes, 0); // where a second, appended member would start
 * ```
 */
export function cpioArchiveEnd(archive: Uint8Array, offset: number): number {
  let end = offset;
  parseArchive(archive, offset, 0, (e) => {
    end = e;
  });
  return end;
}

function parseArchive(
  archive: Uint8Array,
  start: number,
  index: number,
  done: (end: number) => void,
  entries?: CpioEntry[],
): void {
  let o = start;
  const malformed = (msg: string): EnclaveVerifyError =>
    new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', `cpio archive, offset ${o}: ${msg}`, {
      details: { offset: o },
    });
  for (;;) {
    if (o + HEADER_SIZE > archive.length) {
      throw malformed('archive ends without a TRAILER!!! entry (truncated or not a newc cpio archive)');
    }
    const magic = bytesToPath(archive.subarray(o, o + 6));
    if (!MAGICS.has(magic)) {
      throw malformed(`bad magic '${pathToText(magic)}': only newc cpio (070701/070702) is supported`);
    }
    const f: number[] = [];
    for (let i = 0; i < 13; i++) {
      const text = bytesToPath(archive.subarray(o + 6 + i * 8, o + 14 + i * 8));
      if (!/^[0-9a-fA-F]{8}$/.test(text)) throw malformed(`header field ${i} is not 8 hex digits`);
      f.push(Number.parseInt(text, 16));
    }
    const [ino, mode, uid, gid, nlink, mtime, filesize, devMajor, devMinor, rdevMajor, rdevMinor, namesize] =
      f as [number, number, number, number, number, number, number, number, number, number, number, number];
    if (namesize < 1) throw malformed('name size 0');
    const nameEnd = o + HEADER_SIZE + namesize;
    if (nameEnd > archive.length) throw malformed('name runs past the end of the archive');
    if (archive[nameEnd - 1] !== 0) throw malformed('name is not NUL-terminated');
    const name = bytesToPath(archive.subarray(o + HEADER_SIZE, nameEnd - 1));
    const dataStart = nameEnd + ((4 - (nameEnd % 4)) % 4);
    const dataEnd = dataStart + filesize;
    if (dataEnd > archive.length)
      throw malformed(`'${pathToText(name)}' claims ${filesize} bytes past the end`);
    if (name === TRAILER) {
      done(Math.min(archive.length, dataEnd + ((4 - (dataEnd % 4)) % 4)));
      return;
    }
    const type = nodeTypeOfMode(mode);
    if (!type)
      throw malformed(`'${pathToText(name)}' has unknown file type bits ${(mode & 0o170000).toString(8)}`);
    entries?.push({
      name,
      type,
      mode,
      ino,
      uid,
      gid,
      nlink,
      mtime,
      devMajor,
      devMinor,
      rdevMajor,
      rdevMinor,
      data: archive.subarray(dataStart, dataEnd),
      offset: o,
      archive: index,
    });
    o = dataEnd + ((4 - (dataEnd % 4)) % 4);
  }
}

/**
 * Parse an uncompressed initramfs as the kernel reads it (`("\0" | cpio)*`, kernel docs
 * "buffer-format"): every newc (070701) or newc-with-CRC (070702) archive in turn, NUL padding
 * before, between and after them. Nothing the kernel would unpack is skipped: bytes that are
 * neither padding nor an archive are an error, never ignored. Hostile input cannot make it
 * allocate: every entry is a view into `archive`, and sizes beyond the end are an error.
 *
 * @example
 * ```ts
 * for (const e of readCpio(bytes)) console.log(e.archive, pathToText(e.name), e.data.length);
 * ```
 */
export function readCpio(archive: Uint8Array): CpioEntry[] {
  const entries: CpioEntry[] = [];
  let o = 0;
  let index = 0;
  for (;;) {
    while (o < archive.length && archive[o] === 0) o++;
    if (o >= archive.length) break;
    if (o % 4 !== 0 || !MAGICS.has(bytesToPath(archive.subarray(o, o + 6)))) {
      throw new EnclaveVerifyError(
        'ERR_ARCHIVE_MALFORMED',
        `cpio archive, offset ${o}: bytes that are neither NUL padding nor a 4-byte aligned newc cpio archive; the kernel would refuse (or unpack) them, so they are not ignored`,
        { details: { offset: o } },
      );
    }
    parseArchive(
      archive,
      o,
      index++,
      (end) => {
        o = end;
      },
      entries,
    );
  }
  if (index === 0) {
    throw new EnclaveVerifyError(
      'ERR_ARCHIVE_MALFORMED',
      'cpio archive, offset 0: no newc cpio archive in the data',
      {
        details: { offset: 0 },
      },
    );
  }
  return entries;
}
