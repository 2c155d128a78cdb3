// `demo --canary`: the commands it prints work as printed against the running demo node.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/commands/demo.js';
import { captureContext, runCli } from '../support/cli.js';

describe('demo --canary', () => {
  it('prints a status page URL and canary commands that check the running node', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'demo-canary-'));
    const { ctx, out } = captureContext();
    const stop = new AbortController();
    const exit = runDemo(['--canary', '--dir', dir], ctx, stop.signal);
    try {
      for (let i = 0; i < 200 && !out.stdout.includes('Press Ctrl-C'); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(out.stdout).toMatch(/status page {10}https:\/\/localhost:\d+\//);
      const command = (name: string) =>
        out.stdout
          .split('\n')
          .find((l) => l.startsWith(`  enclave-verify canary ${name} `))!
          .trim()
          .split(' ')
          .slice(1);
      const save = await runCli(command('save-keys'));
      expect(save.code).toBe(0);
      let honest = await runCli([...command('verify'), '--target', 'honest']);
      for (let i = 0; i < 30 && honest.code !== 0; i++) {
        await new Promise((r) => setTimeout(r, 200));
        honest = await runCli([...command('verify'), '--target', 'honest']);
      }
      expect(honest.code).toBe(0);
      const all = await runCli(command('verify'));
      expect(all.code).toBe(1);
      expect(all.stdout + all.stderr).toMatch(/misbehaving: FAILED/);
    } finally {
      stop.abort();
      expect(await exit).toBe(0);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses --canary with a misbehaviour switch of the plain demo', async () => {
    const { ctx } = captureContext();
    await expect(runDemo(['--canary', '--bad-nonce'], ctx)).rejects.toMatchObject({ code: 'ERR_USAGE' });
  });
});
