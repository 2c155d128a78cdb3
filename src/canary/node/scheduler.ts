/**
 * When each target is probed. Every target has fixed slots `first + k * interval` (plus a small
 * random jitter per slot, so many monitors do not hit an enclave in lock step); a slot whose
 * previous probe is still running is skipped, so a target never has two requests in flight; a
 * semaphore bounds the probes running at once over all targets. Slots are absolute times, so a
 * slow probe does not shift the later ones.
 */

/** Options of {@link ProbeScheduler}. */
export interface SchedulerOptions {
  /** Time between two slots of a target. */
  intervalMs: number;
  /** Largest number of probes in flight over all targets (default 16). */
  maxConcurrent?: number;
  /** Largest random delay added to a slot (default min(500 ms, interval / 20)). */
  jitterMs?: number;
  /** The first slots of all targets are spread over this many ms (default min(interval / 2, 20 ms per target)). */
  spreadMs?: number;
  /** Clock in ms (default `Date.now`). */
  now?: () => number;
  /** Random in [0, 1) (default `Math.random`). */
  random?: () => number;
}

/** How one slot went, for the bench and the metrics. */
export interface SlotRecord {
  target: string;
  /** The slot time and when the probe actually started (ms). */
  dueAt: number;
  startedAt: number;
  finishedAt: number;
}

interface TargetSlots {
  id: string;
  first: number;
  slot: number;
  running: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Runs `probe(target)` on each target's slots until {@link stop}.
 *
 * @example
 * ```ts
 * const s = new ProbeScheduler(['a', 'b'], (id) => monitor.probeNow(id), { intervalMs: 60_000 });
 * s.start();
 * // ...
 * await s.stop();
 * ```
 */
export class ProbeScheduler {
  /** Slots skipped because the target's previous probe was still running. */
  skipped = 0;
  /** Completed slots, newest last (bounded). */
  readonly history: SlotRecord[] = [];
  private readonly slots: TargetSlots[];
  private readonly waiting: (() => void)[] = [];
  private inFlight = 0;
  private stopped = true;
  private readonly running = new Set<Promise<void>>();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly maxConcurrent: number;
  private readonly jitterMs: number;
  private readonly spreadMs: number;

  constructor(
    targets: readonly string[],
    private readonly probe: (target: string) => Promise<unknown>,
    private readonly options: SchedulerOptions,
  ) {
    if (!(options.intervalMs > 0)) throw new RangeError('intervalMs must be positive');
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 16);
    this.jitterMs = options.jitterMs ?? Math.min(500, options.intervalMs / 20);
    this.spreadMs = options.spreadMs ?? Math.min(options.intervalMs / 2, 20 * targets.length);
    this.slots = targets.map((id) => ({ id, first: 0, slot: 0, running: false, timer: undefined }));
  }

  /** Probes in flight now. */
  get active(): number {
    return this.inFlight;
  }

  /** Start: every target gets its first slot within the spread (a restart probes at once). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const t0 = this.now();
    const n = this.slots.length;
    this.slots.forEach((s, i) => {
      s.first = t0 + (n > 1 ? (this.spreadMs * i) / n : 0);
      s.slot = 0;
      this.arm(s);
    });
  }

  private dueAt(s: TargetSlots, slot: number): number {
    return s.first + slot * this.options.intervalMs;
  }

  private arm(s: TargetSlots): void {
    if (this.stopped) return;
    const due = this.dueAt(s, s.slot) + this.random() * this.jitterMs;
    s.timer = setTimeout(() => this.fire(s, due), Math.max(0, due - this.now()));
  }

  private fire(s: TargetSlots, due: number): void {
    s.timer = undefined;
    if (this.stopped) return;
    const slot = s.slot;
    s.slot = slot + 1;
    if (s.running) {
      // The previous probe of this target is still out: never a second request.
      this.skipped++;
      this.arm(s);
      return;
    }
    s.running = true;
    const task = this.run(s, due).finally(() => {
      s.running = false;
      this.running.delete(task);
    });
    this.running.add(task);
    // Next slot: the first one still ahead, counting the time the probe may take.
    const now = this.now();
    while (this.dueAt(s, s.slot) + this.options.intervalMs < now) {
      s.slot++;
      this.skipped++;
    }
    this.arm(s);
  }

  private async run(s: TargetSlots, due: number): Promise<void> {
    await this.acquire();
    const startedAt = this.now();
    try {
      await this.probe(s.id);
    } catch {
      // The probe reports its own failures; a throw here must not stop the schedule.
    } finally {
      this.release();
      this.history.push({ target: s.id, dueAt: due, startedAt, finishedAt: this.now() });
      if (this.history.length > 100_000) this.history.splice(0, 50_000);
    }
  }

  private acquire(): Promise<void> {
    if (this.inFlight < this.maxConcurrent) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => {
      this.inFlight++;
    });
  }

  private release(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }

  /** Stop scheduling and wait for the probes in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.slots) if (s.timer) clearTimeout(s.timer);
    await Promise.all([...this.running]);
  }
}
