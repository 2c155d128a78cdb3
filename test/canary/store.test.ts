// The JSON Lines history: append + reload, torn tails cut and never served, pruning to
// history_limit, and a child process killed with SIGKILL while appending.
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AttemptStore, type StoredAttempt } from '../../src/canary/node/store.js';
import type { Observation } from '../../src/canary/observation.js';
import { ensureBuiltCli } from '../support/dist.js';

function observation(id: number, target = 'api'): Observation {
  return {
    id,
    target_id: target,
    attempted_at: `2026-03-01T12:00:${String(id % 60).padStart(2, '0')}Z`,
    observed_at: null,
    status: 'STALE',
    reason: 'STALE',
    attempt_reason: 'TIMEOUT',
    latency_ms: null,
    evidence_digest: null,
    manifest_digest: null,
    config_digest: `sha256:${'a'.repeat(64)}`,
    transport_warning: null,
  };
}
const make =
  (target = 'api') =>
  (id: number): Omit<StoredAttempt, 'id'> => ({
    observation: observation(id, target),
    statement: { payload: { n: id } },
    evidence: null,
    claims: null,
  });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'canary-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('AttemptStore', () => {
  it('appends attempts with increasing ids and reloads them after a restart', async () => {
    const store = await AttemptStore.open(dir, ['api', 'web'], { historyLimit: 10 });
    for (let i = 0; i < 3; i++) await store.append('api', make());
    await store.append('web', make('web'));
    expect(store.list('api', 0, 100).map((o) => o.id)).toEqual([3, 2, 1]);
    await store.close();
    const again = await AttemptStore.open(dir, ['api', 'web'], { historyLimit: 10 });
    expect(again.recovery).toEqual([
      { target: 'api', attempts: 3, droppedBytes: 0, badLines: 0 },
      { target: 'web', attempts: 1, droppedBytes: 0, badLines: 0 },
    ]);
    expect(again.list('api', 1, 1).map((o) => o.id)).toEqual([2]);
    expect((await again.get('api', 2))?.statement).toEqual({ payload: { n: 2 } });
    expect(await again.get('api', 9)).toBeUndefined();
    const next = await again.append('api', make());
    expect(next.id).toBe(4);
    await again.close();
  });

  it('cuts a torn last line on open and never serves it', async () => {
    const store = await AttemptStore.open(dir, ['api'], { historyLimit: 10 });
    await store.append('api', make());
    await store.append('api', make());
    await store.close();
    const path = join(dir, 'history', 'api.jsonl');
    const whole = statSync(path).size;
    const torn = JSON.stringify({ id: 3, ...make()(3) }).slice(0, 57);
    appendFileSync(path, torn);
    const again = await AttemptStore.open(dir, ['api'], { historyLimit: 10 });
    expect(again.recovery[0]).toEqual({ target: 'api', attempts: 2, droppedBytes: 57, badLines: 0 });
    expect(statSync(path).size).toBe(whole);
    expect(again.list('api', 0, 10).map((o) => o.id)).toEqual([2, 1]);
    expect(await again.get('api', 3)).toBeUndefined();
    // The next attempt takes the torn one's number and starts on a line of its own.
    expect((await again.append('api', make())).id).toBe(3);
    await again.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.slice(0, 3).map((l) => JSON.parse(l).id)).toEqual([1, 2, 3]);
  });

  it('keeps a damaged complete line out of the index', async () => {
    const path = join(dir, 'history', 'api.jsonl');
    const store = await AttemptStore.open(dir, ['api'], { historyLimit: 10 });
    await store.append('api', make());
    await store.close();
    appendFileSync(path, '{"id":"x"}\n');
    appendFileSync(path, `${JSON.stringify({ id: 2, ...make()(2) })}\n`);
    const again = await AttemptStore.open(dir, ['api'], { historyLimit: 10 });
    expect(again.recovery[0]).toMatchObject({ attempts: 2, badLines: 1, droppedBytes: 0 });
    expect(again.list('api', 0, 10).map((o) => o.id)).toEqual([2, 1]);
    await again.close();
  });

  it('keeps history_limit attempts and prunes the file atomically', async () => {
    const store = await AttemptStore.open(dir, ['api'], { historyLimit: 10 });
    for (let i = 0; i < 25; i++) await store.append('api', make());
    expect(store.count('api')).toBe(10);
    expect(store.list('api', 0, 100).map((o) => o.id)).toEqual([25, 24, 23, 22, 21, 20, 19, 18, 17, 16]);
    expect(await store.get('api', 15)).toBeUndefined();
    expect((await store.get('api', 16))?.id).toBe(16);
    await store.close();
    const lines = readFileSync(join(dir, 'history', 'api.jsonl'), 'utf8')
      .trimEnd()
      .split('\n');
    // Pruned at 12 lines (limit + a tenth), then 13 more appended, pruned again at 23 -> 10 + 2.
    expect(lines.length).toBeLessThanOrEqual(11);
    expect(JSON.parse(lines.at(-1)!).id).toBe(25);
    const again = await AttemptStore.open(dir, ['api'], { historyLimit: 10 });
    expect(again.list('api', 0, 1)[0]?.id).toBe(25);
    expect((await again.append('api', make())).id).toBe(26);
    await again.close();
  });

  it('refuses a target id that is not an identifier', async () => {
    await expect(AttemptStore.open(dir, ['../x'], { historyLimit: 1 })).rejects.toMatchObject({
      code: 'ERR_USAGE',
    });
  });

  it('loses at most the attempt being written when the writer is killed with SIGKILL', {
    timeout: 180_000,
  }, async () => {
    // The child runs the compiled store; building dist/ can take a minute on a loaded machine.
    ensureBuiltCli();
    const script = `
      import { AttemptStore } from ${JSON.stringify(join(process.cwd(), 'dist/canary/node/store.js'))};
      const store = await AttemptStore.open(process.argv[1], ['api'], { historyLimit: 100000 });
      const big = 'x'.repeat(20000);
      for (let i = 0; ; i++) {
        const r = await store.append('api', (id) => ({ observation: { id, target_id: 'api' }, statement: big, evidence: null, claims: null }));
        process.stdout.write(r.id + '\\n');
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acknowledged = 0;
    child.stdout.on('data', (d: Buffer) => {
      const ids = d.toString().trim().split('\n').map(Number);
      acknowledged = Math.max(acknowledged, ...ids);
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (acknowledged >= 40) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        }
      }, 5);
      child.once('exit', (code) => {
        clearInterval(timer);
        if (acknowledged < 40) reject(new Error(`the writer exited (${code}) after ${acknowledged} appends`));
      });
    });
    await new Promise((r) => child.once('exit', r));
    // Simulate the worst tear too: half a line after whatever was on disk.
    appendFileSync(join(dir, 'history', 'api.jsonl'), '{"id":999,"observation":{"id":999');
    const store = await AttemptStore.open(dir, ['api'], { historyLimit: 100000 });
    const ids = store.list('api', 0, 100).map((o) => o.id);
    // Every acknowledged (fsynced) attempt is there, in order, and at most one more.
    expect(ids[0]).toBeGreaterThanOrEqual(acknowledged);
    expect(ids[0]).toBeLessThanOrEqual(acknowledged + 1);
    expect(store.count('api')).toBe(ids[0]);
    expect(store.recovery[0]!.droppedBytes).toBeGreaterThan(0);
    await store.close();
  });
});
