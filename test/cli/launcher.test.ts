// The installed launcher (bin/enclave-verify.js over the compiled dist/) when its reader goes away
// early, as with `enclave-verify verify doc | head`: no stack trace, the command runs to its end
// (cleaning up) and its exit code still carries the verdict; `--watch` stops once nobody reads.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuiltCli } from '../support/dist.js';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));
const NITRO = fileURLToPath(new URL('../../vectors/real/nitro/valid/', import.meta.url));

beforeAll(ensureBuiltCli, 180_000);

/** Run the launcher with its stdout pipe closed before it writes anything. */
function runWithClosedStdout(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/enclave-verify.js', ...args], {
      cwd: PROJECT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('bin/enclave-verify.js with a closed stdout', () => {
  it('keeps exit 0 for a verified document and prints nothing on stderr', async () => {
    const r = await runWithClosedStdout([
      'verify',
      `${NITRO}anjuna_2021-03-17_prod.cbor`,
      '--at',
      'document',
      '--any-pcrs',
    ]);
    expect(r).toEqual({ code: 0, stderr: '' });
  });

  it('keeps exit 1 for a rejected document (expired at the current time)', async () => {
    const r = await runWithClosedStdout([
      'verify',
      `${NITRO}anjuna_2021-03-17_prod.cbor`,
      '--any-pcrs',
      '--json',
    ]);
    expect(r).toEqual({ code: 1, stderr: '' });
  });

  it('stops `deployment --watch` at the next probe, with the exit code of the probes so far', async () => {
    const server = createServer((_req, res) => res.end('not json'));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await runWithClosedStdout([
        'deployment',
        `http://127.0.0.1:${port}`,
        '--any-pcrs',
        '--watch',
        '50ms',
      ]);
      expect(r).toEqual({ code: 1, stderr: '' });
    } finally {
      server.close();
    }
  }, 30_000);

  it('lets the demo finish: exit 0, its temporary directory removed', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ev-launcher-'));
    try {
      const r = await runWithClosedStdout(['demo'], { TMPDIR: tmp });
      expect(r).toEqual({ code: 0, stderr: '' });
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 30_000);
});
