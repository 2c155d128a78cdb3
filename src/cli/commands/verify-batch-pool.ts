/**
 * Worker threads for `verify DIR...` (Node only). On one thread a batch tops out near one core:
 * strict parsing, chain bookkeeping and report building are JavaScript. The pool runs whole
 * documents (read, parse, verify, render the output line) on one thread per CPU, each verifying
 * one document at a time with synchronous ES384, so a thread never sleeps inside a document; the
 * main thread only lists files, hands them out in chunks and prints the lines in input order.
 * Every message wakes a sleeping thread, which on a virtual machine costs about as much as a
 * tenth of a document: chunks keep that to two per chunk.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EnclaveVerifyError } from '../../errors.js';
import type { VerifyOptions } from '../../verify.js';
import type { RevocationFlagValues } from '../revocation-flags.js';

/** The outcome of one file of a batch, as printed. */
export interface FileResult {
  /** The path as given (or joined from a directory argument), for the output line. */
  name: string;
  ok: boolean;
  code?: string;
  line: string;
}

/** What each thread needs to verify files exactly as the main thread would. */
export interface PoolSetup {
  /** The verification options without `cache` and `checkRevocation` (each thread has its own). */
  options: Omit<VerifyOptions, 'cache' | 'checkRevocation'>;
  /** The revocation flags, re-read by each thread (their CRL store is not cloneable). */
  revocation?: RevocationFlagValues;
  json: boolean;
  cwd: string;
  env: Record<string, string | undefined>;
}

// The compiled thread entry beside this module. Run from the TypeScript sources (the tests), it is
// absent and the batch verifies on the main thread, with the same lines.
const WORKER_URL = new URL('./verify-batch-worker.js', import.meta.url);

/**
 * Whether worker threads can be used here (the compiled entry exists).
 *
 * @example
 * ```ts
 * if (poolAvailable()) pool = new VerifyPool(2, setup);
 * ```
 */
export function poolAvailable(): boolean {
  return existsSync(fileURLToPath(WORKER_URL));
}

interface Slot {
  worker: Worker;
  /** Chunks sent and not yet answered. */
  busy: number;
}

/**
 * A fixed set of threads verifying batch files; `verifyMany(names)` resolves with the files'
 * printed results, in the same order. A thread that dies fails every chunk it held with that
 * error (an internal failure, as on the main thread), never silently.
 *
 * @example
 * ```ts
 * const pool = new VerifyPool(2, { options, json: false, cwd: process.cwd(), env: process.env });
 * const [r] = await pool.verifyMany(['evidence/0001.cbor']); // { name, ok: true, line: 'evidence/0001.cbor: VERIFIED ...' }
 * await pool.close();
 * ```
 */
export class VerifyPool {
  private readonly slots: Slot[];
  private readonly pending = new Map<
    number,
    { slot: Slot; resolve: (r: FileResult[]) => void; reject: (e: unknown) => void }
  >();
  private next = 0;

  constructor(threads: number, setup: PoolSetup) {
    this.slots = Array.from({ length: threads }, () => {
      // No per-thread Node flags: the compiled entry needs none, V8 flags (`--max-old-space-size`,
      // `--single-threaded-gc`) already hold for the whole process, and a Worker refuses them,
      // like the entry-script ones (`--input-type` when started with `node -e`), if passed on.
      const slot: Slot = {
        worker: new Worker(WORKER_URL, { workerData: setup, execArgv: [] }),
        busy: 0,
      };
      slot.worker.on('message', (m: { id: number; results?: FileResult[]; error?: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        slot.busy--;
        if (m.results) p.resolve(m.results);
        else p.reject(new EnclaveVerifyError('ERR_IO', `unexpected failure: ${m.error ?? 'unknown'}`));
      });
      slot.worker.on('error', (e) => this.failAll(slot, e));
      slot.worker.on('exit', (code) => {
        if (code !== 0) this.failAll(slot, new Error(`a verification thread exited with code ${code}`));
      });
      return slot;
    });
  }

  /** Verify a chunk of files, one after another, on the thread with the fewest chunks queued. */
  verifyMany(names: readonly string[]): Promise<FileResult[]> {
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.next++;
    slot.busy++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { slot, resolve, reject });
      slot.worker.postMessage({ id, names });
    });
  }

  /** Stop every thread. */
  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private failAll(slot: Slot, error: unknown): void {
    for (const [id, p] of this.pending) {
      if (p.slot !== slot) continue;
      this.pending.delete(id);
      p.reject(error);
    }
  }
}
