#!/usr/bin/env node
// Batch audit throughput (issue 14 part 3): 10,000 documents (the real ones of
// vectors/real/nitro/valid, repeated) in one directory, verified by one `enclave-verify verify DIR`
// run at its default --jobs, against the same run with --jobs 1 (one document at a time), measured
// in the same process tree, alternately. Target: the batch at least 1.8x the sequential rate on a
// 2-core machine. Each run is a child process (the compiled CLI), which reports its own CPU time
// and peak RSS (process.resourceUsage at exit) so memory stays visibly bounded. On a shared,
// loaded machine the wall-clock speed-up is depressed by the other tenants: CPU figures are
// printed too, and the load average at the start.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAttestation } from '../../dist/index.js';

const COUNT = 10_000;
const TARGET_SPEEDUP = 1.8;
const PAIRS = 2;

const src = new URL('../../vectors/real/nitro/valid/', import.meta.url);
const docs = readdirSync(src)
  .filter((f) => f.endsWith('.cbor'))
  .sort()
  .map((f) => readFileSync(new URL(f, src)));
const work = mkdtempSync(join(tmpdir(), 'ev-bench-batch-'));
const dir = join(work, 'evidence');
try {
  spawnSync('mkdir', [dir]);
  for (let i = 0; i < COUNT; i++)
    writeFileSync(join(dir, `${String(i).padStart(5, '0')}.cbor`), docs[i % docs.length]);
  // Every document's PCR0 is allowed, so each one verifies against an explicit expectation.
  const pcr0s = docs.map((d) =>
    Buffer.from(decodeAttestation(new Uint8Array(d)).pcrs.get(0)).toString('hex'),
  );
  writeFileSync(join(work, 'pcrs.json'), JSON.stringify({ 0: pcr0s }));

  const cli = new URL('../../dist/cli/main.js', import.meta.url).href;
  const wrapper = `
    const { main, nodeContext } = await import(${JSON.stringify(cli)});
    const code = await main(process.argv.slice(1), nodeContext());
    const u = process.resourceUsage();
    process.stderr.write(JSON.stringify({ code, cpu: (u.userCPUTime + u.systemCPUTime) / 1e6, maxRss: u.maxRSS }) + '\\n');
    process.exitCode = code;`;
  const run = (jobs) => {
    const args = [
      'verify',
      dir,
      '--at',
      'document',
      '--allow-debug',
      '--expect-pcrs',
      join(work, 'pcrs.json'),
    ];
    if (jobs) args.push('--jobs', String(jobs));
    const start = performance.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', wrapper, ...args], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const wall = (performance.now() - start) / 1000;
    const stats = JSON.parse(r.stderr.trim().split('\n').at(-1));
    const summary = r.stdout.trimEnd().split('\n').at(-1);
    if (stats.code !== 0 || summary !== `${COUNT} files: ${COUNT} verified, 0 rejected`) {
      throw new Error(`batch run failed (exit ${stats.code}): ${summary}\n${r.stderr.slice(0, 2000)}`);
    }
    return { wall, ...stats };
  };

  console.log(
    `${COUNT} documents (${docs.length} real ones repeated), ${availableParallelism()} CPUs, load average ${loadavg()[0].toFixed(1)}`,
  );
  const ratios = [];
  for (let p = 0; p < PAIRS; p++) {
    const seq = run(1);
    const par = run(undefined);
    ratios.push(seq.wall / par.wall);
    const show = (label, x) =>
      console.log(
        `${label} ${(COUNT / x.wall).toFixed(0).padStart(6)} docs/s wall-clock, ${(COUNT / x.cpu).toFixed(0).padStart(6)} docs/CPU-s, peak RSS ${(x.maxRss / 1024).toFixed(0)} MB`,
      );
    show(`pair ${p + 1}: sequential (--jobs 1):  `, seq);
    show(`pair ${p + 1}: batch (default --jobs):`, par);
  }
  // Each pair's sequential and batch runs are neighbours in time (similar load); the mean counts.
  const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
  console.log(
    `batch / sequential rate per pair: ${ratios.map((r) => r.toFixed(2)).join(', ')} (mean ${mean.toFixed(2)}x, target >= ${TARGET_SPEEDUP}x)`,
  );
  const ok = mean >= TARGET_SPEEDUP;
  console.log(ok ? 'target met' : 'TARGET NOT MET');
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
