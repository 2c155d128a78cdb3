// Reference tools of Caution's pipeline (StageX's GNU cpio 2.15 and busybox 1.37.0), set up by
// ../shared/tools/oracles.sh. Tests that compare bytes against them fail loudly when missing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Oracles {
  cpio: string;
  busybox: string;
}

let cached: Oracles | undefined;

export function oracles(): Oracles {
  if (cached) return cached;
  let cpio = process.env.ORACLE_CPIO;
  let busybox = process.env.ORACLE_BUSYBOX;
  if (!cpio || !busybox) {
    const script = fileURLToPath(new URL('../../../shared/tools/oracles.sh', import.meta.url));
    const out = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    cpio = /ORACLE_CPIO='([^']+)'/.exec(out)?.[1];
    busybox = /ORACLE_BUSYBOX='([^']+)'/.exec(out)?.[1];
  }
  if (!cpio || !busybox || !existsSync(cpio) || !existsSync(busybox)) {
    throw new Error(
      'reference cpio/busybox missing: run `eval "$(../shared/tools/oracles.sh)"` (see .ci/run)',
    );
  }
  cached = { cpio, busybox };
  return cached;
}

/** Run a shell script with ORACLE_CPIO / ORACLE_BUSYBOX / BB exported; returns stdout as bytes. */
export function sh(script: string, cwd: string): Buffer {
  const o = oracles();
  return execFileSync('bash', ['-euo', 'pipefail', '-c', script], {
    cwd,
    env: { ...process.env, ORACLE_CPIO: o.cpio, ORACLE_BUSYBOX: o.busybox, BB: o.busybox, LC_ALL: 'C' },
    maxBuffer: 1 << 30,
  });
}

/** The reference archive pipeline of SPEC 3.1 step 4, run in `dir` (busybox find/sort as in StageX). */
export const REFERENCE_CPIO =
  '"$BB" find . -print0 | "$BB" sort -z | "$ORACLE_CPIO" --null --create --format=newc --reproducible 2>/dev/null';

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
