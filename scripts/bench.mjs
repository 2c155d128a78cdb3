#!/usr/bin/env node
// Runs every benchmark in scripts/bench/ (or those named on the command line) in its own
// process, so that one benchmark's heap and JIT state never colours another's figures.
// Benchmarks import the compiled library from dist/: build first.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const wanted = process.argv.slice(2);
const benches = readdirSync(join(here, 'bench'))
  .filter((f) => f.endsWith('.mjs'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
let failed = 0;
let skipped = 0;
for (const file of benches) {
  console.log(`\n=== ${file} ===`);
  const path = join(here, 'bench', file);
  if (!existsSync(path)) continue;
  const r = spawnSync(process.execPath, ['--expose-gc', path], { cwd: root, stdio: 'inherit' });
  // 77: the benchmark's baseline tool is not on this machine (the autotools "skipped" status)
  if (r.status === 77) skipped++;
  else if (r.status !== 0) failed++;
}
console.log(
  `\n${benches.length - failed - skipped} benchmarks met their targets, ${failed} did not, ${skipped} skipped (no baseline tool)`,
);
process.exit(failed === 0 ? 0 : 1);
