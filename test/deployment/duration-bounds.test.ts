/**
 * Issue 15 finding 8, "durations beyond 2^31-1 ms overflow setTimeout", in the library: every
 * duration option is a typed ERR_USAGE past 2^31-1 ms (or when not a finite number), checked
 * before any request, timer or temporary file.
 */
import { describe, expect, it } from 'vitest';
import { probeDeployment } from '../../src/deployment/verify-deployment.js';
import { watchDeployment } from '../../src/deployment/watch.js';
import { createTestPki, issueAttestation } from '../../src/forge/index.js';
import { MAX_DURATION_MS } from '../../src/util/duration.js';
import { runFuzz } from '../../src/vectors/fuzz.js';
import { commandExecutor } from '../../src/vectors/node/command.js';
import { checkAttestation } from '../../src/verify.js';
import { codeOfAsync } from '../support/errors.js';

const BAD = [MAX_DURATION_MS + 1, 25 * 86_400_000, Number.POSITIVE_INFINITY, Number.NaN, -1];

function countingTransport() {
  const calls = { n: 0 };
  const transport = async () => {
    calls.n++;
    throw new Error('no request expected');
  };
  return { calls, transport };
}

describe('durations beyond 2^31-1 ms overflow setTimeout: library options', () => {
  it.each(BAD)(
    'probeDeployment timeoutMs / maxAgeMs / clockSkewMs = %d: ERR_USAGE before any request',
    async (bad) => {
      const { calls, transport } = countingTransport();
      // maxAgeMs and clockSkewMs drive no timer: only NaN and negative values are unusable there.
      const compared = Number.isNaN(bad) || bad < 0 ? [{ maxAgeMs: bad }, { clockSkewMs: bad }] : [];
      for (const options of [{ timeoutMs: bad }, ...compared]) {
        const p = probeDeployment('https://enclave.example', {
          transport,
          expectedPcrs: { 0: '10'.repeat(48) },
          ...options,
        });
        expect(await codeOfAsync(p)).toBe('ERR_USAGE');
      }
      expect(calls.n).toBe(0);
    },
  );

  it('probeDeployment names the option and the bound', async () => {
    await expect(
      probeDeployment('https://enclave.example', { timeoutMs: 25 * 86_400_000 }),
    ).rejects.toMatchObject({
      code: 'ERR_USAGE',
      message:
        'timeoutMs is 2160000000: give a positive number of milliseconds, at most 2147483647 ms (24d 20h 31m 23.647s)',
    });
  });

  it.each([...BAD, 0])('watchDeployment intervalMs = %d: ERR_USAGE before the first probe', async (bad) => {
    const { calls, transport } = countingTransport();
    const loop = watchDeployment(
      'https://enclave.example',
      { transport },
      { intervalMs: bad, count: 2, sleep: async () => {} },
    );
    expect(await codeOfAsync(loop.next())).toBe('ERR_USAGE');
    expect(calls.n).toBe(0);
  });

  it('watchDeployment accepts exactly 2^31-1 ms and waits that long between probes', async () => {
    const { calls, transport } = countingTransport();
    const waits: number[] = [];
    const loop = watchDeployment(
      'https://enclave.example',
      { transport },
      { intervalMs: MAX_DURATION_MS, count: 2, sleep: async (ms) => void waits.push(ms) },
    );
    let probes = 0;
    for await (const p of loop) {
      probes++;
      expect(p.error?.code).toBe('ERR_HTTP');
    }
    expect(probes).toBe(2);
    expect(calls.n).toBe(2);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(MAX_DURATION_MS - 1000);
    expect(waits[0]).toBeLessThanOrEqual(MAX_DURATION_MS);
  });

  it.each(BAD)('checkAttestation maxAgeMs / clockSkewMs = %d: ERR_USAGE only when unusable', async (bad) => {
    const pki = await createTestPki();
    const bytes = await issueAttestation(pki);
    const base = { trustedRoots: [pki.rootPem], currentDate: 'document' as const };
    // Compared limits, not timers: any non-negative number is usable (Canary's replay uses a
    // huge skew to turn the future check off); NaN and negative values are not.
    const expected = Number.isNaN(bad) || bad < 0 ? 'ERR_USAGE' : 'usable';
    const outcome = (o: object) =>
      checkAttestation(bytes, { ...base, ...o }).then(
        () => 'usable',
        (e: { code?: string }) => e.code ?? 'other',
      );
    expect(await outcome({ maxAgeMs: bad })).toBe(expected);
    expect(await outcome({ clockSkewMs: bad })).toBe(expected);
  });

  it('the vector runner refuses a per-case timeout it could not keep', async () => {
    expect(
      await codeOfAsync(
        commandExecutor({ kind: 'eif', parts: [] } as never, { cwd: '.', timeoutMs: MAX_DURATION_MS + 1 }),
      ),
    ).toBe('ERR_USAGE');
    expect(
      await codeOfAsync(
        runFuzz({
          count: 1,
          generate: () => ({ bytes: new Uint8Array(1) }),
          check: () => 0,
          timeLimitMs: 2 ** 32,
        } as never),
      ),
    ).toBe('ERR_USAGE');
  });
});
