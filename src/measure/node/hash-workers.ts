/**
 * Two SHA-384 worker threads fed from a SharedArrayBuffer ring, so the PCR0 pass and the
 * PCR2 pass over a large EIF run on both cores while the main thread only reads the file.
 *
 * The worker is created from inline source (`eval: true`) rather than a file: that works the
 * same from `dist/` and under vitest (which cannot start a `.ts` worker file).
 */
import { Worker } from 'node:worker_threads';

// Runs inside the worker. Protocol:
//   {op:'data', slot, len}  hash that slot of the ring, answer {op:'free', slot}
//   {op:'mark'}             remember the digest of everything so far (PCR1's prefix)
//   {op:'finish'}           answer {op:'done', digest, mark}
// Dynamic import() works whether the eval'd source runs as CommonJS or, when the parent was
// started with --input-type=module (inherited through execArgv), as an ES module.
const WORKER_SOURCE = `
Promise.all([import('node:worker_threads'), import('node:crypto')]).then(([{ parentPort, workerData }, { createHash }]) => {
  const ring = new Uint8Array(workerData.ring);
  const slotSize = workerData.slotSize;
  const h = createHash('sha384');
  let mark = null;
  parentPort.on('message', (m) => {
    if (m.op === 'data') {
      h.update(ring.subarray(m.slot * slotSize, m.slot * slotSize + m.len));
      parentPort.postMessage({ op: 'free', slot: m.slot });
    } else if (m.op === 'mark') {
      mark = h.copy().digest();
    } else if (m.op === 'finish') {
      const markDigest = mark ?? h.copy().digest();
      parentPort.postMessage({ op: 'done', digest: h.digest(), mark: markDigest });
    }
  });
});
`;

/** Digests a hash worker returns. */
export interface WorkerDigests {
  digest: Uint8Array;
  /** Digest at the last `mark` (or of everything when never marked). */
  mark: Uint8Array;
}

/**
 * A ring of equal slots in shared memory and the workers that hash them. A slot is reused
 * once every worker it was sent to has hashed it.
 *
 * @example
 * ```ts
 * const pool = await HashWorkerPool.start(2, 8, 4 << 20);
 * const slot = await pool.acquire();
 * // fill pool.slot(slot) ... then
 * pool.dispatch(slot, length, [0, 1]);
 * const [image, app] = await pool.finish();
 * ```
 */
export class HashWorkerPool {
  private readonly refs: Int32Array;
  private readonly freeSlots: number[] = [];
  private waiting: ((slot: number) => void) | undefined;
  private failure: Error | undefined;
  private failed: ((e: Error) => void) | undefined;
  private readonly results: Array<Promise<WorkerDigests>>;

  private constructor(
    private readonly workers: Worker[],
    private readonly ring: SharedArrayBuffer,
    readonly slotSize: number,
    slots: number,
  ) {
    this.refs = new Int32Array(slots);
    for (let i = 0; i < slots; i++) this.freeSlots.push(i);
    this.results = workers.map(
      (w) =>
        new Promise<WorkerDigests>((resolve, reject) => {
          w.on('message', (m: { op: string; slot: number; digest: Uint8Array; mark: Uint8Array }) => {
            if (m.op === 'free') this.release(m.slot);
            else if (m.op === 'done')
              resolve({ digest: new Uint8Array(m.digest), mark: new Uint8Array(m.mark) });
          });
          const fail = (e: Error) => {
            this.failure = e;
            this.failed?.(e);
            reject(e);
          };
          w.on('error', fail);
          w.on('exit', (code) => fail(new Error(`hash worker exited early (code ${code})`)));
        }),
    );
    // Failures surface through acquire() or finish(); avoid unhandled-rejection noise.
    for (const r of this.results) r.catch(() => undefined);
  }

  /** Start `count` workers sharing a ring of `slots` slots of `slotSize` bytes. */
  static async start(count: number, slots: number, slotSize: number): Promise<HashWorkerPool> {
    const ring = new SharedArrayBuffer(slots * slotSize);
    const workers = Array.from(
      { length: count },
      () => new Worker(WORKER_SOURCE, { eval: true, workerData: { ring, slotSize } }),
    );
    return new HashWorkerPool(workers, ring, slotSize, slots);
  }

  /** A view of one slot, to read file data into. */
  slot(index: number): Uint8Array {
    return new Uint8Array(this.ring, index * this.slotSize, this.slotSize);
  }

  /** Wait for a free slot. */
  acquire(): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    const free = this.freeSlots.pop();
    if (free !== undefined) return Promise.resolve(free);
    return new Promise<number>((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
    });
  }

  /** Give a filled slot back without hashing it (e.g. a section with no measured data). */
  release(slot: number): void {
    if (this.refs[slot]! > 0) this.refs[slot]!--;
    if (this.refs[slot] !== 0) return;
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      this.failed = undefined;
      w(slot);
    } else this.freeSlots.push(slot);
  }

  /** Hash the first `length` bytes of `slot` in each of the listed workers. */
  dispatch(slot: number, length: number, workers: readonly number[]): void {
    if (workers.length === 0) {
      this.release(slot);
      return;
    }
    this.refs[slot] = workers.length;
    for (const i of workers) this.workers[i]!.postMessage({ op: 'data', slot, len: length });
  }

  /** Remember worker `i`'s digest so far (the first-ramdisk boundary for PCR1). */
  mark(i: number): void {
    this.workers[i]!.postMessage({ op: 'mark' });
  }

  /** Final digests of every worker, in worker order. */
  async finish(): Promise<WorkerDigests[]> {
    for (const w of this.workers) w.postMessage({ op: 'finish' });
    return Promise.all(this.results);
  }

  /** Stop the workers (always call, also after errors). */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
