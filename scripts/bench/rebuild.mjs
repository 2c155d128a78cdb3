#!/usr/bin/env node
// Rebuilding a ramdisk from a ~100 MB tree on disk (read the tree, write the GNU cpio 2.15
// --reproducible archive, compress it as busybox gzip) against the reference pipeline
// `find . -print0 | sort -z | $ORACLE_CPIO --null -o -H newc --reproducible | $ORACLE_BUSYBOX gzip --best`
// on the same tree in the same run. Target: at most 2x the reference's time.
// Tree: files of node_modules up to 1 MiB each (JavaScript, JSON, binaries) copied (again under a new prefix as needed) until 100 MB.
// Times are CPU seconds (user + system; the pipeline's as reaped children) because several
// processes share this machine; wall-clock figures are printed alongside.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { archiveTree, BusyboxGzipEncoder, treeFromDirectory } from '../../dist/node.js';

const TARGET_RATIO = 2;
const TREE_BYTES = 100 * 1000 * 1000;
// Files above this are skipped so the tree has thousands of entries, like a root file system.
const MAX_FILE = 1024 * 1024;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The baseline is the real pipeline, named by ORACLE_BUSYBOX / ORACLE_CPIO; without it, no figure. */
function oracles() {
  if (process.env.ORACLE_BUSYBOX && process.env.ORACLE_CPIO) {
    return { busybox: process.env.ORACLE_BUSYBOX, cpio: process.env.ORACLE_CPIO };
  }
  console.log(
    'skipped: the baseline needs ORACLE_BUSYBOX and ORACLE_CPIO (eval "$(bash ../shared/tools/oracles.sh)", as .ci/run does)',
  );
  process.exit(77);
}

function buildTree(dest) {
  let total = 0;
  let files = 0;
  const src = join(root, 'node_modules');
  const walk = (dir, base) => {
    for (const name of readdirSync(dir).sort()) {
      if (total >= TREE_BYTES) return;
      const path = join(dir, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st) continue;
      const to = join(base, relative(src, path));
      if (st.isDirectory()) {
        mkdirSync(to, { recursive: true });
        walk(path, base);
      } else if (st.isFile() && st.size <= MAX_FILE) {
        copyFileSync(path, to);
        total += st.size;
        files++;
      }
    }
  };
  // node_modules may hold less than the target: copy it again under another prefix until reached
  for (let round = 0; total < TREE_BYTES && round < 20; round++) walk(src, join(dest, `copy${round}`));
  return { total, files };
}

/** CPU seconds of reaped children of this process (Linux /proc; utime/stime in ticks). */
function childCpuSeconds() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function runReference(o, tree, out) {
  const cpu0 = childCpuSeconds();
  const t0 = performance.now();
  const r = spawnSync(
    'bash',
    [
      '-o',
      'pipefail',
      '-c',
      `find . -print0 | LC_ALL=C sort -z | "${o.cpio}" --null --create --format=newc --reproducible 2>/dev/null | "${o.busybox}" gzip --best > "${out}"`,
    ],
    { cwd: tree, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (r.status !== 0) throw new Error('reference pipeline failed');
  return { wall: (performance.now() - t0) / 1000, cpu: childCpuSeconds() - cpu0 };
}

async function runOurs(tree) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const parts = [];
  await archiveTree(treeFromDirectory(tree), new BusyboxGzipEncoder(), { compressed: (c) => parts.push(c) });
  const wall = (performance.now() - t0) / 1000;
  const u = process.cpuUsage(cpu0);
  return { wall, cpu: (u.user + u.system) / 1e6, output: Buffer.concat(parts) };
}

const o = oracles();
const dir = mkdtempSync(join(tmpdir(), 'bench-rebuild-'));
try {
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  const { total, files } = buildTree(tree);
  const refPath = join(dir, 'ref.cpio.gz');
  let ref = { wall: Infinity, cpu: Infinity };
  let ours = { wall: Infinity, cpu: Infinity };
  let identical = true;
  // Interleaved, best of 2, so a burst of load elsewhere hurts both sides alike.
  for (let rep = 0; rep < 2; rep++) {
    const r = runReference(o, tree, refPath);
    if (r.cpu < ref.cpu) ref = r;
    const m = await runOurs(tree);
    if (m.cpu < ours.cpu) ours = { wall: m.wall, cpu: m.cpu };
    if (rep === 0) identical = Buffer.compare(m.output, readFileSync(refPath)) === 0;
  }
  const mb = total / 1e6;
  const ratio = ours.cpu / ref.cpu;
  const fmt = (x) =>
    `${x.cpu.toFixed(2)} s CPU (${(mb / x.cpu).toFixed(1)} MB/s), wall ${x.wall.toFixed(2)} s`;
  console.log(`tree: ${mb.toFixed(1)} MB in ${files} files (node_modules)`);
  console.log(`reference find|sort|cpio|busybox gzip: ${fmt(ref)}`);
  console.log(`treeFromDirectory+writeCpio+gzip:      ${fmt(ours)}`);
  console.log(`rootfs.cpio.gz identical:              ${identical}`);
  console.log(
    `ratio ours/reference CPU: ${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x); wall ${(ours.wall / ref.wall).toFixed(2)}x`,
  );
  process.exitCode = identical && ratio <= TARGET_RATIO ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
