// Tests that run the installed launcher (bin/enclave-verify.js -> dist/) need dist/ to match
// src/. `npm ci` builds it in CI; in a working copy it may be missing or older than the sources,
// and a stale build would test old code, so rebuild whenever any source is newer.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const t = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

/** Build dist/ with tsc when it is missing or older than any file under src/. */
export function ensureBuiltCli(): void {
  let built = 0;
  try {
    built = statSync(join(PROJECT, 'dist/cli/main.js')).mtimeMs;
  } catch {
    // missing: build below
  }
  if (built >= newestMtime(join(PROJECT, 'src'))) return;
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: PROJECT, stdio: 'ignore' });
  } catch {
    // tsc still emits when some file has a type error; the tests' assertions decide.
  }
}
