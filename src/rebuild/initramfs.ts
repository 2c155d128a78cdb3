/**
 * An initramfs read as the kernel reads it (`init/initramfs.c`: `("\0" | cpio | compressed
 * cpio)*`): every member, one gzip member at a time or a plain newc archive, with NUL padding
 * between, so content appended after a first clean member is shown and compared, never hidden.
 * One reader for every caller (the `ramdisk` commands, rebuild comparisons, the vector suite),
 * so they cannot disagree about what a ramdisk holds. Runtime-agnostic: gzip members are
 * decoded by {@link inflateRaw} unless the caller passes a faster decoder (Node: zlib).
 */
import { EnclaveVerifyError } from '../errors.js';
import { crc32 } from '../util/crc32.js';
import { cpioArchiveEnd } from './cpio.js';
import { inflateRaw, type RawInflater } from './gzip/inflate.js';

/** One member of an initramfs: where it starts, gzip or plain newc, and its size as stored. */
export interface InitramfsMember {
  offset: number;
  gzip: boolean;
  size: number;
}

/** What the kernel would unpack from an initramfs. */
export interface Initramfs {
  /**
   * Every member's archives in order, uncompressed (gzip members decoded), each padded to 4
   * bytes; `readCpio` lists all of it.
   */
  cpio: Uint8Array;
  members: InitramfsMember[];
}

/** Options of {@link readInitramfs}. */
export interface InitramfsOptions {
  /** Largest uncompressed size accepted (bounded memory on hostile gzip). Default 4 GiB - 1. */
  maxBytes?: number;
  /** Raw DEFLATE decoder for gzip members. Default {@link inflateRaw}. */
  inflate?: RawInflater;
}

/** Default bound of {@link readInitramfs}: the largest uncompressed ramdisk accepted. */
export const MAX_INITRAMFS_BYTES = 4 * 1024 ** 3 - 1;

const COMPRESSED_MAGICS: [number[], string][] = [
  [[0x42, 0x5a, 0x68], 'bzip2'],
  [[0x5d, 0x00, 0x00], 'lzma'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz'],
  [[0x89, 0x4c, 0x5a, 0x4f], 'lzo'],
  [[0x02, 0x21, 0x4c, 0x18], 'lz4'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'zstd'],
];

const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

/**
 * The gzip member (RFC 1952) at `offset`: its decompressed bytes (at most `limit`) and how many
 * input bytes it used, header and trailer included. The header's flags are honoured (extra
 * field, name, comment, header CRC), the trailer's CRC-32 and size are checked; whatever follows
 * the member is not read. Anything wrong is `ERR_ARCHIVE_MALFORMED` naming `label`.
 *
 * @example
 * ```ts
 * const { out, consumed } = readGzipMember(bytes, 0, 'rootfs.cpio.gz', 1 << 30);
 * ```
 */
export function readGzipMember(
  bytes: Uint8Array,
  offset: number,
  label: string,
  limit: number,
  inflate: RawInflater = inflateRaw,
): { out: Uint8Array; consumed: number } {
  const where = `${label}, offset ${offset}`;
  const bad = (what: string) =>
    new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', `${where}: gzip data is corrupt (${what})`);
  const byte = (i: number): number => {
    if (i >= bytes.length) throw bad('the member ends early');
    return bytes[i]!;
  };
  if (byte(offset) !== 0x1f || byte(offset + 1) !== 0x8b) throw bad('not a gzip header');
  if (byte(offset + 2) !== 8) throw bad('compression method is not deflate');
  const flags = byte(offset + 3);
  if (flags & 0xe0) throw bad('reserved header flags are set');
  let p = offset + 10;
  if (flags & FEXTRA) p += 2 + (byte(p) | (byte(p + 1) << 8));
  for (const f of [FNAME, FCOMMENT]) {
    if (!(flags & f)) continue;
    while (byte(p) !== 0) p++;
    p++;
  }
  if (flags & FHCRC) {
    const stored = byte(p) | (byte(p + 1) << 8);
    if ((crc32(bytes.subarray(offset, p)) & 0xffff) !== stored) throw bad('header CRC mismatch');
    p += 2;
  }
  if (p > bytes.length) throw bad('the member ends early');
  const { out, consumed } = inflate(bytes.subarray(p), Math.max(0, limit), where);
  const t = p + consumed;
  const le32 = (i: number) =>
    (byte(i) | (byte(i + 1) << 8) | (byte(i + 2) << 16) | (byte(i + 3) << 24)) >>> 0;
  if (le32(t) !== crc32(out)) throw bad('CRC-32 mismatch');
  if (le32(t + 4) !== out.length % 2 ** 32) throw bad('length mismatch');
  return { out, consumed: t + 8 - offset };
}

/**
 * Every member of an initramfs as the kernel unpacks it: NUL padding skipped, newc archives
 * kept, gzip members decompressed one at a time (other compressions are refused by name, never
 * skipped; so are bytes that are none of these).
 *
 * @example
 * ```ts
 * const { cpio, members } = readInitramfs(bytes, 'rootfs.cpio.gz');
 * const entries = readCpio(cpio); // every archive's entries, marked by archive index
 * ```
 */
export function readInitramfs(bytes: Uint8Array, label: string, options: InitramfsOptions = {}): Initramfs {
  const max = options.maxBytes ?? MAX_INITRAMFS_BYTES;
  const parts: Uint8Array[] = [];
  const members: InitramfsMember[] = [];
  let total = 0;
  let o = 0;
  while (o < bytes.length) {
    if (bytes[o] === 0) {
      o++;
      continue;
    }
    if (bytes[o] === 0x1f && (bytes[o + 1] === 0x8b || bytes[o + 1] === 0x9e)) {
      const { out, consumed } = readGzipMember(bytes, o, label, max - total, options.inflate);
      parts.push(out);
      members.push({ offset: o, gzip: true, size: consumed });
      total += out.length + 3;
      o += consumed;
    } else if (
      o + 6 <= bytes.length &&
      /^07070[12]$/.test(String.fromCharCode(...bytes.subarray(o, o + 6)))
    ) {
      let end = cpioArchiveEnd(bytes, o);
      // Keep the archive's padding, so a plain ramdisk is compared byte for byte as stored.
      while (end < bytes.length && bytes[end] === 0) end++;
      parts.push(bytes.subarray(o, end));
      members.push({ offset: o, gzip: false, size: end - o });
      total += end - o + 3;
      o = end;
    } else {
      const known = COMPRESSED_MAGICS.find(([m]) => m.every((b, i) => bytes[o + i] === b));
      throw new EnclaveVerifyError(
        'ERR_ARCHIVE_MALFORMED',
        known
          ? `${label}, offset ${o}: a ${known[1]}-compressed member, which the kernel may unpack but this tool cannot read; decompress it first (only gzip and plain newc are read)`
          : `${label}, offset ${o}: bytes that are neither NUL padding, a newc cpio archive nor gzip; the kernel would try to unpack them, so they are not ignored`,
        { details: { offset: o } },
      );
    }
    if (total > max) {
      throw new EnclaveVerifyError(
        'ERR_ARCHIVE_MALFORMED',
        `${label}: expands beyond ${max} bytes uncompressed; refusing it (raise the limit only for trusted input)`,
      );
    }
  }
  if (parts.length === 1 && parts[0]!.length % 4 === 0) return { cpio: parts[0]!, members };
  const cpio = new Uint8Array(parts.reduce((n, p) => n + p.length + ((4 - (p.length % 4)) % 4), 0));
  let w = 0;
  for (const p of parts) {
    cpio.set(p, w);
    w += p.length + ((4 - (p.length % 4)) % 4);
  }
  return { cpio, members };
}
