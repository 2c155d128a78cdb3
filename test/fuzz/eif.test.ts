// Hostile-input figures for the EIF reader: at least 10,000 mutated headers, section tables and
// section headers per `npm test` run, none accepted, none throwing anything but
// EnclaveVerifyError, bounded time and memory. A second campaign repairs the header CRC after
// mutating so that mutants reach the structural checks behind it.
import { describe, expect, it } from 'vitest';
import { measureEifBytes } from '../../src/measure/eif-reader.js';
import { buildEifBytes } from '../../src/measure/eif-writer.js';
import { eifBuildMetadata } from '../../src/measure/metadata.js';
import { toHex } from '../../src/util/bytes.js';
import { crc32 } from '../../src/util/crc32.js';
import type { FuzzStats } from '../../src/vectors/fuzz.js';
import { createRng, eifFields, mutateEifHeader } from '../../src/vectors/mutate.js';
import { budget, memory, report, SEED, scaled, shared, watchedFuzz } from './support.js';

const TIME_LIMIT_MS = 3000;
const RAW_PER_BASE = scaled(2000);
const REPAIRED_PER_BASE = scaled(1000);

async function bases(): Promise<{ name: string; bytes: Uint8Array }[]> {
  const rng = createRng(SEED, 99);
  const built = await buildEifBytes({
    kernel: rng.bytes(4096),
    cmdline: 'console=ttyS0 fuzz=1',
    ramdisks: [rng.bytes(3000), rng.bytes(1)],
    metadata: eifBuildMetadata({ kernelFileName: 'bzImage', buildTime: '2025-01-01T00:00:00+00:00' }),
  });
  return [
    { name: 'built:two-ramdisks', bytes: built },
    { name: 'real:empty-ramdisk', bytes: shared('eif/official/empty-ramdisk/out.eif') },
    { name: 'real:unicode-cmdline', bytes: shared('eif/official/unicode-cmdline/out.eif') },
    { name: 'real:signed-p384', bytes: shared('eif/official/signed-p384/out.eif') },
    { name: 'real:three-ramdisks-named', bytes: shared('eif/official/three-ramdisks-named/out.eif') },
  ];
}

const pcrsOf = (m: Awaited<ReturnType<typeof measureEifBytes>>) =>
  [m.pcrs.pcr0, m.pcrs.pcr1, m.pcrs.pcr2, m.pcrs.pcr8].map((p) => (p ? toHex(p) : '-')).join(':');

/** Bytes no PCR depends on and the reader may accept any value of: memory, CPUs, arch flag, CRC. */
function onlyUnmeasuredFieldsDiffer(original: Uint8Array, mutant: Uint8Array): boolean {
  if (original.length !== mutant.length) return false;
  for (let i = 0; i < original.length; i++) {
    if (original[i] === mutant[i]) continue;
    const free = (i >= 6 && i < 24) || (i >= 544 && i < 548);
    if (!free) return false;
  }
  return true;
}

function totals(all: FuzzStats[]) {
  return {
    count: all.reduce((s, x) => s + x.count, 0),
    maxMs: Math.max(...all.map((x) => x.maxMs)),
    peakRss: Math.max(...all.map((x) => x.peakRss)),
    peakHeap: Math.max(...all.map((x) => x.peakHeap)),
    seconds: all.reduce((s, x) => s + x.totalMs, 0) / 1000,
    equivalent: all.reduce((s, x) => s + x.equivalent, 0),
  };
}

function assertClean(stats: FuzzStats): void {
  expect(stats.findings.accepted).toEqual([]);
  expect(stats.findings.uncaught).toEqual([]);
  expect(stats.findings.hangs).toEqual([]);
  expect(stats.accepted + stats.uncaught + stats.hangs).toBe(0);
}

describe('mutated EIF headers and section tables', () => {
  it(
    `rejects ${5 * RAW_PER_BASE} raw mutants and ${5 * REPAIRED_PER_BASE} CRC-repaired ones`,
    async () => {
      const raw: FuzzStats[] = [];
      const repaired: FuzzStats[] = [];
      for (const [k, base] of (await bases()).entries()) {
        const original = await measureEifBytes(base.bytes);
        const want = pcrsOf(original);
        const fields = eifFields(base.bytes);
        const rawStats = await watchedFuzz({
          name: `eif raw ${base.name}`,
          seed: SEED + k,
          count: RAW_PER_BASE,
          generate: (i) => {
            const m = mutateEifHeader(base.bytes, createRng(SEED + k, i), { fields });
            return { bytes: m.bytes, how: m.ops.join('; ') };
          },
          check: (bytes) => measureEifBytes(bytes),
          timeLimitMs: TIME_LIMIT_MS,
          memory,
          sampleEvery: 50,
        });
        report(rawStats);
        assertClean(rawStats);
        raw.push(rawStats);

        const repairedStats = await watchedFuzz({
          name: `eif crc-repaired ${base.name}`,
          seed: SEED + 100 + k,
          count: REPAIRED_PER_BASE,
          generate: (i) => {
            const m = mutateEifHeader(base.bytes, createRng(SEED + 100 + k, i), { fields, crc32 });
            return { bytes: m.bytes, how: m.ops.join('; ') };
          },
          check: (bytes) => measureEifBytes(bytes),
          // Accepting is right only for an image identical in everything measured.
          legitimate: (input, m) => onlyUnmeasuredFieldsDiffer(base.bytes, input.bytes) && pcrsOf(m) === want,
          timeLimitMs: TIME_LIMIT_MS,
          memory,
          sampleEvery: 50,
        });
        report(repairedStats);
        assertClean(repairedStats);
        repaired.push(repairedStats);
      }
      const r = totals(raw);
      const c = totals(repaired);
      console.log(
        `[fuzz] eif TOTAL: ${r.count} raw mutants + ${c.count} CRC-repaired, accepted=0 uncaught=0 hangs=0 ` +
          `(${c.equivalent} repaired mutants changed only memory/CPU/arch fields and were rightly accepted), ` +
          `${(r.seconds + c.seconds).toFixed(1)} s, max per-input ${Math.max(r.maxMs, c.maxMs).toFixed(1)} ms, ` +
          `peak RSS ${(Math.max(r.peakRss, c.peakRss) / 2 ** 20).toFixed(0)} MB, peak heap ${(Math.max(r.peakHeap, c.peakHeap) / 2 ** 20).toFixed(0)} MB`,
      );
      expect(r.count).toBeGreaterThanOrEqual(scaled(10_000));
      expect(Math.max(r.maxMs, c.maxMs)).toBeLessThan(TIME_LIMIT_MS);
      expect(Math.max(r.peakHeap, c.peakHeap)).toBeLessThan(256 * 2 ** 20);
      expect(Math.max(r.peakRss, c.peakRss)).toBeLessThan(512 * 2 ** 20);
    },
    budget(240_000),
  );
});
