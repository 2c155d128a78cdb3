/**
 * gzip member writer (RFC 1952) with busybox 1.37.0's exact bytes, as in Caution's ramdisk
 * pipeline (`... | gzip --best > rootfs.cpio.gz` from a StageX busybox built with defconfig).
 */
import { EnclaveVerifyError } from '../../errors.js';
import { crc32 } from '../../util/crc32.js';
import { BusyboxDeflater } from './deflate-busybox.js';

/**
 * busybox's header when compressing standard input: magic, method 8 (deflate), no flags (no
 * file name is stored), modification time 0 (busybox never records one), extra flags 0 (the
 * "slowest" flag would need compression levels, which are compiled out) and OS 3 (Unix).
 */
const HEADER = Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

/**
 * Streaming gzip encoder whose output is byte-identical to `busybox gzip -c < file` (and
 * `gzip --best`, which is the same there) for busybox 1.37.0 `make defconfig`. Memory stays
 * bounded whatever the input size; input chunks may have any size.
 *
 * @example
 * ```ts
 * const enc = new BusyboxGzipEncoder();
 * const parts = [enc.write(utf8('hello, ')), enc.write(utf8('world\n')), enc.end()];
 * const gz = concatBytes(...parts); // same bytes as `printf 'hello, world\n' | busybox gzip`
 * ```
 */
export class BusyboxGzipEncoder {
  private readonly deflater = new BusyboxDeflater();
  private crc = 0;
  private size = 0;
  private headerSent = false;
  private ended = false;

  /** Adds input; returns the gzip bytes completed so far (may be empty). */
  write(chunk: Uint8Array): Uint8Array {
    if (this.ended)
      throw new EnclaveVerifyError(
        'ERR_USAGE',
        'BusyboxGzipEncoder.write called after end(); create a new encoder for each archive',
      );
    this.crc = crc32(chunk, this.crc);
    this.size = (this.size + chunk.length) >>> 0;
    return this.withHeader(this.deflater.write(chunk));
  }

  /** Ends the input; returns the remaining bytes: the last blocks, CRC-32 and size mod 2^32. */
  end(): Uint8Array {
    if (this.ended)
      throw new EnclaveVerifyError(
        'ERR_USAGE',
        'BusyboxGzipEncoder.end called twice; the stream is already complete',
      );
    this.ended = true;
    const body = this.withHeader(this.deflater.finish());
    const out = new Uint8Array(body.length + 8);
    out.set(body);
    const view = new DataView(out.buffer);
    view.setUint32(body.length, this.crc, true);
    view.setUint32(body.length + 4, this.size, true);
    return out;
  }

  private withHeader(bytes: Uint8Array): Uint8Array {
    if (this.headerSent) return bytes;
    this.headerSent = true;
    const out = new Uint8Array(HEADER.length + bytes.length);
    out.set(HEADER);
    out.set(bytes, HEADER.length);
    return out;
  }
}

/**
 * Compresses `data` exactly as busybox 1.37.0 (defconfig) `gzip` does from standard input.
 *
 * @example
 * ```ts
 * const gz = gzipBusybox(utf8('a')); // 1f8b0800000000000003 4b0400 43beb7e8 01000000
 * ```
 */
export function gzipBusybox(data: Uint8Array): Uint8Array {
  const enc = new BusyboxGzipEncoder();
  const head = enc.write(data);
  const tail = enc.end();
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
