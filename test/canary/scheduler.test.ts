// Slots at fixed times, never two probes of one target in flight, a bound on all probes.
import { describe, expect, it } from 'vitest';
import { ProbeScheduler } from '../../src/canary/node/scheduler.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ProbeScheduler', () => {
  it('never runs two probes of a target at once and bounds the total', async () => {
    const perTarget = new Map<string, number>();
    let total = 0;
    let maxTotal = 0;
    let maxPerTarget = 0;
    const starts: Record<string, number> = { a: 0, b: 0, slow: 0, c: 0 };
    const s = new ProbeScheduler(
      ['a', 'b', 'slow', 'c'],
      async (id) => {
        starts[id]!++;
        const n = (perTarget.get(id) ?? 0) + 1;
        perTarget.set(id, n);
        total++;
        maxTotal = Math.max(maxTotal, total);
        maxPerTarget = Math.max(maxPerTarget, n);
        await sleep(id === 'slow' ? 130 : 5);
        perTarget.set(id, n - 1);
        total--;
      },
      { intervalMs: 40, maxConcurrent: 2, jitterMs: 5 },
    );
    s.start();
    await sleep(420);
    await s.stop();
    expect(maxPerTarget).toBe(1);
    expect(maxTotal).toBeLessThanOrEqual(2);
    expect(maxTotal).toBe(2);
    // About 10 slots in 420 ms for the quick targets; the slow one skips the slots it overlaps.
    expect(starts.a).toBeGreaterThanOrEqual(8);
    expect(starts.slow).toBeLessThanOrEqual(4);
    expect(s.skipped).toBeGreaterThanOrEqual(4);
    expect(s.active).toBe(0);
  });

  it('keeps slots at absolute times: starts stay within the jitter of their slot', async () => {
    const s = new ProbeScheduler(['x'], async () => sleep(15), {
      intervalMs: 30,
      jitterMs: 0,
      random: () => 0,
    });
    s.start();
    await sleep(200);
    await s.stop();
    const late = s.history.map((h) => h.startedAt - h.dueAt);
    expect(s.history.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...late)).toBeLessThan(25);
    // Slot times are first + k * 30 ms exactly.
    const first = s.history[0]!.dueAt;
    expect(s.history.map((h) => Math.round((h.dueAt - first) / 30) * 30 - (h.dueAt - first))).toEqual(
      s.history.map(() => 0),
    );
  });

  it('refuses a non-positive interval', () => {
    expect(() => new ProbeScheduler(['x'], async () => {}, { intervalMs: 0 })).toThrow(RangeError);
  });
});
