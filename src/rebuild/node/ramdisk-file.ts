/**
 * Reading ramdisks from files for inspection: a newc cpio, its gzip form, or the ramdisk
 * sections of an EIF, read as the kernel reads an initramfs (`("\0" | cpio | compressed
 * cpio)*`): every member, compressed or not, with NUL padding between, so content appended
 * after a first clean member is shown and compared, never hidden.
 */
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { EnclaveVerifyError } from '../../errors.js';
import { measureEifBytes } from '../../measure/eif-reader.js';
import { expandsBeyond, type RawInflater } from '../gzip/inflate.js';
import { type Initramfs, MAX_INITRAMFS_BYTES, readInitramfs } from '../initramfs.js';

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
export const MAX_RAMDISK = MAX_INITRAMFS_BYTES;

/**
 * zlib's raw inflate as the initramfs reader's DEFLATE decoder: the same answer as the
 * portable one (output, and input used up to the end of the stream), several times faster on
 * ramdisks of hundreds of MB.
 */
const zlibInflateRaw: RawInflater = (input, limit, label) => {
  try {
    // `info` gives the engine, whose bytesWritten is how much input the stream used: the
    // member's trailer, then NUL padding or another archive, are read next, as the kernel does.
    const r = inflateRawSync(input, { maxOutputLength: Math.max(1, limit), info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    if (r.buffer.length > limit) throw expandsBeyond(label, limit);
    return {
      out: new Uint8Array(r.buffer.buffer, r.buffer.byteOffset, r.buffer.length),
      consumed: r.engine.bytesWritten,
    };
  } catch (cause) {
    if (cause instanceof EnclaveVerifyError) throw cause;
    if ((cause as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw expandsBeyond(label, limit);
    throw new EnclaveVerifyError(
      'ERR_ARCHIVE_MALFORMED',
      `${label}: gzip data is corrupt (${(cause as Error).message})`,
      {
        cause,
      },
    );
  }
};

/**
 * {@link readInitramfs} with zlib decoding the gzip members.
 *
 * @example
 * ```ts
 * const { cpio, members } = readRamdiskBytes(bytes, 'rootfs.cpio.gz');
 * ```
 */
export function readRamdiskBytes(bytes: Uint8Array, label: string): Initramfs {
  return readInitramfs(bytes, label, { inflate: zlibInflateRaw });
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
        const read = readRamdiskBytes(data, label);
        return { label, ...read, ...(read.members[0]?.gzip ? { compressed: data } : {}) };
      });
  }
  const read = readRamdiskBytes(bytes, name);
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
