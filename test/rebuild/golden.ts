// Golden values of the byte-exactness tests: the SHA-256 and size of what the reference tools
// (busybox 1.37.0, GNU cpio 2.15, GNU tar) produced for the tests' deterministic inputs,
// committed in vectors/golden/<book>.json by scripts/vectors/golden.mjs. So the tests compare
// byte for byte on a machine without those tools:
//   - oracles set:   run the tool, require its output to equal the golden value (a stale golden
//                    file fails), and hand its bytes to the test, which compares ours with them;
//   - oracles unset: require our bytes to equal the golden value, and hand ours to the test as
//                    the reference (they are then, up to SHA-256, exactly what the tools made).
// ENCLAVE_VERIFY_RECORD_GOLDEN=1 (only with the oracles) writes the files instead of reading them.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';
import { oracles } from './oracle.js';

const GOLDEN_DIR = fileURLToPath(new URL('../../vectors/golden/', import.meta.url));
export const RECORD_COMMAND = 'eval "$(bash ../shared/tools/oracles.sh)" && node scripts/vectors/golden.mjs';

export interface GoldenEntry {
  sha256: string;
  size: number;
}

interface GoldenFile {
  about: string;
  tools: Record<string, string>;
  entries: Record<string, GoldenEntry>;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function toolVersions(): Record<string, string> {
  const o = oracles();
  if (!o) return {};
  const first = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0]!;
    } catch (e) {
      // busybox without an applet prints its banner and exits 1
      return String((e as { stdout?: string }).stdout ?? '').split('\n')[0]!;
    }
  };
  return {
    busybox: first(o.busybox, []).replace(/ \(.*\)/, ''),
    cpio: first(o.cpio, ['--version']),
    tar: first('tar', ['--version']),
  };
}

export interface GoldenBook {
  /** True when the reference tools run in this process (live comparison). */
  readonly live: boolean;
  /**
   * The reference bytes for `key`: with the oracles, `produce()` checked against the golden
   * value (or recorded); without, `ours` checked against it.
   */
  reference(key: string, ours: Uint8Array, produce: () => Uint8Array): Uint8Array;
}

/**
 * Open vectors/golden/<name>.json for this test file. Call at module level (it registers an
 * afterAll that writes the file in record mode).
 * @example
 *   const golden = goldenBook('gzip');
 *   const expected = golden.reference('text 100k', gzipBusybox(data), () => oracleGzip(data));
 */
export function goldenBook(name: string): GoldenBook {
  const file = join(GOLDEN_DIR, `${name}.json`);
  const recording = process.env.ENCLAVE_VERIFY_RECORD_GOLDEN === '1';
  const live = oracles() !== undefined;
  if (recording && !live) {
    throw new Error(`ENCLAVE_VERIFY_RECORD_GOLDEN=1 needs the reference tools: ${RECORD_COMMAND}`);
  }
  const stored: GoldenFile | undefined = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as GoldenFile)
    : undefined;
  const o = oracles();
  // One line per test file, so a log shows which comparison ran.
  console.info(
    o
      ? `[golden] ${name}: live, busybox ${o.busybox} and cpio ${o.cpio}, ${recording ? 'recording' : 'checked against'} vectors/golden/${name}.json`
      : `[golden] ${name}: no ORACLE_CPIO/ORACLE_BUSYBOX, compared with vectors/golden/${name}.json`,
  );
  const recorded: Record<string, GoldenEntry> = {};
  const used = new Set<string>();

  if (recording) {
    afterAll(() => {
      mkdirSync(GOLDEN_DIR, { recursive: true });
      const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as GoldenFile) : undefined;
      const out: GoldenFile = {
        about:
          'SHA-256 and size of the archives the reference tools made for the inputs of the tests ' +
          `that open goldenBook('${name}'). Recorded with: ${RECORD_COMMAND}`,
        tools: toolVersions(),
        // Two test files may share a book (same keys, same values): merge, never drop.
        entries: { ...(previous?.entries ?? {}), ...recorded },
      };
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(out, null, 2)}\n`);
      renameSync(tmp, file);
    });
  }

  const goldenFor = (key: string): GoldenEntry => {
    const entry = stored?.entries[key];
    if (!entry) {
      throw new Error(`no golden value for ${name}/${key} in ${file}: record it with ${RECORD_COMMAND}`);
    }
    return entry;
  };

  return {
    live,
    reference(key, ours, produce) {
      if (used.has(key)) throw new Error(`golden key ${name}/${key} used twice in one run`);
      used.add(key);
      if (live) {
        const made = produce();
        if (recording) {
          recorded[key] = { sha256: sha256(made), size: made.length };
        } else {
          const g = goldenFor(key);
          expect(
            { sha256: sha256(made), size: made.length },
            `the reference tools' output for ${name}/${key} differs from vectors/golden: inputs changed? re-record with ${RECORD_COMMAND}`,
          ).toEqual(g);
        }
        return made;
      }
      const g = goldenFor(key);
      expect({ sha256: sha256(ours), size: ours.length }, `${name}/${key} vs the golden reference`).toEqual(
        g,
      );
      return ours;
    },
  };
}
