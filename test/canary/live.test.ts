// CANARY.md 9 over loopback HTTPS against a Canary-shaped node (test PKI, our own signing):
// save-keys then verify succeed; every refusal the issue lists is shown with its code.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveCanaryKeys, keysDocumentBytes } from '../../src/canary/keys.js';
import { runCli } from '../support/cli.js';
import { type CanaryTestServer, NODE_PCRS, type ServerKnobs, startCanaryServer } from './canary-server.js';

const dir = mkdtempSync(join(tmpdir(), 'canary-live-'));
writeFileSync(
  join(dir, 'node-pcrs.json'),
  JSON.stringify({ pcr0: NODE_PCRS[0], pcr1: NODE_PCRS[1], pcr2: NODE_PCRS[2], extra: 1 }),
);
writeFileSync(
  join(dir, 'wrong-pcrs.json'),
  JSON.stringify({ pcr0: NODE_PCRS[0], pcr1: NODE_PCRS[1], pcr2: 'ee'.repeat(48) }),
);

let counter = 0;
async function withServer(knobs: ServerKnobs, f: (s: CanaryTestServer, flags: string[]) => Promise<void>) {
  const s = await startCanaryServer(knobs);
  const tag = `${++counter}`;
  writeFileSync(join(dir, `root${tag}.pem`), s.rootPem);
  writeFileSync(join(dir, `ca${tag}.pem`), s.caPem);
  const flags = ['--canary-url', s.origin, '--root', `root${tag}.pem`, '--ca', `ca${tag}.pem`, '--json'];
  try {
    await f(s, flags);
  } finally {
    await s.close();
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON is read loosely; each test asserts exact values
const json = (stdout: string) => JSON.parse(stdout) as Record<string, any>;

describe('live Canary node', () => {
  let good: CanaryTestServer;
  let flags: string[];
  beforeAll(async () => {
    good = await startCanaryServer();
    writeFileSync(join(dir, 'root0.pem'), good.rootPem);
    writeFileSync(join(dir, 'ca0.pem'), good.caPem);
    flags = ['--canary-url', good.origin, '--root', 'root0.pem', '--ca', 'ca0.pem', '--json'];
  });
  afterAll(async () => good.close());

  it('save-keys pins the exact keys bytes, then verify passes every target', async () => {
    const saved = await runCli(
      ['canary', 'save-keys', ...flags, '--expect-pcrs', 'node-pcrs.json', '--output', 'keys.json'],
      { cwd: dir },
    );
    expect(saved.code).toBe(0);
    const out = json(saved.stdout);
    expect(out).toMatchObject({ ok: true, code: null, command: 'canary save-keys' });
    expect(out.node.node_id).toBe('canary-test');
    expect(readFileSync(join(dir, 'keys.json'))).toEqual(Buffer.from(good.keysBytes));

    const verified = await runCli(
      ['canary', 'verify', ...flags, '--expect-pcrs', 'node-pcrs.json', '--trusted-keys', 'keys.json'],
      { cwd: dir },
    );
    expect(verified.code).toBe(0);
    const v = json(verified.stdout);
    expect(v.ok).toBe(true);
    expect(v.targets).toHaveLength(1);
    expect(v.targets[0]).toMatchObject({
      id: 'web',
      ok: true,
      status: 'VERIFIED',
      reason: 'ALL_CHECKS_PASSED',
      replay_reason: 'ALL_CHECKS_PASSED',
    });

    const text = await runCli(
      [
        'canary',
        'verify',
        ...flags.filter((f) => f !== '--json'),
        '--expect-pcrs',
        'node-pcrs.json',
        '--trusted-keys',
        'keys.json',
      ],
      { cwd: dir },
    );
    expect(text.stdout).toMatch(/^VALID: every target VERIFIED/);
    expect(text.stdout).toContain('web: VERIFIED (ALL_CHECKS_PASSED)');
  });

  it('save-keys never overwrites an existing file', async () => {
    writeFileSync(join(dir, 'exists.json'), 'old');
    const r = await runCli(
      ['canary', 'save-keys', ...flags, '--expect-pcrs', 'node-pcrs.json', '--output', 'exists.json'],
      { cwd: dir },
    );
    expect([r.code, json(r.stdout).code]).toEqual([2, 'ERR_USAGE']);
    expect(readFileSync(join(dir, 'exists.json'), 'utf8')).toBe('old');
  });

  it('verify-attempt judges a history entry at its issued_at', async () => {
    writeFileSync(join(dir, 'keys-a.json'), good.keysBytes);
    const r = await runCli(
      [
        'canary',
        'verify-attempt',
        ...flags,
        '--expect-pcrs',
        'node-pcrs.json',
        '--trusted-keys',
        'keys-a.json',
        '--target',
        'web',
        '--attempt',
        '7',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    expect(json(r.stdout).attempt).toMatchObject({ target: 'web', attempt: 7, status: 'VERIFIED' });
  });

  it('refuses wrong Canary PCRs (ERR_PCR_MISMATCH)', async () => {
    const r = await runCli(
      ['canary', 'save-keys', ...flags, '--expect-pcrs', 'wrong-pcrs.json', '--output', 'never.json'],
      { cwd: dir },
    );
    expect([r.code, json(r.stdout).code]).toEqual([1, 'ERR_PCR_MISMATCH']);
  });

  it('refuses a keys file that differs from the live keys', async () => {
    writeFileSync(
      join(dir, 'other-keys.json'),
      keysDocumentBytes(deriveCanaryKeys(new Uint8Array(32).fill(9), 'canary-test')),
    );
    const r = await runCli(
      ['canary', 'verify', ...flags, '--expect-pcrs', 'node-pcrs.json', '--trusted-keys', 'other-keys.json'],
      { cwd: dir },
    );
    expect([r.code, json(r.stdout).code, json(r.stdout).details.rule]).toEqual([
      1,
      'ERR_CANARY_KEY_MISMATCH',
      'pinned_keys',
    ]);
  });

  it('refuses a URL with a path (bare origins only)', async () => {
    const r = await runCli(
      [
        'canary',
        'save-keys',
        '--canary-url',
        `${good.origin}/x`,
        '--expect-pcrs',
        'node-pcrs.json',
        '--json',
      ],
      { cwd: dir },
    );
    expect([r.code, json(r.stdout).code]).toEqual([2, 'ERR_USAGE']);
  });
});

describe('live refusals', () => {
  const save = (flags: string[]) =>
    runCli(
      ['canary', 'save-keys', ...flags, '--expect-pcrs', 'node-pcrs.json', '--output', `k${counter}.json`],
      { cwd: dir },
    );
  const verify = async (s: CanaryTestServer, flags: string[]) => {
    writeFileSync(join(dir, `pinned${counter}.json`), s.keysBytes);
    return runCli(
      [
        'canary',
        'verify',
        ...flags,
        '--expect-pcrs',
        'node-pcrs.json',
        '--trusted-keys',
        `pinned${counter}.json`,
      ],
      { cwd: dir },
    );
  };

  it.each([
    [
      'config digest not bound',
      { metadata: { config_digest: `sha256:${'1'.repeat(64)}` } },
      'config_digest_binding',
    ],
    [
      'keyset digest not bound',
      { metadata: { keyset_digest: `sha256:${'1'.repeat(64)}` } },
      'keyset_digest_binding',
    ],
    ['node id not bound', { metadata: { node_id: 'other-node' } }, 'node_id_binding'],
  ])('%s', async (_, knobs, rule) => {
    await withServer(knobs, async (_s, flags) => {
      const r = await save(flags);
      expect([r.code, json(r.stdout).code, json(r.stdout).details.rule]).toEqual([
        1,
        'ERR_CANARY_METADATA',
        rule,
      ]);
    });
  });

  it('redirects', async () => {
    await withServer({ redirect: true }, async (_s, flags) => {
      const r = await save(flags);
      expect([r.code, json(r.stdout).code]).toEqual([1, 'ERR_HTTP_REDIRECT']);
    });
  });

  it('bodies over 256 KiB', async () => {
    await withServer({ configBytes: 256 * 1024 + 1 }, async (_s, flags) => {
      const r = await save(flags);
      expect([r.code, json(r.stdout).code]).toEqual([1, 'ERR_RESPONSE_TOO_LARGE']);
    });
  });

  it.each([
    ['expired statement', { statementShiftSeconds: -600 }, 'ERR_CANARY_EXPIRED'],
    ['future statement', { issuedAheadSeconds: 60 }, 'ERR_CANARY_FUTURE'],
    [
      'statement and evidence disagreeing (evidence of another observation)',
      { evidenceOtherObservation: true },
      'ERR_CANARY_MISMATCH',
    ],
    [
      'statement and evidence disagreeing (evidence replays PCR_MISMATCH)',
      { evidencePcrs: { 0: 'd0'.repeat(48), 1: 'd1'.repeat(48), 2: 'ee'.repeat(48) } },
      'ERR_CANARY_MISMATCH',
    ],
  ])('%s', async (_, knobs, code) => {
    await withServer(knobs, async (s, flags) => {
      const r = await verify(s, flags);
      const out = json(r.stdout);
      expect([r.code, out.ok, out.code]).toEqual([1, false, code]);
      expect(out.targets[0]).toMatchObject({ id: 'web', ok: false, code });
    });
  });
});
