// Reference tools of Caution's pipeline (StageX's GNU cpio 2.15 and busybox 1.37.0). They are
// optional: with ORACLE_CPIO and ORACLE_BUSYBOX set (`.ci/run` sets them from
// ../shared/tools/oracles.sh) the byte-exactness tests run them live; without, they compare with
// the SHA-256 values those tools produced earlier, committed in vectors/golden/ (see golden.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Oracles {
  cpio: string;
  busybox: string;
}

let cached: Oracles | null | undefined;

/**
 * The reference tools named by ORACLE_CPIO / ORACLE_BUSYBOX, or `undefined` when neither is set.
 * Setting only one, or naming a tool that is missing or the wrong version, is an error: whoever
 * set them asked for the live comparison.
 */
export function oracles(): Oracles | undefined {
  if (cached !== undefined) return cached ?? undefined;
  const cpio = process.env.ORACLE_CPIO;
  const busybox = process.env.ORACLE_BUSYBOX;
  if (!cpio && !busybox) {
    cached = null;
    return undefined;
  }
  if (!cpio || !busybox || !existsSync(cpio) || !existsSync(busybox)) {
    throw new Error(
      `ORACLE_CPIO=${cpio ?? ''} ORACLE_BUSYBOX=${busybox ?? ''}: set both to existing tools ` +
        '(eval "$(bash ../shared/tools/oracles.sh)", as .ci/run does) or unset both to use vectors/golden',
    );
  }
  const bb = spawnSync(busybox, [], { encoding: 'utf8' });
  if (!`${bb.stdout}${bb.stderr}`.includes('v1.37.0')) {
    throw new Error(`ORACLE_BUSYBOX=${busybox} is not busybox 1.37.0`);
  }
  const cp = spawnSync(cpio, ['--version'], { encoding: 'utf8' });
  if (!cp.stdout?.includes('GNU cpio) 2.15')) throw new Error(`ORACLE_CPIO=${cpio} is not GNU cpio 2.15`);
  cached = { cpio, busybox };
  return cached;
}

/**
 * Run a shell script in `cwd` with LC_ALL=C; returns stdout as bytes. When the oracles are set,
 * ORACLE_CPIO / ORACLE_BUSYBOX / BB are exported for the reference steps; scripts that only build
 * inputs use GNU tar and coreutils and run without them.
 */
export function sh(script: string, cwd: string): Buffer {
  const o = oracles();
  const tools = o ? { ORACLE_CPIO: o.cpio, ORACLE_BUSYBOX: o.busybox, BB: o.busybox } : {};
  return execFileSync('bash', ['-euo', 'pipefail', '-c', script], {
    cwd,
    env: { ...process.env, ...tools, LC_ALL: 'C' },
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
