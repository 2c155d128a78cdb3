/**
 * `enclave-verify canary watch canary.json`: run a Canary-compatible monitor node. Probes every
 * target of the config on its interval, publishes signed statements, keeps the evidence in
 * `--data DIR`, and serves canaryd's read-only API, `/metrics` and a status page.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseCanaryConfig } from '../../canary/config.js';
import { sha256Digest } from '../../canary/digest.js';
import { deriveCanaryKeys, generateSeed, parseMasterSeed } from '../../canary/keys.js';
import { CanaryMonitor } from '../../canary/node/monitor.js';
import { revocationEvidenceHook } from '../../canary/node/revocation-hook.js';
import { startApi } from '../../canary/node/server.js';
import { printable } from '../../deployment/response.js';
import { ChainCache } from '../../trust/cache.js';
import { parseFlags, readFileText, readRootFile, usageError } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT } from '../context.js';
import { REVOCATION_FLAGS, revocationFromFlags, revocationHelp } from '../revocation-flags.js';
import { parseDuration } from './verify.js';

const HELP = `usage: enclave-verify canary watch canary.json [options]

Run a monitor node compatible with Caution Canary v0: probe every target of the config every
probe_interval_seconds (with a small random jitter; one request per target at a time) with a
fresh nonce, verify each answer fully (AWS chain, COSE signature, nonce, expected PCR0/1/2, no
debug enclave, TLS binding of the very connection for e2e_mode "tls"), publish the target state
as a statement signed with Ed25519 and ML-DSA-65, and keep every attempt (observation,
statement, evidence bundle) in --data DIR. Serves canaryd's read-only API (/health,
/status.json, /config.json, /keys.json, /targets/{id}/statement|evidence|history...), /metrics
(Prometheus) and a status page at /.

identity (one of):
  --seed-file FILE        base64 32-byte master seed: stable keys across restarts
                          (default: the CANARY_MASTER_SEED environment variable)
  --ephemeral-identity    a fresh seed for this process: new keys at every restart

options:
  --listen HOST:PORT      where to serve the API (default 127.0.0.1:8080; other addresses
                          only when given)
  --data DIR              history and metadata.json (default ./canary-data)
  --root FILE             trust this root (PEM or DER) instead of the AWS Nitro root (repeatable)
  --ca PEM                also trust this CA for the TLS connections to targets (repeatable)
  --allow-private         probe targets that resolve to loopback/private/link-local addresses
                          (tests and labs only; refused by default)
  --max-concurrent N      probes in flight over all targets (default 16)
  --timeout DURATION      whole-request timeout per probe (default 15s; connect 5s)
${revocationHelp(26)}  --help                  show this help

Stops on Ctrl-C. Exit codes: 0 stopped, 2 usage or input error.
`;

function parseListen(text: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535) throw usageError('canary watch', `--listen '${text}' is not HOST:PORT`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * `canary watch` with an explicit stop signal (tests abort it; the CLI wires Ctrl-C) and a
 * callback once the API serves.
 *
 * @example
 * ```ts
 * const stop = new AbortController();
 * const done = runWatch(['canary.json', '--ephemeral-identity', '--listen', '127.0.0.1:0'], ctx, stop.signal);
 * ```
 */
export async function runWatch(
  argv: string[],
  ctx: CliContext,
  stop?: AbortSignal,
  onReady?: (info: { url: string; monitor: CanaryMonitor }) => void,
): Promise<number> {
  const { values, positionals } = parseFlags(
    {
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        listen: { type: 'string' },
        data: { type: 'string' },
        'seed-file': { type: 'string' },
        'ephemeral-identity': { type: 'boolean' },
        root: { type: 'string', multiple: true },
        ca: { type: 'string', multiple: true },
        'allow-private': { type: 'boolean' },
        'max-concurrent': { type: 'string' },
        timeout: { type: 'string' },
        ...REVOCATION_FLAGS,
        help: { type: 'boolean', short: 'h' },
      },
    },
    (message) => usageError('canary watch', message),
  );
  if (values.help) {
    ctx.stdout.write(HELP);
    return EXIT.VERIFIED;
  }
  if (positionals.length !== 1)
    throw usageError('canary watch', 'give exactly one config file (canary.json)');
  // Before anything is read or started, so a wrong revocation flag is the error shown.
  const revocation = await revocationFromFlags(values, ctx);
  if (values['seed-file'] && values['ephemeral-identity']) {
    throw usageError('canary watch', '--seed-file and --ephemeral-identity exclude each other');
  }
  const configPath = resolve(ctx.cwd, positionals[0]!);
  const config = parseCanaryConfig(await readFileText(configPath, `the config ${positionals[0]}`));
  let seed: Uint8Array;
  let identityMode: 'stable' | 'ephemeral';
  if (values['ephemeral-identity']) {
    seed = generateSeed();
    identityMode = 'ephemeral';
  } else if (values['seed-file']) {
    seed = parseMasterSeed(
      (
        await readFileText(resolve(ctx.cwd, values['seed-file']), `--seed-file ${values['seed-file']}`)
      ).trim(),
    );
    identityMode = 'stable';
  } else if (ctx.env.CANARY_MASTER_SEED) {
    seed = parseMasterSeed(ctx.env.CANARY_MASTER_SEED.trim());
    identityMode = 'stable';
  } else {
    throw usageError(
      'canary watch',
      'say which identity to sign with: --seed-file FILE (stable keys), CANARY_MASTER_SEED, or --ephemeral-identity',
    );
  }
  const listen = parseListen(values.listen ?? '127.0.0.1:8080');
  let maxConcurrent: number | undefined;
  if (values['max-concurrent'] !== undefined) {
    maxConcurrent = Number(values['max-concurrent']);
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1 || maxConcurrent > 1000) {
      throw usageError('canary watch', '--max-concurrent must be an integer 1..1000');
    }
  }
  const timeoutMs = values.timeout ? parseDuration(values.timeout, '--timeout') : undefined;
  if (timeoutMs !== undefined && timeoutMs <= 0)
    throw usageError('canary watch', '--timeout must be positive');
  const roots: Uint8Array[] = [];
  for (const r of values.root ?? []) roots.push(await readRootFile(resolve(ctx.cwd, r), r));
  const ca: string[] = [];
  for (const c of values.ca ?? []) ca.push(await readFileText(resolve(ctx.cwd, c), `--ca ${c}`));
  const dataDir = resolve(ctx.cwd, values.data ?? 'canary-data');
  const binaryDigest = await sha256Digest(
    new Uint8Array(await readFile(process.argv[1] ?? '').catch(() => Buffer.from('enclave-verify 0.1.0'))),
  );

  if (values['allow-private']) {
    ctx.stderr.write(
      '\n*** WARNING: --allow-private: targets on loopback, private and link-local addresses WILL be probed. ***\n' +
        '*** Use it for tests and labs only, never on a production monitor.                               ***\n\n',
    );
  }
  const log = (line: string) => ctx.stderr.write(`${new Date().toISOString()} ${printable(line)}\n`);
  const api = await startApi(listen);
  let monitor: CanaryMonitor | undefined;
  try {
    monitor = await CanaryMonitor.start({
      config,
      keys: deriveCanaryKeys(seed, config.node_id),
      identityMode,
      dataDir,
      network: { allowPrivate: values['allow-private'] ?? false, ca },
      ...(roots.length > 0 ? { trustedRoots: roots } : {}),
      ...(timeoutMs ? { timeoutMs } : {}),
      ...(maxConcurrent ? { maxConcurrent } : {}),
      binaryDigest,
      log,
      ...(revocation
        ? {
            evidenceHook: revocationEvidenceHook({
              checkRevocation: revocation,
              ...(roots.length > 0 ? { trustedRoots: roots } : {}),
              cache: new ChainCache({ maxCertificates: 256 }),
              log,
            }),
          }
        : {}),
    });
    api.ready(monitor);
    const loopback = /^(127\.|::1$|localhost$)/.test(listen.host);
    ctx.stdout.write(
      [
        `Canary monitor '${config.node_id}' (${identityMode} identity, keyset ${monitor.keysetDigest})`,
        `  API and status page  ${api.url}/${loopback ? '' : '   (NOT loopback: reachable from the network)'}`,
        `  config               ${monitor.configDigest}, ${config.targets.length} target(s) every ${config.probe_interval_seconds} s`,
        `  data                 ${dataDir} (metadata.json, history/)`,
        `  check it with        enclave-verify canary verify --canary-url ${api.url} ...`,
        '',
      ].join('\n'),
    );
    monitor.startSchedule();
    onReady?.({ url: api.url, monitor });
    await new Promise<void>((done) => {
      if (!stop || stop.aborted) return done();
      stop.addEventListener('abort', () => done(), { once: true });
    });
    ctx.stdout.write('Stopping: waiting for probes in flight.\n');
    return EXIT.VERIFIED;
  } finally {
    await monitor?.close();
    await api.close();
  }
}

/**
 * Run `canary watch`; Ctrl-C (SIGINT) or SIGTERM stops it.
 *
 * @example
 * ```ts
 * await run(['canary.json', '--seed-file', 'seed.b64'], nodeContext());
 * ```
 */
export const run: Command = async (argv, ctx) => {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await runWatch(argv, ctx, stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
};
