// canary add-target: expected PCRs given, or captured on first use (TOFU) from a verified live
// attestation, with TOFU's limits said plainly, confirmed on a terminal, and refused for tls mode.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCanaryConfig } from '../../src/canary/config.js';
import { main } from '../../src/cli/main.js';
import { type DemoEnclave, startDemoEnclave } from '../../src/deployment/demo/enclave.js';
import { toHex } from '../../src/util/bytes.js';
import { captureContext, runCli } from '../support/cli.js';
import { vectorText } from './support.js';

let dir: string;
let demo: DemoEnclave;
const PCR = 'ab'.repeat(48);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ev-canary-add-'));
  demo = await startDemoEnclave();
  await writeFile(join(dir, 'root.pem'), demo.rootPem);
  await writeFile(join(dir, 'tls.pem'), demo.tlsCertPem);
});

afterAll(async () => {
  await demo.close();
  await rm(dir, { recursive: true, force: true });
});

const fresh = async (name: string) => {
  await writeFile(join(dir, name), vectorText('canary.json'));
  return name;
};
const base = (config: string, id: string, url = 'https://new.example.com/attestation') => [
  'canary',
  'add-target',
  '--config',
  config,
  '--id',
  id,
  '--name',
  'New',
  '--attestation-url',
  url,
];
const tofuFlags = ['--tofu', '--root', 'root.pem', '--ca', 'tls.pem'];

describe('canary add-target', () => {
  it('adds a target with given PCRs; the result passes the config rules', async () => {
    const config = await fresh('a.json');
    const r = await runCli(
      [...base(config, 'new'), '--pcr', `0=${PCR}`, '--pcr', `1=${PCR}`, '--pcr', `2=${PCR}`, '--json'],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    const c = parseCanaryConfig(await readFile(join(dir, config), 'utf8'));
    expect(c.targets.map((t) => t.id)).toEqual(['caddy-poc', 'xwing-poc', 'x25519-poc', 'new']);
    expect(c.targets[3]!.expected_pcrs).toEqual({ '0': PCR, '1': PCR, '2': PCR });
  });

  it('refuses a target the rules refuse (duplicate id), leaving the file unchanged', async () => {
    const config = await fresh('b.json');
    const r = await runCli(
      [...base(config, 'xwing-poc'), '--pcr', `0=${PCR}`, '--pcr', `1=${PCR}`, '--pcr', `2=${PCR}`, '--json'],
      { cwd: dir },
    );
    expect([r.code, JSON.parse(r.stdout).code, JSON.parse(r.stdout).details.rule]).toEqual([
      2,
      'ERR_CANARY_CONFIG',
      'target_id_unique',
    ]);
    expect(await readFile(join(dir, config), 'utf8')).toBe(vectorText('canary.json'));
  });

  it('refuses TOFU for e2e_mode tls targets, as Canary does', async () => {
    const config = await fresh('c.json');
    const r = await runCli([...base(config, 'new'), ...tofuFlags, '--e2e-mode', 'tls'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('TOFU is refused for e2e_mode tls targets');
  });

  it('TOFU without a terminal needs --accept-tofu', async () => {
    const config = await fresh('d.json');
    const r = await runCli([...base(config, 'live', `${demo.origin}/attestation`), ...tofuFlags, '--json'], {
      cwd: dir,
    });
    expect([r.code, JSON.parse(r.stdout).code]).toEqual([2, 'ERR_USAGE']);
    expect(await readFile(join(dir, config), 'utf8')).toBe(vectorText('canary.json'));
  });

  it('TOFU with --accept-tofu captures the PCRs of the verified live document and says what TOFU proves', async () => {
    const config = await fresh('e.json');
    const r = await runCli(
      [...base(config, 'live', `${demo.origin}/attestation`), ...tofuFlags, '--accept-tofu'],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('TOFU: PCRs captured from the live attestation; this proves continuity only');
    const c = parseCanaryConfig(await readFile(join(dir, config), 'utf8'));
    expect(c.targets.at(-1)!.expected_pcrs).toEqual({
      '0': toHex(demo.image.pcrs.pcr0),
      '1': toHex(demo.image.pcrs.pcr1),
      '2': toHex(demo.image.pcrs.pcr2),
    });
  });

  it('TOFU on a terminal asks, and only "y" adds the target', async () => {
    for (const [answer, code] of [
      ['n\n', 2],
      ['y\n', 0],
    ] as const) {
      const config = await fresh(`f-${code}.json`);
      const { ctx, out } = captureContext({ cwd: dir, stdin: answer });
      Object.assign(ctx.stdin, { isTTY: true });
      expect(await main([...base(config, 'live', `${demo.origin}/attestation`), ...tofuFlags], ctx)).toBe(
        code,
      );
      expect(out.stderr).toContain('Trust these values for this target? [y/N]');
      const ids = parseCanaryConfig(await readFile(join(dir, config), 'utf8')).targets.map((t) => t.id);
      expect(ids.includes('live')).toBe(code === 0);
    }
  });
});
