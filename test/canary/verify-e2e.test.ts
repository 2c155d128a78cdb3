// The project's own Canary client against a running monitor node: `canary save-keys` attests
// the (simulated) node and pins its keys, `canary verify` checks every target's current
// statement and evidence end to end, `canary verify-statement` accepts what the monitor signs.
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCanaryConfig } from '../../src/canary/config.js';
import { deriveCanaryKeys } from '../../src/canary/keys.js';
import {
  createDemoFleet,
  type DemoCanaryEnclave,
  type DemoFleet,
  nodeAttestation,
  startDemoCanaryEnclave,
} from '../../src/canary/node/demo-enclaves.js';
import { CanaryMonitor } from '../../src/canary/node/monitor.js';
import { type RunningApi, startApi } from '../../src/canary/node/server.js';
import { runCli } from '../support/cli.js';

let fleet: DemoFleet;
let enclaves: DemoCanaryEnclave[];
let dir: string;
let api: RunningApi;
let monitor: CanaryMonitor;
let nodeUrl: string;

beforeAll(async () => {
  fleet = await createDemoFleet();
  enclaves = await Promise.all([startDemoCanaryEnclave(fleet), startDemoCanaryEnclave(fleet)]);
  dir = await mkdtemp(join(tmpdir(), 'canary-e2e-'));
  const config = parseCanaryConfig(
    JSON.stringify({
      version: 0,
      node_id: 'e2e-node',
      targets: [
        {
          id: 'tls-one',
          name: 'one',
          attestation_url: enclaves[0]!.url,
          e2e_mode: 'tls',
          expected_pcrs: fleet.expectedPcrs,
        },
        {
          id: 'plain-two',
          name: 'two',
          attestation_url: enclaves[1]!.url,
          expected_pcrs: fleet.expectedPcrs,
        },
      ],
    }),
  );
  api = await startApi({ tls: fleet.tls, attestation: nodeAttestation(fleet, () => monitor.metadata) });
  monitor = await CanaryMonitor.start({
    config,
    keys: deriveCanaryKeys(new Uint8Array(32).fill(3), 'e2e-node'),
    identityMode: 'stable',
    dataDir: join(dir, 'data'),
    network: { allowPrivate: true, ca: [fleet.tls.certPem] },
    trustedRoots: [fleet.pki.rootPem],
    binaryDigest: `sha256:${'c'.repeat(64)}`,
  });
  api.ready(monitor);
  nodeUrl = `https://localhost:${api.port}`;
  writeFileSync(join(dir, 'root.pem'), fleet.pki.rootPem);
  writeFileSync(join(dir, 'tls.pem'), fleet.tls.certPem);
});
afterAll(async () => {
  await monitor.close();
  await api.close();
  await Promise.all(enclaves.map((e) => e.close()));
  await rm(dir, { recursive: true, force: true });
});

const node = () => [
  '--canary-url',
  nodeUrl,
  '--pcr',
  `0=${fleet.expectedPcrs['0']}`,
  '--pcr',
  `1=${fleet.expectedPcrs['1']}`,
  '--pcr',
  `2=${fleet.expectedPcrs['2']}`,
  '--root',
  'root.pem',
  '--ca',
  'tls.pem',
];

describe('canary verify against the running monitor', () => {
  it('save-keys attests the node and pins its keys; verify accepts every VERIFIED target', async () => {
    await Promise.all([monitor.probeNow('tls-one'), monitor.probeNow('plain-two')]);
    const saved = await runCli(['canary', 'save-keys', ...node(), '--output', 'keys.json'], { cwd: dir });
    expect(saved.stderr).toBe('');
    expect(saved.code).toBe(0);
    const verified = await runCli(['canary', 'verify', ...node(), '--trusted-keys', 'keys.json', '--json'], {
      cwd: dir,
    });
    const result = JSON.parse(verified.stdout);
    expect(verified.code).toBe(0);
    expect(result.ok).toBe(true);
    expect(JSON.stringify(result)).toContain('tls-one');
    expect(JSON.stringify(result)).toContain('plain-two');
  });

  it('a target turned bad fails verify with its signed reason; its statement still verifies', async () => {
    enclaves[1]!.behaviour = 'pcr-change';
    await monitor.probeNow('plain-two');
    const r = await runCli(['canary', 'verify', ...node(), '--trusted-keys', 'keys.json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/plain-two: FAILED/);
    const statement = monitor.statement('plain-two');
    writeFileSync(join(dir, 'statement.json'), JSON.stringify(statement));
    const s = await runCli(
      ['canary', 'verify-statement', 'statement.json', '--trusted-keys', 'keys.json', '--json'],
      {
        cwd: dir,
      },
    );
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ ok: true });
    expect(s.stdout).toContain('PCR_MISMATCH');
  });
});
