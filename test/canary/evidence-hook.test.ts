// The options hook a later check (revocation) plugs into: it can fail evidence that passed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseCanaryConfig } from '../../src/canary/config.js';
import { deriveCanaryKeys } from '../../src/canary/keys.js';
import { createDemoFleet, startDemoCanaryEnclave } from '../../src/canary/node/demo-enclaves.js';
import { CanaryMonitor } from '../../src/canary/node/monitor.js';

it('an evidence hook turns a passed probe into the definitive reason it returns', async () => {
  const fleet = await createDemoFleet();
  const enclave = await startDemoCanaryEnclave(fleet);
  const dir = await mkdtemp(join(tmpdir(), 'canary-hook-'));
  const seen: number[] = [];
  const config = parseCanaryConfig(
    JSON.stringify({
      version: 0,
      node_id: 'hook',
      targets: [{ id: 'a', name: 'a', attestation_url: enclave.url, expected_pcrs: fleet.expectedPcrs }],
    }),
  );
  const monitor = await CanaryMonitor.start({
    config,
    keys: deriveCanaryKeys(new Uint8Array(32), 'hook'),
    identityMode: 'stable',
    dataDir: dir,
    network: { allowPrivate: true, ca: [fleet.tls.certPem] },
    trustedRoots: [fleet.pki.rootPem],
    binaryDigest: `sha256:${'d'.repeat(64)}`,
    evidenceHook: async (document) => {
      seen.push(document.length);
      return seen.length === 1 ? 'INVALID_CERTIFICATE_CHAIN' : undefined;
    },
  });
  try {
    await monitor.probeNow('a');
    expect(monitor.statement('a').payload).toMatchObject({
      status: 'FAILED',
      reason: 'INVALID_CERTIFICATE_CHAIN',
    });
    await monitor.probeNow('a');
    expect(monitor.statement('a').payload).toMatchObject({ status: 'VERIFIED', reason: 'ALL_CHECKS_PASSED' });
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBeGreaterThan(1000);
  } finally {
    await monitor.close();
    await enclave.close();
    await rm(dir, { recursive: true, force: true });
  }
});
