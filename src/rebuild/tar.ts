/**
 * tar reader: ustar, GNU (long names `L`, long link names `K`, base-256 numbers) and PAX
 * (`x` per-entry and `g` global records: path, linkpath, size, uid, gid, mtime), as written
 * by `docker export`, `docker save`, OCI layers and GNU/BSD tar.
 *
 * Reads from a {@link ByteSource} so that a multi-gigabyte image on disk is never loaded as a
 * whole: headers are read as they come, file contents stay ranges of the source until used.
 * Names are normalised (`./` dropped) and refused when absolute or containing `..`
 * (ERR_ARCHIVE_UNSAFE); sizes past the end of the source are an error, so no header can make
 * the reader allocate or seek beyond the archive.
 */
import { EnclaveVerifyError } from '../errors.js';
import { bytesToPath, normalizeMemberPath, pathToText } from './paths.js';
import type { FileData } from './tree.js';

/** Random-access bytes: an in-memory buffer, a file, a range of another source. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array | Promise<Uint8Array>;
}

/**
 * A {@link ByteSource} over bytes in memory.
 *
 * @example
 * ```ts
 * for await (const e of readTar(memorySource(tarBytes))) console.log(e.path);
 * ```
 */
export function memorySource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

/**
 * The bytes `[offset, offset + length)` of `source` as a source of their own.
 *
 * @example
 * ```ts
 * const layer = subSource(outer, entry.dataOffset, entry.size);
 * ```
 */
export function subSource(source: ByteSource, offset: number, length: number): ByteSource {
  return { size: length, read: (o, n) => source.read(offset + o, Math.max(0, Math.min(n, length - o))) };
}

/**
 * Read a whole source into memory.
 *
 * @example
 * ```ts
 * const bytes = await readAll(subSource(outer, 1024, 512));
 * ```
 */
export async function readAll(source: ByteSource): Promise<Uint8Array> {
  const bytes = await source.read(0, source.size);
  if (bytes.length !== source.size) {
    throw new EnclaveVerifyError('ERR_IO', `short read: expected ${source.size} bytes, got ${bytes.length}`);
  }
  return bytes;
}

/** Entry types of archives: like {@link NodeType} plus hard links, which name another entry. */
export type ArchiveEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'char' | 'block';

/** One tar member after its extended headers have been applied. */
export interface TarEntry {
  /** Normalised byte-string path (`''` for the archive's `./` root entry). */
  path: string;
  type: ArchiveEntryType;
  /** Permission bits including special bits (`0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  /** Contents of a regular file (size 0 for other types). */
  data: FileData;
  /** Offset of the contents in the source (for nested archives such as `docker save` layers). */
  dataOffset: number;
  /** Symlink target (raw byte string) or, for hard links, the normalised path linked to. */
  linkTarget: string;
  devMajor: number;
  devMinor: number;
}

/** Limits against hostile archives. */
export interface TarReadOptions {
  /** Largest extended header (PAX / GNU long name) accepted; default 1 MiB. */
  maxExtendedHeader?: number;
  /** Most entries accepted; default 2,000,000. */
  maxEntries?: number;
  /** Label used in error messages, e.g. the file name. */
  label?: string;
}

const BLOCK = 512;

function field(block: Uint8Array, offset: number, length: number): Uint8Array {
  const f = block.subarray(offset, offset + length);
  const nul = f.indexOf(0);
  return nul < 0 ? f : f.subarray(0, nul);
}

function parseNumber(
  block: Uint8Array,
  offset: number,
  length: number,
  what: string,
  fail: (m: string) => never,
): number {
  const f = block.subarray(offset, offset + length);
  if (f[0] !== undefined && (f[0] & 0x80) !== 0) {
    // GNU base-256: big-endian two's complement in the remaining bits. Negative values are
    // never valid for the fields we read.
    if ((f[0] & 0x40) !== 0) fail(`negative ${what}`);
    let v = f[0] & 0x3f;
    for (let i = 1; i < f.length; i++) {
      v = v * 256 + f[i]!;
      if (v > Number.MAX_SAFE_INTEGER) fail(`${what} is too large`);
    }
    return v;
  }
  const text = bytesToPath(f)
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) fail(`${what} '${pathToText(text)}' is not an octal number`);
  return Number.parseInt(text, 8);
}

function checksumOk(block: Uint8Array, stored: number): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

function parsePax(bytes: Uint8Array, fail: (m: string) => never): Map<string, string> {
  const records = new Map<string, string>();
  let o = 0;
  while (o < bytes.length) {
    if (bytes[o] === 0) break; // some writers pad the record block with NULs
    const space = bytes.indexOf(0x20, o);
    if (space < 0) fail('PAX record without a length');
    const lenText = bytesToPath(bytes.subarray(o, space));
    if (!/^[0-9]+$/.test(lenText)) fail('PAX record length is not a number');
    const len = Number.parseInt(lenText, 10);
    if (len <= space - o + 1 || o + len > bytes.length || bytes[o + len - 1] !== 0x0a)
      fail('PAX record is malformed');
    const record = bytes.subarray(space + 1, o + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq < 0) fail('PAX record without "="');
    // Keys are ASCII; values stay byte strings (paths in PAX are UTF-8, kept as bytes).
    records.set(bytesToPath(record.subarray(0, eq)), bytesToPath(record.subarray(eq + 1)));
    o += len;
  }
  return records;
}

function paxNumber(value: string, what: string, fail: (m: string) => never): number {
  // mtime may carry a fraction; whole seconds are what cpio stores.
  if (!/^-?[0-9]+(\.[0-9]*)?$/.test(value)) fail(`PAX ${what} '${value}' is not a number`);
  const n = Math.floor(Number(value));
  if (!Number.isSafeInteger(n) || n < 0) fail(`PAX ${what} '${value}' is out of range`);
  return n;
}

/**
 * Iterate over the members of a tar archive.
 *
 * @example
 * ```ts
 * for await (const e of readTar(memorySource(bytes), { label: 'app.tar' })) {
 *   if (e.type === 'file') console.log(pathToText(e.path), e.data.size);
 * }
 * ```
 */
export async function* readTar(source: ByteSource, options: TarReadOptions = {}): AsyncGenerator<TarEntry> {
  const label = options.label ?? 'tar archive';
  const maxExt = options.maxExtendedHeader ?? 1024 * 1024;
  const maxEntries = options.maxEntries ?? 2_000_000;
  let offset = 0;
  let count = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Map<string, string> | undefined;
  const global = new Map<string, string>();
  const fail = (message: string): never => {
    throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', `${label}, offset ${offset}: ${message}`, {
      details: { offset },
    });
  };
  const readExact = async (o: number, n: number): Promise<Uint8Array> => {
    const b = await source.read(o, n);
    if (b.length !== n) fail('unexpected end of archive');
    return b;
  };

  while (offset + BLOCK <= source.size) {
    const block = await readExact(offset, BLOCK);
    if (block.every((b) => b === 0)) return; // end-of-archive marker
    const stored = parseNumber(block, 148, 8, 'checksum', fail);
    if (!checksumOk(block, stored)) fail('header checksum mismatch (not a tar archive, or damaged)');
    const typeflag = block[156] === 0 ? '0' : String.fromCharCode(block[156]!);
    // A PAX size record replaces the header's size field (which may be 0 or saturated).
    const paxSize = pax?.get('size') ?? global.get('size');
    const size =
      paxSize !== undefined ? paxNumber(paxSize, 'size', fail) : parseNumber(block, 124, 12, 'size', fail);
    const dataOffset = offset + BLOCK;
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (dataOffset + size > source.size) fail(`member claims ${size} bytes, past the end of the archive`);
    const next = dataOffset + padded;

    if (typeflag === 'L' || typeflag === 'K' || typeflag === 'x' || typeflag === 'g') {
      if (size > maxExt) fail(`extended header of ${size} bytes exceeds the ${maxExt}-byte limit`);
      const body = await readExact(dataOffset, size);
      if (typeflag === 'L') longName = bytesToPath(field(body, 0, body.length));
      else if (typeflag === 'K') longLink = bytesToPath(field(body, 0, body.length));
      else if (typeflag === 'x') pax = parsePax(body, fail);
      else for (const [k, v] of parsePax(body, fail)) global.set(k, v);
      offset = next;
      continue;
    }
    if (++count > maxEntries) fail(`more than ${maxEntries} members`);

    const magic = bytesToPath(block.subarray(257, 263));
    let name = bytesToPath(field(block, 0, 100));
    if (magic === 'ustar\0' || magic === 'ustar ') {
      const prefix = magic === 'ustar\0' ? bytesToPath(field(block, 345, 155)) : '';
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    let linkName = bytesToPath(field(block, 157, 100));
    const ext = new Map([...global, ...(pax ?? [])]);
    if (longName !== undefined) name = longName;
    if (longLink !== undefined) linkName = longLink;
    name = ext.get('path') ?? name;
    linkName = ext.get('linkpath') ?? linkName;
    const realSize = size;
    const uid = ext.has('uid')
      ? paxNumber(ext.get('uid')!, 'uid', fail)
      : parseNumber(block, 108, 8, 'uid', fail);
    const gid = ext.has('gid')
      ? paxNumber(ext.get('gid')!, 'gid', fail)
      : parseNumber(block, 116, 8, 'gid', fail);
    const mtime = ext.has('mtime')
      ? paxNumber(ext.get('mtime')!, 'mtime', fail)
      : parseNumber(block, 136, 12, 'mtime', fail);
    const mode = parseNumber(block, 100, 8, 'mode', fail) & 0o7777;
    const devMajor = parseNumber(block, 329, 8, 'device major', fail);
    const devMinor = parseNumber(block, 337, 8, 'device minor', fail);
    longName = undefined;
    longLink = undefined;
    pax = undefined;

    let type: ArchiveEntryType;
    switch (typeflag) {
      case '0':
      case '7':
        type = name.endsWith('/') ? 'dir' : 'file';
        break;
      case '1':
        type = 'hardlink';
        break;
      case '2':
        type = 'symlink';
        break;
      case '3':
        type = 'char';
        break;
      case '4':
        type = 'block';
        break;
      case '5':
        type = 'dir';
        break;
      case '6':
        type = 'fifo';
        break;
      case 'S':
        return fail(`'${pathToText(name)}' is a GNU sparse file; re-create the archive without --sparse`);
      default:
        return fail(`'${pathToText(name)}' has unsupported tar entry type '${typeflag}'`);
    }
    const path = normalizeMemberPath(name, `${label} member`);
    const linkTarget =
      type === 'hardlink' ? normalizeMemberPath(linkName, `${label} hard link target`) : linkName;
    const fileSize = type === 'file' ? realSize : 0;
    const start = dataOffset;
    yield {
      path,
      type,
      mode,
      uid,
      gid,
      mtime,
      data: {
        size: fileSize,
        bytes: () => readExact(start, fileSize),
        read: (o: number, n: number) => readExact(start + o, Math.max(0, Math.min(n, fileSize - o))),
      },
      dataOffset: start,
      linkTarget,
      devMajor,
      devMinor,
    };
    offset = next;
  }
  if (offset !== source.size) fail('archive ends inside a header block');
}
