/**
 * Read one member of a newc cpio file on disk without loading the archive: headers are read at
 * their offsets and other members' data is skipped, so a multi-GB ramdisk costs a few reads.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { EnclaveVerifyError } from '../../errors.js';

const HEADER = 110;

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

/**
 * The data of the regular file `name` (as stored: `manifest.json`, no `./`) in the newc cpio at
 * `path`, or undefined when the archive has no such member. Data over `maxBytes` is an
 * `ERR_ARCHIVE_MALFORMED` error, as is a malformed header.
 *
 * @example
 * ```ts
 * const manifest = readCpioMember('out/rootfs.cpio', 'manifest.json', 1 << 20);
 * ```
 */
export function readCpioMember(path: string, name: string, maxBytes: number): Uint8Array | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let o = 0;
    const malformed = (m: string) =>
      new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', `cpio ${path}, offset ${o}: ${m}`);
    while (o + HEADER <= size) {
      const head = readAt(fd, o, HEADER).toString('latin1');
      if (!/^07070[12][0-9a-fA-F]{104}$/.test(head)) throw malformed('not a newc cpio header');
      const field = (i: number) => Number.parseInt(head.slice(6 + i * 8, 14 + i * 8), 16);
      const mode = field(1);
      const fileSize = field(6);
      const nameSize = field(11);
      const nameEnd = o + HEADER + nameSize;
      const memberName = readAt(fd, o + HEADER, Math.max(0, nameSize - 1)).toString('latin1');
      const dataStart = nameEnd + ((4 - (nameEnd % 4)) % 4);
      if (dataStart + fileSize > size) throw malformed(`'${memberName}' runs past the end`);
      if (memberName === 'TRAILER!!!') return undefined;
      if (memberName === name && (mode & 0o170000) === 0o100000) {
        if (fileSize > maxBytes) throw malformed(`'${name}' is larger than ${maxBytes} bytes`);
        return new Uint8Array(readAt(fd, dataStart, fileSize));
      }
      const next = dataStart + fileSize;
      o = next + ((4 - (next % 4)) % 4);
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}
