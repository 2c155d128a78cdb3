/**
 * Reading ramdisks from files for inspection: a newc cpio, its gzip form, or the ramdisk
 * sections of an EIF.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { EnclaveVerifyError } from '../../errors.js';
import { measureEifBytes } from '../../measure/eif-reader.js';

/** One uncompressed ramdisk found in a file. */
export interface RamdiskBytes {
  /** `file` for a plain/gzip archive, `ramdisk N` for the N-th ramdisk section of an EIF. */
  label: string;
  cpio: Uint8Array;
  /** Compressed bytes as found, when the input was gzip. */
  compressed?: Uint8Array;
}

/** Largest uncompressed ramdisk accepted (bounded memory on hostile gzip). */
export const MAX_RAMDISK = 4 * 1024 ** 3 - 1;

function gunzip(bytes: Uint8Array, label: string): Uint8Array {
  try {
    return new Uint8Array(gunzipSync(bytes, { maxOutputLength: MAX_RAMDISK }));
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
        const gz = data[0] === 0x1f && data[1] === 0x8b;
        return {
          label: `${name} ramdisk ${i}`,
          cpio: gz ? gunzip(data, `${name} ramdisk ${i}`) : data,
          ...(gz ? { compressed: data } : {}),
        };
      });
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b)
    return [{ label: name, cpio: gunzip(bytes, name), compressed: bytes }];
  return [{ label: name, cpio: bytes }];
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
