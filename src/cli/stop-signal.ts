/**
 * How long-running commands (`demo --serve`, `canary watch`) stop: Ctrl-C (SIGINT) or SIGTERM
 * aborts a signal, and the command waits for it. Tests pass their own signal instead, so only
 * a command's `run` entry touches `process`.
 */

/**
 * Resolves when `stop` aborts, at once when it already has or when there is none.
 *
 * @example
 * ```ts
 * await untilStopped(stop);
 * ```
 */
export function untilStopped(stop: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((done) => {
    if (!stop || stop.aborted) return done();
    stop.addEventListener('abort', () => done(), { once: true });
  });
}

/**
 * Runs `body` with a signal that SIGINT or SIGTERM aborts; the handlers are removed afterwards.
 *
 * @example
 * ```ts
 * return runUntilSignal((signal) => runWatch(argv, ctx, signal));
 * ```
 */
export async function runUntilSignal<T>(body: (stop: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await body(stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
