#!/usr/bin/env node
// Records vectors/golden/*.json: the SHA-256 and size of every archive the reference tools
// (busybox 1.37.0 and GNU cpio 2.15 as StageX builds them, plus the machine's GNU tar) produce
// for the deterministic inputs of the byte-exactness tests. The tests themselves do the work,
// in record mode (ENCLAVE_VERIFY_RECORD_GOLDEN=1, see test/rebuild/golden.ts), so the inputs and
// the reference commands are the tests' own and cannot drift from a copy here.
//
//   eval "$(bash ../shared/tools/oracles.sh)" && node scripts/vectors/golden.mjs
//
// Afterwards a plain run with the same variables set checks the recorded values against the
// tools again, and one without them checks the library against the recorded values.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const project = fileURLToPath(new URL('../../', import.meta.url));
const golden = join(project, 'vectors/golden');
/** Every test file that opens a goldenBook. */
const FILES = [
  'test/rebuild/cpio.test.ts',
  'test/rebuild/gzip.test.ts',
  'test/rebuild/overlay.test.ts',
  'test/rebuild/caution.test.ts',
  'test/cli/rebuild.test.ts',
];

if (!process.env.ORACLE_BUSYBOX || !process.env.ORACLE_CPIO) {
  console.error(
    'golden.mjs needs the reference tools: eval "$(bash ../shared/tools/oracles.sh)" && node scripts/vectors/golden.mjs',
  );
  process.exit(2);
}

// Start from nothing so keys no test uses any more disappear.
mkdirSync(golden, { recursive: true });
for (const f of readdirSync(golden)) if (f.endsWith('.json')) rmSync(join(golden, f));

// One file at a time: two files share the 'caution' book and merge into it.
const r = spawnSync('npx', ['vitest', 'run', '--no-file-parallelism', ...FILES], {
  cwd: project,
  stdio: 'inherit',
  env: { ...process.env, ENCLAVE_VERIFY_RECORD_GOLDEN: '1' },
});
if (r.status !== 0) {
  console.error('recording failed (see above); vectors/golden/ is incomplete');
  process.exit(1);
}
for (const f of readdirSync(golden)
  .filter((n) => n.endsWith('.json'))
  .sort()) {
  const { entries, tools } = JSON.parse(readFileSync(join(golden, f), 'utf8'));
  console.log(
    `vectors/golden/${f}: ${Object.keys(entries).length} values (${Object.values(tools).join('; ')})`,
  );
}
