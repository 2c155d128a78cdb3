/**
 * Re-verify a deployment on a schedule. Probes run strictly one after another: the next one is
 * scheduled only when the previous has finished, so a slow endpoint never piles up requests.
 */
import { checkDurationMs } from '../util/duration.js';
import { type DeploymentProbe, probeDeployment, type VerifyDeploymentOptions } from './verify-deployment.js';

/** Options of {@link watchDeployment}. */
export interface WatchOptions {
  /** Time between the starts of two probes, in ms (above 0, at most 2^31-1); a probe slower than this delays the next one. */
  intervalMs: number;
  /** Stop after this many probes (default: until `signal` aborts). */
  count?: number;
  /** Stop after the first failed probe. */
  failFast?: boolean;
  /** Stops the loop (between or during probes). */
  signal?: AbortSignal;
  /** Sleep function, for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Yield one {@link DeploymentProbe} per scheduled probe, never more than one request in flight.
 *
 * @example
 * ```ts
 * for await (const probe of watchDeployment(url, { expectedPcrs }, { intervalMs: 60_000, failFast: true })) {
 *   console.log(probe.checkedAt.toISOString(), probe.ok ? 'VERIFIED' : probe.error?.code);
 * }
 * ```
 */
export async function* watchDeployment(
  input: string,
  options: VerifyDeploymentOptions,
  watch: WatchOptions,
): AsyncGenerator<DeploymentProbe, void, undefined> {
  // Checked before the first probe: past 2^31-1 ms setTimeout fires at once (probes back to back),
  // and 0 would hammer the enclave.
  checkDurationMs('intervalMs', watch.intervalMs, { positive: true });
  const sleep = watch.sleep ?? abortableSleep;
  for (let n = 0; watch.count === undefined || n < watch.count; n++) {
    if (watch.signal?.aborted) return;
    const started = Date.now();
    const probe = await probeDeployment(input, { ...options, signal: watch.signal ?? options.signal });
    yield probe;
    if (!probe.ok && watch.failFast) return;
    if (watch.count !== undefined && n + 1 >= watch.count) return;
    const wait = Math.max(0, watch.intervalMs - (Date.now() - started));
    await sleep(wait, watch.signal);
  }
}
