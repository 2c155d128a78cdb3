/**
 * `enclave-verify demo --canary`: two simulated enclaves (one honest and TLS-bound, one whose
 * PCR0 changed) watched by a local Canary monitor node, itself a simulated enclave node so the
 * `canary save-keys` / `canary verify` commands it prints can attest it. Runs until Ctrl-C.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseCanaryConfig } from '../../canary/config.js';
import { deriveCanaryKeys, generateSeed } from '../../canary/keys.js';
import { createDemoFleet, nodeAttestation, startDemoCanaryEnclave } from '../../canary/node/demo-enclaves.js';
import { CanaryMonitor } from '../../canary/node/monitor.js';
import { startApi } from '../../canary/node/server.js';
import { EnclaveVerifyError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { EXIT } from '../context.js';
import { untilStopped } from '../stop-signal.js';

/**
 * Run the Canary demo until `stop` aborts.
 *
 * @example
 * ```ts
 * await runCanaryDemo(ctx, { port: 0 }, stop.signal);
 * ```
 */
export async function runCanaryDemo(
  ctx: CliContext,
  options: { port?: number; dir?: string },
  stop: AbortSignal | undefined,
): Promise<number> {
  const fleet = await createDemoFleet(7 * 24 * 3_600_000);
  const [honest, misbehaving] = await Promise.all([
    startDemoCanaryEnclave(fleet),
    startDemoCanaryEnclave(fleet, { behaviour: 'pcr-change' }),
  ]);
  const dir = options.dir
    ? resolve(ctx.cwd, options.dir)
    : await mkdtemp(join(tmpdir(), 'enclave-verify-canary-demo-'));
  let monitor: CanaryMonitor | undefined;
  let api: Awaited<ReturnType<typeof startApi>> | undefined;
  try {
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'demo-root.pem'), fleet.pki.rootPem);
      await writeFile(join(dir, 'demo-tls.pem'), fleet.tls.certPem);
    } catch (cause) {
      throw new EnclaveVerifyError(
        'ERR_IO',
        `cannot write the demo files to ${dir}: ${(cause as Error).message}`,
        { cause },
      );
    }
    const configText = `${JSON.stringify(
      {
        version: 0,
        node_id: 'demo-canary',
        probe_interval_seconds: 6,
        history_limit: 100,
        targets: [
          {
            id: 'honest',
            name: 'Honest demo enclave (TLS-bound)',
            attestation_url: honest.url,
            e2e_mode: 'tls',
            expected_pcrs: fleet.expectedPcrs,
          },
          {
            id: 'misbehaving',
            name: 'Demo enclave whose PCR0 changed',
            attestation_url: misbehaving.url,
            expected_pcrs: fleet.expectedPcrs,
          },
        ],
      },
      null,
      2,
    )}\n`;
    await writeFile(join(dir, 'canary.json'), configText);
    const config = parseCanaryConfig(configText);
    api = await startApi({
      port: options.port ?? 0,
      tls: fleet.tls,
      attestation: nodeAttestation(fleet, () => monitor?.metadata),
    });
    monitor = await CanaryMonitor.start({
      config,
      keys: deriveCanaryKeys(generateSeed(), config.node_id),
      identityMode: 'ephemeral',
      dataDir: join(dir, 'data'),
      network: { allowPrivate: true, ca: [fleet.tls.certPem] },
      trustedRoots: [fleet.pki.rootPem],
      binaryDigest: `sha256:${'0'.repeat(63)}1`,
    });
    api.ready(monitor);
    monitor.startSchedule();
    const origin = `https://localhost:${api.port}`;
    const pcrs = ['0', '1', '2'].map((i) => `--pcr ${i}=${fleet.expectedPcrs[i as '0']}`).join(' ');
    const node = `--canary-url ${origin} ${pcrs} --root ${join(dir, 'demo-root.pem')} --ca ${join(dir, 'demo-tls.pem')}`;
    ctx.stdout.write(
      [
        'SIMULATED Canary monitor (NOT AWS, NOT Caution): two simulated enclaves on loopback, probed every 6 s',
        `  honest enclave       ${honest.url}  (TLS-bound)`,
        `  misbehaving enclave  ${misbehaving.url}  (reports another PCR0: FAILED PCR_MISMATCH)`,
        '  targets are on loopback: the demo monitor runs with --allow-private',
        '',
        `  status page          ${origin}/   (self-signed certificate: ${join(dir, 'demo-tls.pem')})`,
        `  config, data         ${join(dir, 'canary.json')}, ${join(dir, 'data')}`,
        '',
        'Check the node and its targets (save-keys attests the node and pins its keys; verify exits 1',
        'while one target FAILED; add --target honest to check just that one):',
        `  enclave-verify canary save-keys ${node} --output ${join(dir, 'canary-keys.json')}`,
        `  enclave-verify canary verify ${node} --trusted-keys ${join(dir, 'canary-keys.json')}`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    await untilStopped(stop);
    ctx.stdout.write('Stopped.\n');
    return EXIT.VERIFIED;
  } finally {
    await monitor?.close();
    await api?.close();
    await Promise.all([honest.close(), misbehaving.close()]);
    if (!options.dir) await rm(dir, { recursive: true, force: true });
  }
}
