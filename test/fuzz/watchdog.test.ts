import { describe, expect, it } from 'vitest';
import { startWatchdog } from '../../src/vectors/node/watchdog.js';

describe('fuzz watchdog', () => {
  it('names an input stuck in a synchronous loop, which no timer on the main thread can see', async () => {
    const reports: { index: number; ms: number }[] = [];
    const dog = startWatchdog({
      name: 'self-test (intentional spin)',
      seed: 1,
      limitMs: 100,
      onReport: (r) => reports.push(r),
    });
    try {
      await dog.ready; // a thread that has not started yet cannot see anything
      dog.begin(41);
      dog.end(); // a quick input: nothing to report
      dog.begin(42);
      const t0 = Date.now();
      while (Date.now() - t0 < 1500) {
        // the code under test, spinning
      }
      dog.end();
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      await dog.stop();
    }
    expect(reports.map((r) => r.index)).toEqual([42]);
    expect(reports[0]!.ms).toBeGreaterThan(100);
  });
});
