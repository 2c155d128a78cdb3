import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { run } from '../../src/cli/commands/measure.js';
import { buildEifBytes } from '../../src/measure/eif-writer.js';
import { eifBuildMetadata } from '../../src/measure/metadata.js';
import { nodeSha384 } from '../../src/measure/node/hash.js';
import { progressBar } from '../../src/measure/node/progress.js';
import { pcrsFromParts } from '../../src/measure/pcr.js';
import { toHex } from '../../src/util/bytes.js';
import { runCommand } from '../cli/measure-support.js';

describe('progress bar', () => {
  test('draws percentage and MiB, then clears its line', () => {
    let out = '';
    const bar = progressBar({ write: (t: string) => (out += t), isTTY: true, columns: 120 }, 'measuring');
    bar.update(512 * 1024 * 1024, 1024 * 1024 * 1024);
    expect(out).toBe(`\rmeasuring [${'#'.repeat(15)}${'.'.repeat(15)}]  50%  512/1024 MiB`);
    bar.update(1024 * 1024 * 1024, 1024 * 1024 * 1024); // the final update is never throttled
    expect(out.endsWith('100%  1024/1024 MiB')).toBe(true);
    bar.end();
    expect(out.endsWith('\r\x1b[2K')).toBe(true);
  });

  test('measure draws it on a TTY for a 64 MiB EIF (worker threads) and not otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eif-progress-'));
    try {
      const kernel = new Uint8Array(1024);
      const ramdisks = [new Uint8Array(1000), new Uint8Array(64 * 1024 * 1024).fill(7)];
      const eif = await buildEifBytes({
        kernel,
        cmdline: 'x',
        ramdisks,
        metadata: eifBuildMetadata({ kernelFileName: 'k', buildTime: 't' }),
        hasher: nodeSha384,
      });
      writeFileSync(join(dir, 'big.eif'), eif);
      const want = pcrsFromParts({ kernel, cmdline: 'x', ramdisks }, nodeSha384);
      const tty = await runCommand(run, ['big.eif', '--format', 'pcrs'], dir, true);
      expect(tty.code).toBe(0);
      expect(tty.stdout).toBe(
        `${toHex(want.pcr0)} PCR0\n${toHex(want.pcr1)} PCR1\n${toHex(want.pcr2)} PCR2\n`,
      );
      expect(tty.stderr).toMatch(/measuring \[#+\] 100% {2}64\/64 MiB/);
      const pipe = await runCommand(run, ['big.eif', '--format', 'pcrs'], dir, false);
      expect(pipe.stderr).toBe('');
      const quiet = await runCommand(run, ['big.eif', '--format', 'pcrs', '--no-progress'], dir, true);
      expect(quiet.stderr).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
