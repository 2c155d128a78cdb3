/**
 * The fuzz harness: feeds generated inputs to a target and accounts for every outcome, time and
 * memory. Runtime-agnostic: the clock and the memory probe are injected (Node passes
 * `process.memoryUsage`). An input counts as
 * - rejected: the target threw an {@link EnclaveVerifyError} (the only acceptable failure);
 * - accepted: the target returned and the oracle did not call the result legitimate;
 * - uncaught: the target threw anything else (a bug: TypeError, RangeError, stack overflow...);
 * - hung: no answer within the per-input time bound (asynchronous hangs are cut off by a timer;
 *   a synchronous loop cannot be interrupted in-thread: the `watch` hooks let a watchdog thread,
 *   `node/watchdog.ts`, name the stuck input while the test runner's time-out ends the run).
 */

import { EnclaveVerifyError } from '../errors.js';
import { checkDurationMs } from '../util/duration.js';

/** One recorded problem, with what is needed to reproduce it. */
export interface FuzzFinding {
  index: number;
  /** How the input was made (mutation operators, generator). */
  how: string;
  /** Error name and message, or the accepted result. */
  what: string;
  size: number;
}

/** Figures of one fuzz run. */
export interface FuzzStats {
  name: string;
  seed: number;
  count: number;
  rejected: number;
  accepted: number;
  /** Acceptances the oracle declared legitimate (e.g. re-encodings of the same signed bytes). */
  equivalent: number;
  uncaught: number;
  hangs: number;
  /** Rejections by error code. */
  byCode: Record<string, number>;
  totalMs: number;
  maxMs: number;
  /** Input whose check took `maxMs`. */
  slowest: { index: number; how: string; size: number } | undefined;
  /** Largest input size fed. */
  maxInputBytes: number;
  /** Peak resident set and heap seen during the run (bytes; 0 when no probe). */
  peakRss: number;
  peakHeap: number;
  /** Resident set and heap at the start. */
  startRss: number;
  startHeap: number;
  /** First findings of each problem kind (capped). */
  findings: {
    accepted: FuzzFinding[];
    uncaught: FuzzFinding[];
    hangs: FuzzFinding[];
    equivalent: FuzzFinding[];
  };
}

/** A generated input. */
export interface FuzzInput {
  bytes: Uint8Array;
  how: string;
}

/** Options of {@link runFuzz}. */
export interface FuzzOptions<R> {
  name: string;
  seed: number;
  count: number;
  /** Input `index` of the run; must depend only on (seed, index). */
  generate: (index: number) => FuzzInput;
  /** The code under test. Resolving means "accepted". */
  check: (bytes: Uint8Array) => Promise<R> | R;
  /** Decide whether an acceptance is legitimate (then it counts as `equivalent`). Default: never. */
  legitimate?: (input: FuzzInput, result: R) => boolean;
  /** Per-input bound, ms. Default 2000. */
  timeLimitMs?: number;
  /** Clock, ms. Default `performance.now`. */
  now?: () => number;
  /** Memory probe (bytes). Sampled every `sampleEvery` inputs and at the end. */
  memory?: () => { rss: number; heapUsed: number };
  /** Default 250. */
  sampleEvery?: number;
  /** Findings kept per kind. Default 5. */
  keep?: number;
  /** Told when each input starts and ends (e.g. a watchdog thread that can see synchronous hangs). */
  watch?: { begin(index: number): void; end(): void };
}

const HANG = Symbol('hang');

/**
 * Run a fuzz campaign and return its figures (it does not assert: callers decide the bounds).
 *
 * @example
 * ```ts
 * const stats = await runFuzz({
 *   name: 'attestation', seed: 1, count: 1000,
 *   generate: (i) => { const m = mutate(doc, createRng(1, i)); return { bytes: m.bytes, how: m.ops.join('; ') }; },
 *   check: (b) => verifyAttestation(b, options),
 * });
 * if (stats.accepted || stats.uncaught || stats.hangs) throw new Error(formatFuzzStats(stats));
 * ```
 */
export async function runFuzz<R>(options: FuzzOptions<R>): Promise<FuzzStats> {
  const now = options.now ?? (() => performance.now());
  const limit = checkDurationMs('timeLimitMs', options.timeLimitMs ?? 2000, { positive: true });
  const keep = options.keep ?? 5;
  const every = options.sampleEvery ?? 250;
  const start = options.memory?.() ?? { rss: 0, heapUsed: 0 };
  const stats: FuzzStats = {
    name: options.name,
    seed: options.seed,
    count: 0,
    rejected: 0,
    accepted: 0,
    equivalent: 0,
    uncaught: 0,
    hangs: 0,
    byCode: {},
    totalMs: 0,
    maxMs: 0,
    slowest: undefined,
    maxInputBytes: 0,
    peakRss: start.rss,
    peakHeap: start.heapUsed,
    startRss: start.rss,
    startHeap: start.heapUsed,
    findings: { accepted: [], uncaught: [], hangs: [], equivalent: [] },
  };
  const sample = () => {
    if (!options.memory) return;
    const m = options.memory();
    if (m.rss > stats.peakRss) stats.peakRss = m.rss;
    if (m.heapUsed > stats.peakHeap) stats.peakHeap = m.heapUsed;
  };
  const note = (list: FuzzFinding[], f: FuzzFinding) => {
    if (list.length < keep) list.push(f);
  };
  const t0 = now();
  for (let index = 0; index < options.count; index++) {
    const input = options.generate(index);
    if (input.bytes.length > stats.maxInputBytes) stats.maxInputBytes = input.bytes.length;
    const begin = now();
    options.watch?.begin(index);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let outcome: { ok: true; value: R } | { ok: false; error: unknown } | typeof HANG;
    try {
      const pending = Promise.resolve().then(() => options.check(input.bytes));
      const hang = new Promise<typeof HANG>((resolve) => {
        timer = setTimeout(() => resolve(HANG), limit);
      });
      outcome = await Promise.race([
        pending.then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
        hang,
      ]);
    } finally {
      clearTimeout(timer);
      options.watch?.end();
    }
    const ms = now() - begin;
    stats.count++;
    if (ms > stats.maxMs) {
      stats.maxMs = ms;
      stats.slowest = { index, how: input.how, size: input.bytes.length };
    }
    const base = { index, how: input.how, size: input.bytes.length };
    if (outcome === HANG || ms > limit) {
      stats.hangs++;
      note(stats.findings.hangs, { ...base, what: `no answer within ${limit} ms` });
    } else if (outcome.ok) {
      if (options.legitimate?.(input, outcome.value)) {
        stats.equivalent++;
        note(stats.findings.equivalent, { ...base, what: 'accepted, and the oracle judged it legitimate' });
      } else {
        stats.accepted++;
        note(stats.findings.accepted, { ...base, what: 'accepted' });
      }
    } else if (outcome.error instanceof EnclaveVerifyError) {
      stats.rejected++;
      stats.byCode[outcome.error.code] = (stats.byCode[outcome.error.code] ?? 0) + 1;
    } else {
      stats.uncaught++;
      const e = outcome.error as Error;
      note(stats.findings.uncaught, { ...base, what: `${e?.name ?? typeof e}: ${e?.message ?? String(e)}` });
    }
    if (index % every === 0) sample();
  }
  sample();
  stats.totalMs = now() - t0;
  return stats;
}

const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;

/**
 * The figures as a short printable block (what the tests and `npm run fuzz` print).
 *
 * @example
 * ```ts
 * console.log(formatFuzzStats(stats));
 * ```
 */
export function formatFuzzStats(s: FuzzStats): string {
  const codes = Object.entries(s.byCode)
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c}=${n}`)
    .join(' ');
  const lines = [
    `[fuzz] ${s.name}: ${s.count} inputs (seed ${s.seed}) in ${(s.totalMs / 1000).toFixed(1)} s ` +
      `(${(s.count / (s.totalMs / 1000)).toFixed(0)}/s); rejected=${s.rejected} accepted=${s.accepted} ` +
      `uncaught=${s.uncaught} hangs=${s.hangs}${s.equivalent ? ` legitimately-accepted=${s.equivalent}` : ''}`,
    `[fuzz] ${s.name}: max per-input ${s.maxMs.toFixed(1)} ms` +
      (s.slowest ? ` (input ${s.slowest.index}, ${s.slowest.size} B: ${s.slowest.how})` : '') +
      `; largest input ${s.maxInputBytes} B`,
    `[fuzz] ${s.name}: peak RSS ${mb(s.peakRss)} (start ${mb(s.startRss)}), peak heap ${mb(s.peakHeap)} (start ${mb(s.startHeap)})`,
    `[fuzz] ${s.name}: rejections by code: ${codes || '(none)'}`,
  ];
  for (const [kind, list] of Object.entries(s.findings)) {
    for (const f of list)
      lines.push(`[fuzz] ${s.name}: ${kind} input ${f.index} (${f.size} B, ${f.how}): ${f.what}`);
  }
  return lines.join('\n');
}
