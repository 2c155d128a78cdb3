// Shared set-up of the fuzz tests: seeds, scale and the Node memory probe.
import { readFileSync } from 'node:fs';
import { decodeCoseSign1 } from '../../src/parse/cose.js';
import { bytesEqual } from '../../src/util/bytes.js';
import { type FuzzOptions, type FuzzStats, formatFuzzStats, runFuzz } from '../../src/vectors/fuzz.js';
import { startWatchdog } from '../../src/vectors/node/watchdog.js';

/** Fixed by default so a failure reproduces; FUZZ_SEED picks another run. */
export const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
/** FUZZ_SCALE multiplies every count (npm run fuzz uses a larger one). */
export const SCALE = Number(process.env.FUZZ_SCALE ?? 1);

export const scaled = (n: number) => Math.max(1, Math.round(n * SCALE));
/** A test time-out that grows with the campaign size. */
export const budget = (ms: number) => Math.round(ms * Math.max(1, SCALE));

export const memory = () => {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
};

export const SHARED = new URL('../../vectors/real/', import.meta.url);
export const shared = (rel: string) => new Uint8Array(readFileSync(new URL(rel, SHARED)));

/** Print the figures (the tests' console output is the record CI keeps). */
export function report(stats: FuzzStats): void {
  console.log(formatFuzzStats(stats));
}

/**
 * An accepted mutant is legitimate only when it carries exactly the signed bytes of the original
 * (protected header, payload, signature) in another envelope encoding, e.g. with tag 18 added.
 */
export function sameSignedContent(original: Uint8Array, mutant: Uint8Array): boolean {
  try {
    const a = decodeCoseSign1(original);
    const b = decodeCoseSign1(mutant);
    return (
      bytesEqual(a.protectedBytes, b.protectedBytes) &&
      bytesEqual(a.payload, b.payload) &&
      bytesEqual(a.signature, b.signature)
    );
  } catch {
    return false;
  }
}

/** `runFuzz` with a watchdog thread that names any input stuck past the time bound on stderr. */
export async function watchedFuzz<R>(options: FuzzOptions<R>): Promise<FuzzStats> {
  const dog = startWatchdog({ name: options.name, seed: options.seed, limitMs: options.timeLimitMs ?? 2000 });
  try {
    return await runFuzz({ ...options, watch: dog });
  } finally {
    await dog.stop();
  }
}
