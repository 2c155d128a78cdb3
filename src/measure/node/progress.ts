/**
 * A one-line progress bar on a TTY stream, redrawn at most ten times a second.
 */

/** Minimal stream shape the bar writes to. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * A progress callback `(done, total)` drawing `label [#####.....]  45%  460/1024 MiB` on
 * `stream`, plus `end()` to clear the line.
 *
 * @example
 * ```ts
 * const bar = progressBar(process.stderr, 'measuring enclave.eif');
 * await measureEifFile(path, { onProgress: bar.update });
 * bar.end();
 * ```
 */
export function progressBar(
  stream: ProgressStream,
  label: string,
): { update: (done: number, total: number) => void; end: () => void } {
  let last = 0;
  let drawn = false;
  const mib = (n: number) => (n / 1024 / 1024).toFixed(0);
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const frac = total > 0 ? Math.min(1, done / total) : 1;
      const width = 30;
      const filled = Math.round(frac * width);
      const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}%  ${mib(done)}/${mib(total)} MiB`;
      stream.write(`\r${line.slice(0, Math.max(20, (stream.columns ?? 100) - 1))}`);
      drawn = true;
    },
    end() {
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}
