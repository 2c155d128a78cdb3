/**
 * Two worker threads that each read their own ranges of an EIF (through the file descriptor
 * the main thread opened) and hash them: one makes PCR0's pass (and PCR1, a copy of its state
 * at the end of the first ramdisk), the other PCR2's pass over the application ramdisks. Each
 * also checksums part of the file, so the CRC costs no third pass. Neither waits for the other
 * nor for the main thread: each runs a tight read-and-hash loop, like `openssl dgst`, so both
 * cores stay busy even when the machine is shared.
 *
 * The workers are created from inline source (`eval: true`) rather than a file: that works the
 * same from `dist/` and under vitest (which cannot start a `.ts` worker file).
 */
import { Worker } from 'node:worker_threads';
import { EnclaveVerifyError } from '../../errors.js';

/** One contiguous range of the file a worker reads. */
export interface Segment {
  offset: number;
  length: number;
  /** Feed it to this worker's SHA-384. */
  hash: boolean;
  /** Return its own CRC-32 (seed 0) as one piece. */
  crc: boolean;
  /** Remember the hash state right after it (PCR1's prefix ends here). */
  markAfter: boolean;
}

/** What a worker returns. */
export interface SegmentResult {
  digest: Uint8Array;
  /** Digest at the mark, or the final digest when no segment was marked. */
  mark: Uint8Array;
  /** CRC pieces of the `crc` segments. */
  crcs: Array<{ offset: number; length: number; crc: number }>;
}

// Dynamic import() works whether the eval'd source runs as CommonJS or, when the parent was
// started with --input-type=module (inherited through execArgv), as an ES module.
// zlib.crc32 exists from Node 20.15; older versions use the table fallback.
const WORKER_SOURCE = `
Promise.all([import('node:worker_threads'), import('node:crypto'), import('node:fs'), import('node:zlib')]).then(
  ([{ parentPort, workerData }, { createHash }, fs, zlib]) => {
    const { fd, segments, chunkSize, progressEvery } = workerData;
    let crc32 = zlib.crc32;
    if (typeof crc32 !== 'function') {
      const t = new Int32Array(256);
      for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; t[n] = c; }
      crc32 = (b, seed) => { let c = ~seed; for (let i = 0; i < b.length; i++) c = t[(c ^ b[i]) & 255] ^ (c >>> 8); return ~c >>> 0; };
    }
    const h = createHash('sha384');
    const buf = new Uint8Array(chunkSize);
    const crcs = [];
    let mark = null;
    let done = 0;
    let reported = 0;
    try {
      for (const s of segments) {
        let c = 0;
        for (let at = 0; at < s.length; ) {
          const n = fs.readSync(fd, buf, 0, Math.min(chunkSize, s.length - at), s.offset + at);
          if (n === 0) {
            parentPort.postMessage({ op: 'eof', offset: s.offset + at });
            return;
          }
          const view = buf.subarray(0, n);
          if (s.hash) h.update(view);
          if (s.crc) c = crc32(view, c);
          at += n;
          done += n;
          if (done - reported >= progressEvery) {
            parentPort.postMessage({ op: 'progress', done });
            reported = done;
          }
        }
        if (s.crc) crcs.push({ offset: s.offset, length: s.length, crc: c });
        if (s.markAfter) mark = h.copy().digest();
      }
      const digest = h.digest();
      parentPort.postMessage({ op: 'done', digest, mark: mark ?? digest, crcs });
    } catch (e) {
      parentPort.postMessage({ op: 'error', message: String((e && e.message) || e) });
    }
  },
);
`;

/** A running worker: its result, and a way to stop it early (always call before closing `fd`). */
export interface SegmentJob {
  result: Promise<SegmentResult>;
  stop(): Promise<void>;
}

/**
 * Start one worker over `segments` of the open file `fd`; `onProgress(bytes)` reports bytes read.
 *
 * @example
 * ```ts
 * const job = runSegmentWorker(fh.fd, [{ offset: 548, length: 100, hash: true, crc: true, markAfter: false }]);
 * try { const r = await job.result; } finally { await job.stop(); }
 * ```
 */
export function runSegmentWorker(
  fd: number,
  segments: Segment[],
  options: { chunkSize?: number; onProgress?: (bytes: number) => void } = {},
): SegmentJob {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      fd,
      segments,
      chunkSize: options.chunkSize ?? 2 * 1024 * 1024,
      progressEvery: 32 * 1024 * 1024,
    },
  });
  const result = new Promise<SegmentResult>((resolve, reject) => {
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
      void worker.terminate();
    };
    worker.on(
      'message',
      (m: {
        op: string;
        done: number;
        digest: Uint8Array;
        mark: Uint8Array;
        crcs: SegmentResult['crcs'];
        offset: number;
        message: string;
      }) => {
        if (m.op === 'progress') options.onProgress?.(m.done);
        else if (m.op === 'done') {
          finish(() =>
            resolve({ digest: new Uint8Array(m.digest), mark: new Uint8Array(m.mark), crcs: m.crcs }),
          );
        } else if (m.op === 'eof') {
          finish(() =>
            reject(
              new EnclaveVerifyError(
                'ERR_EIF_TRUNCATED',
                `the file ended at byte ${m.offset} while reading; it changed or was cut short while being read`,
              ),
            ),
          );
        } else if (m.op === 'error') {
          finish(() => reject(new EnclaveVerifyError('ERR_IO', `reading the EIF failed: ${m.message}`)));
        }
      },
    );
    worker.on('error', (e) =>
      finish(() =>
        reject(new EnclaveVerifyError('ERR_IO', `hash worker failed: ${e.message}`, { cause: e })),
      ),
    );
    worker.on('exit', (code) =>
      finish(() => reject(new EnclaveVerifyError('ERR_IO', `hash worker exited early (code ${code})`))),
    );
  });
  result.catch(() => undefined); // the caller awaits it; never an unhandled rejection
  return {
    result,
    stop: async () => {
      await worker.terminate();
    },
  };
}
