/**
 * `enclave-verify demo`: the one-shot run passes (this is `npm start`), each misbehaviour switch
 * fails with its code, `--json` keeps stdout to one object, and `--serve` keeps an enclave up
 * that a separate `deployment` run can verify with the files it wrote.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runDemo } from '../../src/cli/commands/demo.js';
import { run as deployment } from '../../src/cli/commands/deployment.js';
import type { CliContext } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { captureContext } from '../support/cli.js';

function capture(cwd: string): { ctx: CliContext; out: () => string; err: () => string } {
  const { ctx, out } = captureContext({ cwd });
  return { ctx, out: () => out.stdout, err: () => out.stderr };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ev-demo-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('demo', () => {
  test('passes end to end: banner, then the VERIFIED report with the TLS binding passed', async () => {
    const c = capture(dir);
    const started = Date.now();
    expect(await runDemo([], c.ctx)).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    const out = c.out();
    expect(out).toMatch(
      /^Simulated enclave \(NOT AWS, NOT a real enclave\) listening on https:\/\/127\.0\.0\.1:\d+\/attestation\n/,
    );
    expect(out).toMatch(
      /\nVERIFIED: https:\/\/127\.0\.0\.1:\d+\/attestation runs the expected enclave image \(3 PCRs match\); TLS channel bound to it; chain to a root YOU supplied, NOT the AWS Nitro root\n/,
    );
    expect(out).toContain('  PASSED: the TLS leaf of this connection matches certfp');
    expect(out).toContain('root         CN=enclave-verify TEST root NOT AWS DEMO');
    expect(c.err()).toBe('');
  });

  test.each([
    ['--bad-nonce', 'ERR_NONCE_MISMATCH'],
    ['--stale', 'ERR_STALE'],
    ['--wrong-certfp', 'ERR_TLS_BINDING'],
    ['--debug-pcrs', 'ERR_DEBUG_MODE'],
  ])('%s is caught as %s (exit 1)', async (flag, code) => {
    const c = capture(dir);
    expect(await runDemo([flag, '--json'], c.ctx)).toBe(1);
    const j = JSON.parse(c.out());
    expect(j.ok).toBe(false);
    expect(j.code).toBe(code);
    expect(c.err()).toContain('Simulated enclave');
    // A live check happens at the current time, and the embedded verify report says so.
    expect(j.verification.timeSource).toBe('now');
    // The expected PCRs came from the demo's EIF, named with its digest and sections.
    expect(j.measuredFrom).toHaveLength(1);
    expect(j.measuredFrom[0]).toMatchObject({
      flag: '--eif',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(j.measuredFrom[0].sections).toEqual([
      'kernel (32768 bytes)',
      'cmdline (117 bytes)',
      'metadata (269 bytes)',
      'ramdisk (16384 bytes)',
    ]);
  });

  test('--dir keeps the files, so the --report re-check command can use them', async () => {
    const c = capture(dir);
    expect(await runDemo(['--dir', 'kept', '--report', 'audit.md'], c.ctx)).toBe(0);
    expect((await readdir(join(dir, 'kept'))).sort()).toEqual(['demo-root.pem', 'demo-tls.pem', 'demo.eif']);
    expect(c.out()).toContain('Audit record written to audit.md');
  });

  test('--serve stays up for other clients until stopped', async () => {
    const c = capture(dir);
    const stop = new AbortController();
    const serving = runDemo(['--serve', '--dir', 'served'], c.ctx, stop.signal);
    for (let i = 0; i < 200 && !c.out().includes('Press Ctrl-C'); i++)
      await new Promise((r) => setTimeout(r, 25));
    const command = /check it with: {5}enclave-verify deployment (.*)\n/.exec(c.out())?.[1];
    expect(command).toBeDefined();
    const client = capture(dir);
    expect(await deployment([...command!.split(' '), '--json'], client.ctx)).toBe(0);
    expect(JSON.parse(client.out()).tlsBinding.status).toBe('passed');
    stop.abort();
    expect(await serving).toBe(0);
    expect(c.out()).toContain('Stopped after issuing 1 document(s).');
  });

  test('--serve on a port in use: ERR_IO, exit 2, and no temporary directory left behind', async () => {
    const busy = createServer();
    await new Promise<void>((ok) => busy.listen(0, '127.0.0.1', ok));
    const tmp = await mkdtemp(join(dir, 'tmp-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp; // os.tmpdir() reads it at each call
    try {
      const c = capture(dir);
      const port = String((busy.address() as AddressInfo).port);
      expect(await main(['demo', '--serve', '--port', port], c.ctx)).toBe(2);
      expect(c.err()).toBe(
        `enclave-verify: ERR_IO: cannot listen on 127.0.0.1:${port} (EADDRINUSE); choose another --port\n`,
      );
      expect(await readdir(tmp)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      busy.close();
    }
  });

  test('usage errors exit 2', async () => {
    for (const argv of [
      ['demo', '--port', '80'],
      ['demo', '--serve', '--json'],
      ['demo', 'extra'],
      ['demo', '--nope'],
    ]) {
      const c = capture(dir);
      expect(await main(argv, c.ctx), argv.join(' ')).toBe(2);
    }
  });
});
