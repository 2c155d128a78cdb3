// deployment --save-pcrs and --evidence against the demo enclave: Caution's trusted_hashes.json
// (with the previous file kept) and a Canary evidence bundle our canary commands replay.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceBundleText, parseEvidenceBundle } from '../../src/canary/evidence.js';
import { canonicalJson } from '../../src/canary/jcs.js';
import { type DemoEnclave, startDemoEnclave } from '../../src/deployment/demo/enclave.js';
import { runCli } from '../support/cli.js';

let dir: string;
let demo: DemoEnclave;
let args: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ev-canary-deploy-'));
  demo = await startDemoEnclave();
  await writeFile(join(dir, 'root.pem'), demo.rootPem);
  await writeFile(join(dir, 'tls.pem'), demo.tlsCertPem);
  await writeFile(join(dir, 'demo.eif'), demo.image.eif);
  args = ['deployment', demo.origin, '--root', 'root.pem', '--ca', 'tls.pem', '--eif', 'demo.eif'];
});

afterAll(async () => {
  await demo.close();
  await rm(dir, { recursive: true, force: true });
});

describe('deployment --save-pcrs', () => {
  it('writes trusted_hashes.json as caution verify does, and keeps the previous file', async () => {
    const first = await runCli([...args, '--save-pcrs', 'trusted_hashes.json', '--json'], { cwd: dir });
    expect(first.code).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out.savedPcrs).toEqual({ path: join(dir, 'trusted_hashes.json'), backup: null });
    const text = await readFile(join(dir, 'trusted_hashes.json'), 'utf8');
    const saved = JSON.parse(text);
    expect(Object.keys(saved)).toEqual(['pcr0', 'pcr1', 'pcr2', 'verified_at', 'tls']);
    expect(saved.pcr0).toBe(out.verification.pcrs.find((r: { index: number }) => r.index === 0).actual);
    expect(saved.tls).toEqual({ domain: '127.0.0.1', certfp: demo.certfp });
    expect(text).toBe(`${JSON.stringify(saved, null, 2)}\n`);

    const second = await runCli([...args, '--save-pcrs', 'trusted_hashes.json'], { cwd: dir });
    expect(second.code).toBe(0);
    const backups = (await readdir(dir)).filter((f) => /^trusted_hashes\.\d{8}T\d{6}\.\d{3}Z\.json$/.test(f));
    expect(backups).toHaveLength(1);
    expect(await readFile(join(dir, backups[0]!), 'utf8')).toBe(text);
    expect(second.stdout).toContain(`previous file kept as ${join(dir, backups[0]!)}`);

    // The saved file is an expectation `verify-evidence` and `deployment` read back.
    const again = await runCli(
      [
        'deployment',
        demo.origin,
        '--root',
        'root.pem',
        '--ca',
        'tls.pem',
        '--expect-pcrs',
        'trusted_hashes.json',
      ],
      {
        cwd: dir,
      },
    );
    expect(again.code).toBe(0);
  });

  it('does not save PCRs of a deployment that failed', async () => {
    const r = await runCli(
      [
        'deployment',
        demo.origin,
        '--root',
        'root.pem',
        '--ca',
        'tls.pem',
        '--pcr',
        `0=${'ab'.repeat(48)}`,
        '--save-pcrs',
        'bad.json',
        '--json',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).savedPcrs).toBeNull();
    expect((await readdir(dir)).includes('bad.json')).toBe(false);
  });
});

describe('deployment --evidence', () => {
  it("writes a Canary evidence bundle in Canary's exact form that canary verify-evidence replays", async () => {
    const r = await runCli(
      [
        ...args,
        '--save-pcrs',
        'pcrs-for-evidence.json',
        '--evidence',
        'evidence.json',
        '--evidence-target',
        'demo',
        '--json',
      ],
      {
        cwd: dir,
      },
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const text = await readFile(join(dir, 'evidence.json'), 'utf8');
    const parsed = await parseEvidenceBundle(text);
    expect(evidenceBundleText(parsed.bundle)).toBe(text);
    expect(parsed.bundle.target_id).toBe('demo');
    expect(out.canaryEvidence.evidence_digest).toBe(parsed.bundle.evidence_digest);
    expect(canonicalJson(parsed.bundle.manifest)).toBe(canonicalJson(demo.manifest));
    expect(parsed.bundle.observed_at).toBe(`${out.checkedAt.slice(0, 19)}Z`);

    const replay = await runCli(
      [
        'canary',
        'verify-evidence',
        'evidence.json',
        '--expect-pcrs',
        'pcrs-for-evidence.json',
        '--root',
        'root.pem',
        '--json',
      ],
      { cwd: dir },
    );
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({
      ok: true,
      reason: 'ALL_CHECKS_PASSED',
      target_id: 'demo',
    });
  });

  it('refuses --evidence with --watch', async () => {
    const r = await runCli([...args, '--evidence', 'e.json', '--watch', '5s'], { cwd: dir });
    expect(r.code).toBe(2);
  });
});
