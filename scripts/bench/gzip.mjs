#!/usr/bin/env node
// Speed of our busybox-compatible gzip writer against the busybox oracle itself, on the same
// ~64 MB input in the same run. Target: at most 1.5x busybox's time, so that the full ramdisk
// rebuild stays within 2x of the reference `cpio | busybox gzip` pipeline.
// Input: the files of node_modules (real JavaScript, JSON, native binaries), concatenated in
// sorted order with 512-byte tar-like headers, like an archive of a root filesystem.
// Times are CPU seconds (user + system; busybox's measured as our reaped child's) because
// several processes share this machine; wall-clock figures are printed alongside.
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BusyboxGzipEncoder } from '../../dist/index.js';

const TARGET_RATIO = 1.5;
const INPUT_BYTES = 64 * 1024 * 1024;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The baseline is busybox 1.37.0 itself, named by ORACLE_BUSYBOX; without it there is no figure. */
function busyboxPath() {
  if (process.env.ORACLE_BUSYBOX) return process.env.ORACLE_BUSYBOX;
  console.log(
    'skipped: the baseline needs ORACLE_BUSYBOX (eval "$(bash ../shared/tools/oracles.sh)", as .ci/run does)',
  );
  process.exit(77);
}

function buildInput() {
  const out = new Uint8Array(INPUT_BYTES);
  let pos = 0;
  const header = new Uint8Array(512);
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      if (pos >= INPUT_BYTES) return;
      const path = join(dir, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(path);
      else if (st.isFile()) {
        header.fill(0);
        header.set(
          new TextEncoder().encode(`${path.slice(root.length)}\0${st.size.toString(8)}\0`).subarray(0, 512),
        );
        out.set(header.subarray(0, Math.min(512, INPUT_BYTES - pos)), pos);
        pos += 512;
        const data = readFileSync(path);
        const n = Math.min(data.length, INPUT_BYTES - pos);
        out.set(data.subarray(0, n), pos);
        pos += Math.ceil(n / 512) * 512;
      }
    }
  };
  walk(join(root, 'node_modules'));
  // Deterministic filler if node_modules is small.
  let x = 2463534242;
  for (; pos < INPUT_BYTES; pos++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[pos] = (x >>> 0) % 40 === 0 ? (x >>> 8) & 0xff : 97 + ((x >>> 3) % 8);
  }
  return out;
}

/** CPU seconds of reaped children of this process (Linux /proc; utime/stime in ticks). */
function childCpuSeconds() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // After "pid (comm) ", field 3 is index 0; cutime and cstime are fields 16 and 17.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function runBusybox(busybox, inputPath, outputPath) {
  const inFd = openSync(inputPath, 'r');
  const outFd = openSync(outputPath, 'w');
  const cpu0 = childCpuSeconds();
  const t0 = performance.now();
  const r = spawnSync(busybox, ['gzip', '-c'], { stdio: [inFd, outFd, 'inherit'] });
  const wall = (performance.now() - t0) / 1000;
  const cpu = childCpuSeconds() - cpu0;
  closeSync(inFd);
  closeSync(outFd);
  if (r.status !== 0) throw new Error('busybox gzip failed');
  return { wall, cpu };
}

function runOurs(input) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const enc = new BusyboxGzipEncoder();
  const parts = [];
  for (let off = 0; off < input.length; off += 1 << 16)
    parts.push(enc.write(input.subarray(off, off + (1 << 16))));
  parts.push(enc.end());
  const wall = (performance.now() - t0) / 1000;
  const u = process.cpuUsage(cpu0);
  return { wall, cpu: (u.user + u.system) / 1e6, output: Buffer.concat(parts) };
}

const busybox = busyboxPath();
const input = buildInput();
const dir = mkdtempSync(join(tmpdir(), 'bench-gzip-'));
try {
  const inputPath = join(dir, 'input');
  const refPath = join(dir, 'ref.gz');
  writeFileSync(inputPath, input);
  const mb = input.length / 1e6;
  let bb = { wall: Infinity, cpu: Infinity };
  let ours = { wall: Infinity, cpu: Infinity };
  let identical = true;
  // Interleaved, best of 3, so a burst of load elsewhere hurts both sides alike.
  for (let rep = 0; rep < 3; rep++) {
    const b = runBusybox(busybox, inputPath, refPath);
    if (b.cpu < bb.cpu) bb = b;
    const o = runOurs(input);
    if (o.cpu < ours.cpu) ours = { wall: o.wall, cpu: o.cpu };
    if (rep === 0) identical = Buffer.compare(o.output, readFileSync(refPath)) === 0;
  }
  const ratio = ours.cpu / bb.cpu;
  const fmt = (r) =>
    `${(mb / r.cpu).toFixed(1)} MB/s CPU (${r.cpu.toFixed(2)} s), wall ${r.wall.toFixed(2)} s`;
  console.log(`input: ${mb.toFixed(1)} MB (node_modules as an archive)`);
  console.log(`busybox gzip:           ${fmt(bb)}`);
  console.log(`BusyboxGzipEncoder:     ${fmt(ours)}`);
  console.log(`output identical:       ${identical}`);
  console.log(
    `ratio ours/busybox CPU: ${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x); wall ${(ours.wall / bb.wall).toFixed(2)}x`,
  );
  process.exitCode = identical && ratio <= TARGET_RATIO ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
