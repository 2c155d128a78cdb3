// `canary watch` as a user runs it (in-process, real timers, loopback enclaves), then
// `canary verify-history` over what it stored: intact, tampered, and with a torn tail.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDemoFleet,
  type DemoCanaryEnclave,
  type DemoFleet,
  startDemoCanaryEnclave,
} from '../../src/canary/node/demo-enclaves.js';
import { run as verifyHistory } from '../../src/cli/commands/canary-verify-history.js';
import { runWatch } from '../../src/cli/commands/canary-watch.js';
import { captureContext } from '../support/cli.js';

let fleet: DemoFleet;
let good: DemoCanaryEnclave;
let bad: DemoCanaryEnclave;
let dir: string;

beforeAll(async () => {
  fleet = await createDemoFleet();
  [good, bad] = await Promise.all([
    startDemoCanaryEnclave(fleet),
    startDemoCanaryEnclave(fleet, { behaviour: 'pcr-change' }),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'canary-watch-cli-'));
  writeFileSync(join(dir, 'root.pem'), fleet.pki.rootPem);
  writeFileSync(join(dir, 'tls.pem'), fleet.tls.certPem);
  writeFileSync(join(dir, 'seed.b64'), `${Buffer.alloc(32, 9).toString('base64')}\n`);
  writeFileSync(
    join(dir, 'canary.json'),
    JSON.stringify({
      version: 0,
      node_id: 'cli-node',
      probe_interval_seconds: 6,
      targets: [
        {
          id: 'good',
          name: 'Good',
          attestation_url: good.url,
          e2e_mode: 'tls',
          expected_pcrs: fleet.expectedPcrs,
        },
        { id: 'bad', name: 'Bad', attestation_url: bad.url, expected_pcrs: fleet.expectedPcrs },
      ],
    }),
  );
});
afterAll(async () => {
  await Promise.all([good.close(), bad.close()]);
  await rm(dir, { recursive: true, force: true });
});

describe('canary watch + verify-history', () => {
  it('refuses to start without an identity, and with a listen address that is no HOST:PORT', async () => {
    const { ctx } = captureContext({ cwd: dir });
    await expect(runWatch(['canary.json'], ctx)).rejects.toMatchObject({ code: 'ERR_USAGE' });
    await expect(
      runWatch(['canary.json', '--ephemeral-identity', '--listen', 'nope'], ctx),
    ).rejects.toMatchObject({
      code: 'ERR_USAGE',
    });
  });

  it('probes at once, serves the API, and stores history that verify-history accepts', async () => {
    const { ctx, out } = captureContext({ cwd: dir });
    const stop = new AbortController();
    let url = '';
    const ready = new Promise<void>((resolve) => {
      void runWatch(
        [
          'canary.json',
          '--seed-file',
          'seed.b64',
          '--listen',
          '127.0.0.1:0',
          '--data',
          'data',
          '--root',
          'root.pem',
          '--ca',
          'tls.pem',
          '--allow-private',
        ],
        ctx,
        stop.signal,
        (info) => {
          url = info.url;
          resolve();
        },
      ).then((code) => expect(code).toBe(0));
    });
    await ready;
    expect(out.stderr).toContain('WARNING: --allow-private');
    expect(out.stdout).toContain("Canary monitor 'cli-node' (stable identity");
    // Both targets are probed right away (restart => probed immediately).
    let status: { targets: { id: string; status: string; reason: string }[] } = { targets: [] };
    for (let i = 0; i < 100; i++) {
      status = await (await fetch(`${url}/status.json`)).json();
      if (status.targets.every((t) => t.status !== 'PENDING')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status.targets.map((t) => `${t.id}=${t.status}/${t.reason}`)).toEqual([
      'good=VERIFIED/ALL_CHECKS_PASSED',
      'bad=FAILED/PCR_MISMATCH',
    ]);
    const keys = await (await fetch(`${url}/keys.json`)).text();
    writeFileSync(join(dir, 'keys.json'), keys);
    stop.abort();
    await new Promise((r) => setTimeout(r, 200));

    const v = captureContext({ cwd: dir });
    const code = await verifyHistory(
      ['data', '--trusted-keys', 'keys.json', '--config', 'canary.json', '--root', 'root.pem'],
      v.ctx,
    );
    expect(v.out.stdout).toContain(
      'ok   bad: 1 attempt(s), 1 statement(s) verified, 1 evidence bundle(s) replayed',
    );
    expect(v.out.stdout).toContain(
      'ok   good: 1 attempt(s), 1 statement(s) verified, 1 evidence bundle(s) replayed',
    );
    expect(code).toBe(0);
  });

  it('verify-history finds a tampered statement and ignores a torn last line', async () => {
    const file = join(dir, 'data', 'history', 'bad.jsonl');
    const original = readFileSync(file, 'utf8');
    appendFileSync(file, '{"id":2,"observation":{"id"');
    let v = captureContext({ cwd: dir });
    let code = await verifyHistory(
      ['data', '--trusted-keys', 'keys.json', '--config', 'canary.json', '--root', 'root.pem'],
      v.ctx,
    );
    expect(v.out.stdout).toContain('torn last line of 27 bytes ignored');
    expect(code).toBe(0);

    writeFileSync(file, original.replaceAll('"reason":"PCR_MISMATCH"', '"reason":"NONCE_MISMATCH"'));
    v = captureContext({ cwd: dir });
    code = await verifyHistory(
      ['data', '--trusted-keys', 'keys.json', '--config', 'canary.json', '--root', 'root.pem', '--json'],
      v.ctx,
    );
    const report = JSON.parse(v.out.stdout);
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.targets[0].problems[0]).toMatch(
      /^attempt 1: statement does not verify: ERR_CANARY_SIGNATURE/,
    );

    // Evidence judged against other PCRs: the signed PCR_MISMATCH of 'bad' no longer agrees.
    writeFileSync(file, original);
    writeFileSync(
      join(dir, 'other.pcrs'),
      `PCR0: ${'5a'.repeat(48)}\nPCR1: ${fleet.expectedPcrs['1']}\nPCR2: ${fleet.expectedPcrs['2']}\n`,
    );
    v = captureContext({ cwd: dir });
    code = await verifyHistory(
      ['data', '--trusted-keys', 'keys.json', '--expect-pcrs', 'other.pcrs', '--root', 'root.pem'],
      v.ctx,
    );
    expect(code).toBe(1);
    expect(v.out.stdout).toContain(
      'attempt 1: the statement says PCR_MISMATCH but the evidence replays as ALL_CHECKS_PASSED',
    );
  });

  it('verify-history needs pinned keys and an expectation', async () => {
    const { ctx } = captureContext({ cwd: dir });
    await expect(verifyHistory(['data', '--config', 'canary.json'], ctx)).rejects.toMatchObject({
      code: 'ERR_USAGE',
    });
    await expect(verifyHistory(['data', '--trusted-keys', 'keys.json'], ctx)).rejects.toMatchObject({
      code: 'ERR_USAGE',
    });
  });
});
