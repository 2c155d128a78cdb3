/**
 * Node stream adapter for the busybox-compatible gzip writer, for pipelines such as
 * `archive.pipe(createBusyboxGzipStream()).pipe(createWriteStream('rootfs.cpio.gz'))`.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { BusyboxGzipEncoder } from '../gzip/gzip.js';

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Creates a Transform stream that gzips its input byte-identically to busybox 1.37.0
 * (defconfig) `gzip`. Input chunks may be Buffers or Uint8Arrays of any size; memory stays
 * bounded (the encoder keeps a 64 KiB window and one block of output).
 *
 * @example
 * ```ts
 * import { createReadStream, createWriteStream } from 'node:fs';
 * import { pipeline } from 'node:stream/promises';
 * await pipeline(createReadStream('rootfs.cpio'), createBusyboxGzipStream(), createWriteStream('rootfs.cpio.gz'));
 * ```
 */
export function createBusyboxGzipStream(): Transform {
  const encoder = new BusyboxGzipEncoder();
  return new Transform({
    transform(chunk: Buffer | Uint8Array, _encoding: BufferEncoding, callback: TransformCallback): void {
      try {
        const out = encoder.write(chunk);
        if (out.length > 0) this.push(asBuffer(out));
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback: TransformCallback): void {
      try {
        this.push(asBuffer(encoder.end()));
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}
