/**
 * A watchdog thread for fuzz campaigns (Node only). A synchronous endless loop in the code under
 * test blocks the main thread, so no timer there can report it; this worker reads the current
 * input index from shared memory and writes the stuck input (campaign, seed, index: enough to
 * regenerate it) straight to stderr, while the test runner's own time-out ends the run.
 */
import { Worker } from 'node:worker_threads';

/** Hooks for `runFuzz`'s `watch` option, plus `stop`. */
export interface Watchdog {
  begin(index: number): void;
  end(): void;
  /**
   * Settles once the thread runs. A campaign need not wait for it (its first inputs are quick);
   * a test of the watchdog itself must, or a slow thread start on a loaded machine looks like a
   * missed report.
   */
  ready: Promise<void>;
  /** Stop the thread (always call it, e.g. in `finally`). */
  stop(): Promise<void>;
}

// Runs in the worker: poll the shared slot, report each stuck input once.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const state = new Float64Array(workerData.buffer);
let reported = -1;
setInterval(() => {
  const index = state[0], started = state[1];
  if (index < 0 || index === reported) return;
  const ms = Date.now() - started;
  if (ms > workerData.limitMs) {
    reported = index;
    writeSync(2, '[fuzz] WATCHDOG ' + workerData.name + ': input ' + index + ' (seed ' + workerData.seed +
      ') has run for ' + ms + ' ms, over the ' + workerData.limitMs + ' ms bound: regenerate it from (seed, index)\\n');
    parentPort.postMessage({ index, ms });
  }
}, Math.max(10, Math.min(250, workerData.limitMs / 4)));
`;

/**
 * Start a watchdog for one campaign.
 *
 * @example
 * ```ts
 * const dog = startWatchdog({ name: 'attestation', seed: 1, limitMs: 3000 });
 * try { await runFuzz({ ...options, watch: dog }); } finally { await dog.stop(); }
 * ```
 */
export function startWatchdog(options: {
  name: string;
  seed: number;
  limitMs: number;
  /** Also told of each stuck input (delivered once the main thread is free again). */
  onReport?: (report: { index: number; ms: number }) => void;
}): Watchdog {
  const buffer = new SharedArrayBuffer(16);
  const state = new Float64Array(buffer);
  state[0] = -1;
  const { onReport, ...data } = options;
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...data, buffer } });
  if (onReport) worker.on('message', onReport);
  const ready = new Promise<void>((done) => worker.once('online', () => done()));
  worker.unref();
  return {
    ready,
    begin(index) {
      state[1] = Date.now();
      state[0] = index;
    },
    end() {
      state[0] = -1;
    },
    async stop() {
      await worker.terminate();
    },
  };
}
