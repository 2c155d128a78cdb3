// The offline canary commands on the public vectors: verdicts, --json objects, exit codes 0/1/2.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/canary/jcs.js';
import { runCli } from '../support/cli.js';
import { CANARY_VECTORS, CONFIG_DIGEST, EVIDENCE_PCRS, KEYSET_DIGEST, statementVector } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'canary-cli-'));
const v = statementVector();
writeFileSync(join(dir, 'statement.json'), JSON.stringify(v.statement, null, 2));
writeFileSync(join(dir, 'keys.json'), canonicalJson(v.keys));
writeFileSync(join(dir, 'keys-pretty.json'), JSON.stringify(v.keys, null, 2));
writeFileSync(join(dir, 'evidence.json'), readFileSync(new URL('evidence-v0-vector.json', CANARY_VECTORS)));
writeFileSync(join(dir, 'canary.json'), readFileSync(new URL('canary.json', CANARY_VECTORS)));
// Caution's trusted_hashes.json and canaryctl's pcr file name the same PCRs.
writeFileSync(
  join(dir, 'trusted_hashes.json'),
  JSON.stringify({
    pcr0: EVIDENCE_PCRS[0],
    pcr1: EVIDENCE_PCRS[1],
    pcr2: EVIDENCE_PCRS[2],
    verified_at: '2025-12-23T17:20:16Z',
  }),
);
const run = (args: string[]) => runCli(['canary', ...args], { cwd: dir });
// biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON is read loosely; each test asserts exact values
const json = (s: string) => JSON.parse(s) as Record<string, any>;

describe('canary verify-statement', () => {
  it('verifies the vector at its verification_time (exit 0, decoded payload)', async () => {
    const r = await run([
      'verify-statement',
      'statement.json',
      '--trusted-keys',
      'keys.json',
      '--at',
      v.verification_time,
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({
      ok: true,
      code: null,
      command: 'canary verify-statement',
      target_id: 'payments-prod',
      status: 'VERIFIED',
      keysetDigest: KEYSET_DIGEST,
    });
  });

  it('refuses it at expires_at (exit 1, ERR_CANARY_EXPIRED) and now', async () => {
    const r = await run([
      'verify-statement',
      'statement.json',
      '--trusted-keys',
      'keys.json',
      '--at',
      '2026-07-17T12:03:00Z',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^INVALID ERR_CANARY_EXPIRED: /);
    const now = await run(['verify-statement', 'statement.json', '--trusted-keys', 'keys.json', '--json']);
    expect([now.code, json(now.stdout).code]).toEqual([1, 'ERR_CANARY_EXPIRED']);
  });

  it('needs --trusted-keys, a zone in --at, and a usable keys file (exit 2)', async () => {
    expect((await run(['verify-statement', 'statement.json'])).code).toBe(2);
    expect(
      (
        await run([
          'verify-statement',
          'statement.json',
          '--trusted-keys',
          'keys.json',
          '--at',
          '2026-07-17T12:01:00',
        ])
      ).code,
    ).toBe(2);
    const bad = await run(['verify-statement', 'statement.json', '--trusted-keys', 'canary.json', '--json']);
    expect([bad.code, json(bad.stdout).code]).toEqual([2, 'ERR_INPUT_FORMAT']);
  });
});

describe('canary inputs', () => {
  it('code: verify-statement takes pinned keys that are not canonical bytes (only the live paths demand them)', async () => {
    const r = await run([
      'verify-statement',
      'statement.json',
      '--trusted-keys',
      'keys-pretty.json',
      '--at',
      v.verification_time,
      '--json',
    ]);
    expect([r.code, json(r.stdout).ok]).toEqual([0, true]);
  });

  it('refuses files over 1 MiB before reading them (ERR_INPUT_TOO_LARGE, exit 1 as for documents)', async () => {
    writeFileSync(join(dir, 'huge.json'), Buffer.alloc(1024 * 1024 + 1, 0x20));
    const r = await run(['verify-statement', 'huge.json', '--trusted-keys', 'keys.json', '--json']);
    expect([r.code, json(r.stdout).code]).toEqual([1, 'ERR_INPUT_TOO_LARGE']);
  });
});

describe('canary verify-evidence', () => {
  it('replays the vector with trusted_hashes.json (exit 0)', async () => {
    const r = await run([
      'verify-evidence',
      'evidence.json',
      '--expect-pcrs',
      'trusted_hashes.json',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({
      ok: true,
      reason: 'ALL_CHECKS_PASSED',
      observed_at: '2025-12-23T17:20:16Z',
    });
  });

  it('fails with another PCR2 (exit 1, PCR_MISMATCH)', async () => {
    const args = [
      '--pcr',
      `0=${EVIDENCE_PCRS[0]}`,
      '--pcr',
      `1=${EVIDENCE_PCRS[1]}`,
      '--pcr',
      `2=${EVIDENCE_PCRS[0]}`,
    ];
    const r = await run(['verify-evidence', 'evidence.json', ...args, '--json']);
    expect([r.code, json(r.stdout).code, json(r.stdout).reason]).toEqual([
      1,
      'ERR_PCR_MISMATCH',
      'PCR_MISMATCH',
    ]);
  });

  it('needs PCR0, 1 and 2 (exit 2)', async () => {
    const r = await run(['verify-evidence', 'evidence.json', '--pcr', `0=${EVIDENCE_PCRS[0]}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('expected PCR1 is missing');
  });
});

describe('canary check-config and check-keys', () => {
  it('check-config prints the config_digest', async () => {
    const r = await run(['check-config', 'canary.json', '--json']);
    expect([r.code, json(r.stdout).config_digest, json(r.stdout).node_id]).toEqual([
      0,
      CONFIG_DIGEST,
      'canary-demo',
    ]);
  });

  it('check-config refuses a config that breaks a rule (exit 1)', async () => {
    writeFileSync(
      join(dir, 'bad.json'),
      readFileSync(join(dir, 'canary.json'), 'utf8').replace('"version": 0', '"version": 1'),
    );
    const r = await run(['check-config', 'bad.json', '--json']);
    expect([r.code, json(r.stdout).code, json(r.stdout).details.rule]).toEqual([
      1,
      'ERR_CANARY_CONFIG',
      'version',
    ]);
  });

  it('check-keys gives keyset_digest and whether the bytes are canonical', async () => {
    const canonical = await run(['check-keys', 'keys.json', '--json']);
    expect(json(canonical.stdout)).toMatchObject({ ok: true, keyset_digest: KEYSET_DIGEST, canonical: true });
    const pretty = await run(['check-keys', 'keys-pretty.json']);
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).toContain('canonical: NO');
    const invalid = await run(['check-keys', 'canary.json', '--json']);
    expect([invalid.code, json(invalid.stdout).code]).toEqual([1, 'ERR_CANARY_KEYS']);
  });
});

describe('canary help', () => {
  it('lists every sub-command and each lists its flags', async () => {
    const r = await runCli(['canary', '--help']);
    expect(r.code).toBe(0);
    const { CANARY_COMMANDS } = await import('../../src/cli/commands/canary.js');
    for (const name of Object.keys(CANARY_COMMANDS)) {
      expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
      const help = await runCli(['canary', name, '--help']);
      expect(help.code).toBe(0);
      const source = readFileSync(
        new URL(`../../src/cli/commands/canary-${name}.ts`, import.meta.url),
        'utf8',
      );
      const node = readFileSync(new URL('../../src/cli/commands/canary-node.ts', import.meta.url), 'utf8');
      const flags = [
        ...`${source}\n${source.includes('NODE_FLAG_OPTIONS') ? node : ''}`.matchAll(
          /'?([a-z][a-z0-9-]*)'?: \{ type: '(?:string|boolean)'/g,
        ),
      ].map((m) => m[1]!);
      expect(flags.filter((f) => !help.stdout.includes(`--${f}`))).toEqual([]);
    }
  });
});
