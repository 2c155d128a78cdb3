/**
 * Reading a web `ReadableStream` of bytes with a cap, shared by the fetch transport and the gzip
 * readers: a hostile server or a zip bomb must not make us buffer an unbounded amount.
 */
import { ByteChunks } from './bytes.js';

/**
 * Read `stream` into one array, cancelling it and throwing `tooLarge()` as soon as more than
 * `maxBytes` arrive. Errors of the stream itself are passed on unchanged.
 *
 * @example
 * ```ts
 * const body = await readStreamCapped(response.body!, 1024 * 1024, () => new Error('body too large'));
 * ```
 */
export async function readStreamCapped(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks = new ByteChunks();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (chunks.length + value.length > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return chunks.join();
}
