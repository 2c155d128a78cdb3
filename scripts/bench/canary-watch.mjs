#!/usr/bin/env node
// The Canary monitor under load: 100 simulated enclaves on loopback (in a child process, so
// their signing does not count against the monitor), all probed every 6 s (the config minimum)
// for a minute with full verification, signing (Ed25519 + ML-DSA-65) and an fsynced append per
// attempt. Target: every probe starts within 1 s of its slot, and every probe passes.
// Printed: lateness (max, p99), CPU of the monitor process (user + system, as a share of one
// core), peak RSS. Baseline in the same run, before the load: the CPU of one probe of one
// target done serially (median of 30); the ratio says what scheduling 100 targets at once costs
// per probe over doing them one by one.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

// fsync, DNS lookups and WebCrypto all run on libuv's pool (4 threads by default); a monitor of
// 100 targets wants more. Set before anything uses the pool, so the library is imported below.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { parseCanaryConfig } = await import('../../dist/canary/config.js');
const { deriveCanaryKeys } = await import('../../dist/canary/keys.js');
const { CanaryMonitor } = await import('../../dist/canary/node/monitor.js');

const TARGETS = 100;
const INTERVAL_S = 6;
const DURATION_MS = 60_000;
const TARGET_LATENESS_MS = 1000;
const MAX_CONCURRENT = TARGETS;

// The enclaves run in a child process with one throwaway PKI and one TLS certificate (two
// fleets would mean two self-signed CAs with the same subject name, which OpenSSL cannot tell
// apart when building a chain).
function startEnclaves(count) {
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `
      import { createDemoFleet, startDemoCanaryEnclave } from ${JSON.stringify(new URL('../../dist/canary/node/demo-enclaves.js', import.meta.url).href)};
      const fleet = await createDemoFleet();
      const urls = [];
      for (let i = 0; i < ${count}; i++) urls.push((await startDemoCanaryEnclave(fleet)).url);
      process.stdout.write(JSON.stringify({ urls, root: fleet.pki.rootPem, tls: fleet.tls.certPem, pcrs: fleet.expectedPcrs }) + '\\n');
      process.stdin.resume();
      process.stdin.on('end', () => {
        const c = process.cpuUsage();
        process.stdout.write(JSON.stringify({ cpuMs: (c.user + c.system) / 1000 }) + '\\n');
        process.exit(0);
      });
    `,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = [];
  let text = '';
  const waiters = [];
  child.stdout.on('data', (d) => {
    text += d;
    let k = text.indexOf('\n');
    while (k >= 0) {
      lines.push(JSON.parse(text.slice(0, k)));
      text = text.slice(k + 1);
      k = text.indexOf('\n');
      waiters.shift()?.();
    }
  });
  const next = () =>
    new Promise((resolve) => {
      if (lines.length > 0) resolve(lines.shift());
      else waiters.push(() => resolve(lines.shift()));
    });
  return { child, next };
}
const children = [startEnclaves(TARGETS)];
const fleets = await Promise.all(children.map((c) => c.next()));
const load0 = loadavg()[0];

const dir = await mkdtemp(join(tmpdir(), 'canary-bench-'));
const config = parseCanaryConfig(
  JSON.stringify({
    version: 0,
    node_id: 'bench',
    probe_interval_seconds: INTERVAL_S,
    history_limit: 1000,
    targets: fleets
      .flatMap((f) => f.urls)
      .map((url, i) => ({
        id: `t${i}`,
        name: `target ${i}`,
        attestation_url: url,
        ...(i % 2 === 0 ? { e2e_mode: 'tls' } : {}),
        expected_pcrs: fleets[0].pcrs,
      })),
  }),
);
const monitor = await CanaryMonitor.start({
  config,
  keys: deriveCanaryKeys(new Uint8Array(32).fill(1), 'bench'),
  identityMode: 'stable',
  dataDir: dir,
  network: { allowPrivate: true, ca: fleets.map((f) => f.tls) },
  trustedRoots: fleets.map((f) => f.root),
  binaryDigest: `sha256:${'0'.repeat(64)}`,
});

// Baseline: one target probed serially.
const samples = [];
for (let i = 0; i < 30; i++) {
  const c0 = process.cpuUsage();
  const a = await monitor.probeNow('t1');
  const c = process.cpuUsage(c0);
  if (a.observation.attempt_reason !== 'ALL_CHECKS_PASSED')
    throw new Error(`baseline probe: ${a.observation.attempt_reason}`);
  samples.push((c.user + c.system) / 1000);
}
samples.sort((a, b) => a - b);
const perProbeMs = samples[samples.length >> 1];

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const scheduler = monitor.startSchedule({ maxConcurrent: MAX_CONCURRENT });
await new Promise((r) => setTimeout(r, DURATION_MS));
await scheduler.stop();
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;

const slots = scheduler.history;
const late = slots.map((s) => s.startedAt - s.dueAt).sort((a, b) => a - b);
const maxLate = late[late.length - 1] ?? Number.POSITIVE_INFINITY;
const p99 = late[Math.floor(late.length * 0.99)] ?? Number.POSITIVE_INFINITY;
let passed = 0;
let failed = 0;
const reasons = new Map();
for (const id of monitor.targetIds) {
  for (const [reason, n] of monitor.details(id).counts) {
    if (reason === 'ALL_CHECKS_PASSED') passed += n;
    else failed += n;
    reasons.set(reason, (reasons.get(reason) ?? 0) + n);
  }
}
passed -= 30; // the baseline's probes
const expected = TARGETS * Math.floor(DURATION_MS / (INTERVAL_S * 1000));
const durations = slots.map((s) => s.finishedAt - s.startedAt).sort((a, b) => a - b);
const rssMb = process.resourceUsage().maxRSS / 1024;
await monitor.close();
for (const c of children) c.child.stdin.end();
const enclaveCpuMs = (await Promise.all(children.map((c) => c.next()))).reduce((a, r) => a + r.cpuMs, 0);
const load1 = loadavg()[0];
await rm(dir, { recursive: true, force: true });

console.log(`targets ${TARGETS}, interval ${INTERVAL_S} s, ${(wallMs / 1000).toFixed(1)} s`);
console.log(
  `probes ${slots.length} (at least ${expected} expected), passed ${passed}, failed ${failed}, slots skipped ${scheduler.skipped}`,
);
console.log(
  `outcomes: ${[...reasons].map(([r, n]) => `${r} ${r === 'ALL_CHECKS_PASSED' ? n - 30 : n}`).join(', ')}`,
);
console.log(
  `lateness vs slot: max ${maxLate.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms (target < ${TARGET_LATENESS_MS} ms)`,
);
console.log(
  `monitor CPU ${(cpuMs / 1000).toFixed(1)} s = ${((100 * cpuMs) / wallMs).toFixed(1)}% of one core; ${(cpuMs / slots.length).toFixed(1)} ms per probe vs ${perProbeMs.toFixed(1)} ms serial baseline (${(cpuMs / slots.length / perProbeMs).toFixed(2)}x)`,
);
console.log(
  `probe wall time: median ${durations[durations.length >> 1]?.toFixed(0)} ms, max ${durations[durations.length - 1]?.toFixed(0)} ms (at most ${MAX_CONCURRENT} in flight)`,
);
console.log(`enclave processes CPU ${(enclaveCpuMs / 1000).toFixed(1)} s (not counted above)`);
console.log(`machine load average ${load0.toFixed(1)} -> ${load1.toFixed(1)} on ${cpus().length} cores`);
console.log(`peak RSS ${rssMb.toFixed(0)} MB`);
const ok =
  maxLate < TARGET_LATENESS_MS && slots.length >= expected && failed === 0 && scheduler.skipped === 0;
console.log(ok ? 'target met' : 'TARGET MISSED');
process.exit(ok ? 0 : 1);
