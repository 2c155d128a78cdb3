/**
 * Reading ramdisks from files for inspection: a newc cpio, its gzip form, or the ramdisk
 * sections of an EIF, read as the kernel reads an initramfs (`("\0" | cpio | compressed
 * cpio)*`): every member, compressed or not, with NUL padding between, so content appended
 * after a first clean member is shown and compared, never hidden.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { EnclaveVerifyError } from '../../errors.js';
import { measureEifBytes } from '../../measure/eif-reader.js';
import { cpioArchiveEnd } from '../cpio.js';

/** One uncompressed ramdisk found in a file. */
export interface RamdiskBytes {
  /** `file` for a plain/gzip archive, `ramdisk N` for the N-th ramdisk section of an EIF. */
  label: string;
  /**
   * Everything the kernel would unpack, uncompressed: each member's archives in order (gzip
   * members decompressed), each padded to 4 bytes. {@link readCpio} lists all of it.
   */
  cpio: Uint8Array;
  /** The bytes as found (all members), when the first member was gzip. */
  compressed?: Uint8Array;
  /** The members found: offset in the input, gzip or not, and size as stored. */
  members: { offset: number; gzip: boolean; size: number }[];
}

/** Largest uncompressed ramdisk accepted (bounded memory on hostile gzip). */
export const MAX_RAMDISK = 4 * 1024 ** 3 - 1;

function gunzipMember(
  bytes: Uint8Array,
  label: string,
  limit: number,
): { out: Uint8Array; consumed: number } {
  try {
    // `info` gives the engine, whose bytesWritten is how much input the member(s) used: what
    // follows (NUL padding, another archive) is read next, as the kernel does.
    const r = gunzipSync(bytes, { maxOutputLength: Math.max(1, limit), info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    return { out: new Uint8Array(r.buffer), consumed: r.engine.bytesWritten };
  } catch (cause) {
    throw new EnclaveVerifyError(
      'ERR_ARCHIVE_MALFORMED',
      `${label}: gzip data is corrupt or larger than 4 GiB`,
      {
        cause,
      },
    );
  }
}

const COMPRESSED_MAGICS: [number[], string][] = [
  [[0x42, 0x5a, 0x68], 'bzip2'],
  [[0x5d, 0x00, 0x00], 'lzma'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz'],
  [[0x89, 0x4c, 0x5a, 0x4f], 'lzo'],
  [[0x02, 0x21, 0x4c, 0x18], 'lz4'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'zstd'],
];

/**
 * Every member of an initramfs as the kernel unpacks it: NUL padding skipped, newc archives
 * kept, gzip members decompressed (other compressions are refused by name, never skipped).
 *
 * @example
 * ```ts
 * const { cpio, members } = readInitramfs(bytes, 'rootfs.cpio.gz');
 * ```
 */
export function readInitramfs(bytes: Uint8Array, label: string): Pick<RamdiskBytes, 'cpio' | 'members'> {
  const parts: Uint8Array[] = [];
  const members: RamdiskBytes['members'] = [];
  let total = 0;
  let o = 0;
  while (o < bytes.length) {
    if (bytes[o] === 0) {
      o++;
      continue;
    }
    if (bytes[o] === 0x1f && (bytes[o + 1] === 0x8b || bytes[o + 1] === 0x9e)) {
      const { out, consumed } = gunzipMember(bytes.subarray(o), label, MAX_RAMDISK - total);
      if (consumed <= 0)
        throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', `${label}, offset ${o}: empty gzip member`);
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
    if (total > MAX_RAMDISK)
      throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', `${label}: larger than 4 GiB uncompressed`);
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

/**
 * Decode ramdisk bytes: gzip is unpacked, a cpio is returned as is, an EIF yields each of its
 * ramdisk sections.
 *
 * @example
 * ```ts
 * const [r] = await ramdisksFromBytes(readFileSync('rootfs.cpio.gz'), 'rootfs.cpio.gz');
 * ```
 */
export async function ramdisksFromBytes(bytes: Uint8Array, name: string): Promise<RamdiskBytes[]> {
  const isEif =
    bytes.length >= 4 && bytes[0] === 0x2e && bytes[1] === 0x65 && bytes[2] === 0x69 && bytes[3] === 0x66;
  if (isEif) {
    const m = await measureEifBytes(bytes, { allowCrcMismatch: true });
    return m.sections
      .filter((s) => s.kind === 'ramdisk')
      .map((s, i) => {
        const data = bytes.subarray(s.dataOffset, s.dataOffset + s.size);
        const label = `${name} ramdisk ${i}`;
        const read = readInitramfs(data, label);
        return { label, ...read, ...(read.members[0]?.gzip ? { compressed: data } : {}) };
      });
  }
  const read = readInitramfs(bytes, name);
  return [{ label: name, ...read, ...(read.members[0]?.gzip ? { compressed: bytes } : {}) }];
}

/**
 * {@link ramdisksFromBytes} of a file.
 *
 * @example
 * ```ts
 * const ramdisks = await ramdisksFromFile('enclave.eif');
 * ```
 */
export async function ramdisksFromFile(path: string): Promise<RamdiskBytes[]> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (cause) {
    throw new EnclaveVerifyError('ERR_IO', `cannot read '${path}': ${(cause as Error).message}`, { cause });
  }
  return ramdisksFromBytes(bytes, path);
}
