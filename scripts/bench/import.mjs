#!/usr/bin/env node
// Cost of importing each package entry, paid once per process and per worker thread by every
// user: a fresh `node` process imports dist/index.js, dist/node.js or dist/forge/index.js and
// reports its CPU time (user + system, bootstrap included); the baseline is a fresh `node` that
// imports nothing, in the same rounds (interleaved, so neighbouring figures see the same machine
// load). Wall time from spawn to exit is printed too, but judged on CPU, which load skews less.
//
// Targets, on the median of ROUNDS (CPU = user + system, all threads):
// - enclave-verify/node adds at most 1x bare startup over enclave-verify (measured 0.3-0.5x:
//   the Node-only modules and builtins https, worker_threads, child_process, zlib). The X.509
//   writer stack (@peculiar/x509 + reflect-metadata, about 3x bare startup on its own) made this
//   2.9x before it was loaded on demand; a dependency of that weight back in fails this.
// - enclave-verify/node costs at most 4x bare node startup (measured 3.1x on a quiet machine,
//   up to 3.6x with the other cores busy; 5.6x when it loaded the X.509 stack). The
//   runtime-agnostic entry alone is about 2.7x: the canary's @noble Ed25519 / ML-DSA-65 (0.8x)
//   and ~90 modules of its own, all reachable from synchronous exports, so they cannot be loaded
//   later without changing the API.
import { spawnSync } from 'node:child_process';

const ROUNDS = 7;
const NODE_TARGET = 4;
const NODE_OVER_INDEX_TARGET = 1;

const report = 'const u = process.cpuUsage(); process.stdout.write(JSON.stringify([u.user, u.system]));';
const entries = {
  bare: '',
  index: "await import('./dist/index.js');",
  node: "await import('./dist/node.js');",
  forge: "await import('./dist/forge/index.js');",
};

function run(code) {
  const start = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code + report], { encoding: 'utf8' });
  const wall = performance.now() - start;
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  const [user, system] = JSON.parse(r.stdout);
  return { cpu: (user + system) / 1000, user: user / 1000, wall };
}

for (const code of Object.values(entries)) run(code); // warm the file cache
const samples = Object.fromEntries(Object.keys(entries).map((k) => [k, { cpu: [], user: [], wall: [] }]));
for (let i = 0; i < ROUNDS; i++) {
  for (const [name, code] of Object.entries(entries)) {
    const s = run(code);
    samples[name].cpu.push(s.cpu);
    samples[name].user.push(s.user);
    samples[name].wall.push(s.wall);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpu = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v.cpu)]));
const user = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v.user)]));
const wall = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v.wall)]));
for (const name of Object.keys(entries)) {
  const label = name === 'bare' ? 'bare node (baseline)' : `import ${entries[name].slice(14, -3)}`;
  console.log(
    `${label.padEnd(34)} CPU ${cpu[name].toFixed(0).padStart(4)} ms (${(cpu[name] / cpu.bare).toFixed(2)}x bare)` +
      `   user ${user[name].toFixed(0).padStart(4)} ms` +
      `   wall ${wall[name].toFixed(0).padStart(4)} ms (${(wall[name] / wall.bare).toFixed(2)}x bare)`,
  );
}
const nodeRatio = cpu.node / cpu.bare;
const overIndex = (cpu.node - cpu.index) / cpu.bare;
console.log(`node.js import / bare startup, CPU: ${nodeRatio.toFixed(2)}x (target <= ${NODE_TARGET}x)`);
console.log(
  `node.js - index.js, CPU: ${overIndex.toFixed(2)}x bare startup (target <= ${NODE_OVER_INDEX_TARGET}x)`,
);
process.exit(nodeRatio <= NODE_TARGET && overIndex <= NODE_OVER_INDEX_TARGET ? 0 : 1);
