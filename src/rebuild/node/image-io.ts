/**
 * Disk-backed helpers for reading container images in Node: streaming SHA-256 of blobs and
 * gzip layers decompressed into temporary files, so an image of any size costs memory for
 * its file list and a fixed budget only: the first {@link MEMORY_BUDGET} bytes of
 * decompressed layers (all layers together) stay in memory, which saves writing them to disk
 * and reading them back.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { EnclaveVerifyError } from '../../errors.js';
import type { ImageOptions } from '../image.js';
import type { ByteSource } from '../tar.js';
import { type FileSource, openFileSource } from './fs.js';

const CHUNK = 1024 * 1024;
/** Decompressed layer bytes kept in memory, all layers together (the rest goes to disk). */
const MEMORY_BUDGET = 48 * 1024 * 1024;

/** A decompressed layer: a prefix held in memory (zlib's chunks), the rest in a file. */
function layerSource(chunks: Uint8Array[], file: FileSource | undefined): ByteSource {
  const starts: number[] = [];
  let memSize = 0;
  for (const c of chunks) {
    starts.push(memSize);
    memSize += c.length;
  }
  const size = memSize + (file?.size ?? 0);
  const fromMemory = (offset: number, n: number): Uint8Array => {
    // The last chunk starting at or before offset (binary search).
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const first = chunks[lo]!;
    const at = offset - starts[lo]!;
    // Within one chunk: a view, no copy (readers never write to what they read).
    if (at + n <= first.length) return first.subarray(at, at + n);
    const out = new Uint8Array(n);
    let done = 0;
    for (let i = lo; done < n && i < chunks.length; i++) {
      const c = chunks[i]!;
      const from = i === lo ? at : 0;
      const take = Math.min(c.length - from, n - done);
      out.set(c.subarray(from, from + take), done);
      done += take;
    }
    return out;
  };
  return {
    size,
    async read(offset, length) {
      const n = Math.max(0, Math.min(length, size - offset));
      if (n === 0) return new Uint8Array(0);
      if (offset + n <= memSize) return fromMemory(offset, n);
      if (offset >= memSize) return file!.read(offset - memSize, n);
      const head = fromMemory(offset, memSize - offset);
      const tail = await file!.read(0, n - head.length);
      const out = new Uint8Array(head.length + tail.length);
      out.set(head);
      out.set(tail, head.length);
      return out;
    },
  };
}

/** {@link ImageOptions} hooks backed by the disk, and the clean-up of their temporary files. */
export interface NodeImageIo {
  options: Pick<ImageOptions, 'sha256Hex' | 'gunzip' | 'gunzipWithSha256'>;
  /** Close and delete the temporary layer files (call once the archive is written). */
  cleanup(): void;
}

/**
 * Streaming digests and gunzip-to-temporary-file for {@link treeFromImage}. `memoryBudget`
 * (bytes, default 48 MiB) bounds the decompressed bytes kept in memory.
 *
 * @example
 * ```ts
 * const io = nodeImageIo();
 * try { const { tree } = await treeFromImage(files, io.options); ... } finally { io.cleanup(); }
 * ```
 */
export function nodeImageIo(o: { memoryBudget?: number } = {}): NodeImageIo {
  const budget = o.memoryBudget ?? MEMORY_BUDGET;
  let dir: string | undefined;
  const opened: FileSource[] = [];
  let n = 0;
  let inMemory = 0;
  // One pass over the compressed blob: its SHA-256 (when asked) and the decompression, with
  // 1 MiB reads and 1 MiB output chunks (zlib's default 16 KiB costs a third more CPU here).
  // zlib runs on the thread pool while this thread reads, hashes and writes the output.
  async function gunzipToFile(
    source: ByteSource,
    limit: number,
    hash: boolean,
  ): Promise<{ source: ByteSource; sha256?: string }> {
    const h = hash ? createHash('sha256') : undefined;
    const chunks: Uint8Array[] = [];
    let fd: number | undefined;
    let path: string | undefined;
    let total = 0;
    try {
      // The writable high-water mark lets reading run ahead of zlib (Transform option, untyped).
      const z = createGunzip({ chunkSize: CHUNK, writableHighWaterMark: 4 * CHUNK } as ZlibOptions);
      const done = new Promise<void>((resolve, reject) => {
        z.on('data', (chunk: Buffer) => {
          total += chunk.length;
          if (total > limit) {
            z.destroy(
              new EnclaveVerifyError('ERR_RECIPE', `a layer decompresses to more than ${limit} bytes`),
            );
            return;
          }
          if (fd === undefined && inMemory + chunk.length <= budget) {
            chunks.push(chunk);
            inMemory += chunk.length;
            return;
          }
          if (fd === undefined) {
            dir ??= mkdtempSync(join(tmpdir(), 'enclave-verify-layers-'));
            path = join(dir, `layer-${n++}.tar`);
            fd = openSync(path, 'w');
          }
          let w = 0;
          while (w < chunk.length) w += writeSync(fd, chunk, w, chunk.length - w);
        });
        z.on('end', resolve);
        z.on('error', reject);
      });
      // A rejection before the input is all written must not go unhandled.
      done.catch(() => {});
      for (let o = 0; o < source.size; o += CHUNK) {
        const part = await source.read(o, Math.min(CHUNK, source.size - o));
        h?.update(part);
        if (z.destroyed) break;
        if (!z.write(part)) await new Promise((r) => z.once('drain', r).once('close', r));
      }
      z.end();
      await done;
    } catch (cause) {
      if (cause instanceof EnclaveVerifyError) throw cause;
      throw new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', 'a gzip layer is corrupt', { cause });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    let file: FileSource | undefined;
    if (path !== undefined) {
      file = openFileSource(path);
      opened.push(file);
    }
    return { source: layerSource(chunks, file), ...(h ? { sha256: h.digest('hex') } : {}) };
  }
  return {
    options: {
      async sha256Hex(source: ByteSource): Promise<string> {
        const h = createHash('sha256');
        for (let o = 0; o < source.size; o += CHUNK)
          h.update(await source.read(o, Math.min(CHUNK, source.size - o)));
        return h.digest('hex');
      },
      async gunzip(source: ByteSource, limit: number): Promise<ByteSource> {
        return (await gunzipToFile(source, limit, false)).source;
      },
      async gunzipWithSha256(source: ByteSource, limit: number) {
        const r = await gunzipToFile(source, limit, true);
        return { source: r.source, sha256: r.sha256! };
      },
    },
    cleanup() {
      for (const s of opened.splice(0)) s.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}
