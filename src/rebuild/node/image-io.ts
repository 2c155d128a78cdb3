/**
 * Disk-backed helpers for reading container images in Node: streaming SHA-256 of blobs and
 * gzip layers decompressed into temporary files, so an image of any size costs memory for
 * its file list only.
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

/** {@link ImageOptions} hooks backed by the disk, and the clean-up of their temporary files. */
export interface NodeImageIo {
  options: Pick<ImageOptions, 'sha256Hex' | 'gunzip' | 'gunzipWithSha256'>;
  /** Close and delete the temporary layer files (call once the archive is written). */
  cleanup(): void;
}

/**
 * Streaming digests and gunzip-to-temporary-file for {@link treeFromImage}.
 *
 * @example
 * ```ts
 * const io = nodeImageIo();
 * try { const { tree } = await treeFromImage(files, io.options); ... } finally { io.cleanup(); }
 * ```
 */
export function nodeImageIo(): NodeImageIo {
  let dir: string | undefined;
  const opened: FileSource[] = [];
  let n = 0;
  // One pass over the compressed blob: its SHA-256 (when asked) and the decompression, with
  // 1 MiB reads and 1 MiB output chunks (zlib's default 16 KiB costs a third more CPU here).
  // zlib runs on the thread pool while this thread reads, hashes and writes the output.
  async function gunzipToFile(
    source: ByteSource,
    limit: number,
    hash: boolean,
  ): Promise<{ source: FileSource; sha256?: string }> {
    dir ??= mkdtempSync(join(tmpdir(), 'enclave-verify-layers-'));
    const path = join(dir, `layer-${n++}.tar`);
    const fd = openSync(path, 'w');
    const h = hash ? createHash('sha256') : undefined;
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
      closeSync(fd);
    }
    const src = openFileSource(path);
    opened.push(src);
    return { source: src, ...(h ? { sha256: h.digest('hex') } : {}) };
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
