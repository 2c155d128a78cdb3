/**
 * `enclave-verify demo`: start a simulated enclave on loopback, verify it with `deployment`
 * exactly as a real one would be checked (demo root, the demo EIF, the demo TLS certificate as
 * CA), print the report and shut down. `--serve` keeps the enclave running for other clients.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type DemoEnclave, type DemoMisbehaviour, startDemoEnclave } from '../../deployment/demo/enclave.js';
import { EnclaveVerifyError } from '../../errors.js';
import { toHex } from '../../util/bytes.js';
import { parseFlags, usageError } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT } from '../context.js';
import { runUntilSignal, untilStopped } from '../stop-signal.js';
import { runCanaryDemo } from './demo-canary.js';
import { run as deployment } from './deployment.js';

const HELP = `usage: enclave-verify demo [--serve [--port N] [--dir DIR]] [misbehaviour] [--json] [--report FILE]
       enclave-verify demo --canary [--port N] [--dir DIR]

Start a SIMULATED enclave on 127.0.0.1 (HTTPS with a fresh self-signed certificate, a throwaway
Nitro-shaped PKI labelled NOT AWS, the PCRs of a small demo EIF built from generated parts, and
Caution's TLS binding), verify it with \`enclave-verify deployment\` against the demo root and the
EIF, print the report and shut down. Nothing here is AWS or real enclave evidence.

options:
  --serve            keep the simulated enclave running (until Ctrl-C) and print how to check it
  --canary           run a local Canary monitor watching the demo enclave and a misbehaving one
                     (until Ctrl-C); prints its status page URL and the \`canary verify\` command
  --port N           port to listen on with --serve (default: any free port)
  --dir DIR          where to write demo-root.pem, demo-tls.pem and demo.eif and keep them
                     (default: a temporary directory, removed afterwards unless --serve); give
                     it with --report so the record's re-check command finds its files
  --json             print the deployment report as one JSON object
  --report FILE      also write the Markdown audit record
  --help             show this help

misbehaviour (to see each check fail):
  --bad-nonce        sign a different nonce than the one asked for   (ERR_NONCE_MISMATCH)
  --stale            date documents an hour in the past              (ERR_STALE)
  --wrong-certfp     attest another TLS certificate than the served  (ERR_TLS_BINDING)
  --debug-pcrs       report PCR0..2 as zeros, like a debug enclave   (ERR_DEBUG_MODE)

Exit codes (those of the deployment check): 0 verified, 1 rejected, 2 usage or input error.
`;

/** Files a client needs to check the demo enclave. */
interface DemoFiles {
  dir: string;
  root: string;
  tls: string;
  eif: string;
}

async function writeDemoFiles(demo: DemoEnclave, dir: string): Promise<DemoFiles> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (cause) {
    throw new EnclaveVerifyError('ERR_IO', `cannot create ${dir}: ${(cause as Error).message}`, { cause });
  }
  const files = {
    dir,
    root: join(dir, 'demo-root.pem'),
    tls: join(dir, 'demo-tls.pem'),
    eif: join(dir, 'demo.eif'),
  };
  try {
    await writeFile(files.root, demo.rootPem);
    await writeFile(files.tls, demo.tlsCertPem);
    await writeFile(files.eif, demo.image.eif);
  } catch (cause) {
    throw new EnclaveVerifyError(
      'ERR_IO',
      `cannot write the demo files to ${dir}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  return files;
}

function deploymentArgs(demo: DemoEnclave, files: DemoFiles): string[] {
  return [demo.origin, '--root', files.root, '--ca', files.tls, '--eif', files.eif];
}

function describeDemo(demo: DemoEnclave, files: DemoFiles): string {
  return [
    `Simulated enclave (NOT AWS, NOT a real enclave) listening on ${demo.origin}/attestation`,
    `  demo PKI root      ${files.root}  (throwaway; labelled NOT AWS)`,
    `  TLS certificate    ${files.tls}  (self-signed; certfp ${demo.certfp})`,
    `  enclave image      ${files.eif}  (PCR0 ${toHex(demo.image.pcrs.pcr0).slice(0, 32)}...)`,
    `  check it with:     enclave-verify deployment ${deploymentArgs(demo, files).join(' ')}`,
    '',
    '',
  ].join('\n');
}

/**
 * The demo command with an explicit stop signal for `--serve` (the CLI wires it to Ctrl-C;
 * tests abort it themselves).
 *
 * @example
 * ```ts
 * const stop = new AbortController();
 * const exit = runDemo(['--serve', '--port', '0'], ctx, stop.signal);
 * stop.abort();
 * await exit; // 0
 * ```
 */
export async function runDemo(argv: string[], ctx: CliContext, stop?: AbortSignal): Promise<number> {
  const { values, positionals } = parseFlags(
    {
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        serve: { type: 'boolean' },
        canary: { type: 'boolean' },
        port: { type: 'string' },
        dir: { type: 'string' },
        json: { type: 'boolean' },
        report: { type: 'string' },
        'bad-nonce': { type: 'boolean' },
        stale: { type: 'boolean' },
        'wrong-certfp': { type: 'boolean' },
        'debug-pcrs': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    },
    (message) => usageError('demo', message),
  );
  if (values.help) {
    ctx.stdout.write(HELP);
    return EXIT.VERIFIED;
  }
  if (positionals.length > 0)
    throw new EnclaveVerifyError('ERR_USAGE', `unexpected argument '${positionals[0]}'`);
  if (values.canary) {
    const other = ['serve', 'json', 'report', 'bad-nonce', 'stale', 'wrong-certfp', 'debug-pcrs'].filter(
      (k) => values[k as keyof typeof values],
    );
    if (other.length > 0)
      throw new EnclaveVerifyError('ERR_USAGE', `--canary does not combine with --${other[0]}`);
  }
  if (values.port !== undefined && !values.serve && !values.canary) {
    throw new EnclaveVerifyError('ERR_USAGE', '--port only applies with --serve or --canary');
  }
  if (values.serve && (values.json || values.report)) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      '--json and --report apply to the one-shot demo, not to --serve',
    );
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new EnclaveVerifyError('ERR_USAGE', `--port '${values.port}' is not a port number (0..65535)`);
    }
  }
  const misbehave: DemoMisbehaviour = {
    badNonce: values['bad-nonce'] ?? false,
    stale: values.stale ?? false,
    wrongCertfp: values['wrong-certfp'] ?? false,
    debugPcrs: values['debug-pcrs'] ?? false,
  };

  if (values.canary) {
    return runCanaryDemo(
      ctx,
      { ...(port !== undefined ? { port } : {}), ...(values.dir ? { dir: values.dir } : {}) },
      stop,
    );
  }
  if (values.serve) return serve(ctx, misbehave, port, values.dir, stop);

  const dir = values.dir
    ? resolve(ctx.cwd, values.dir)
    : await mkdtemp(join(tmpdir(), 'enclave-verify-demo-'));
  const demo = await startDemoEnclave({ misbehave });
  try {
    const files = await writeDemoFiles(demo, dir);
    // With --json, stdout carries exactly one JSON object: the banner goes to stderr.
    (values.json ? ctx.stderr : ctx.stdout).write(describeDemo(demo, files));
    const extra = [...(values.json ? ['--json'] : []), ...(values.report ? ['--report', values.report] : [])];
    return await deployment([...deploymentArgs(demo, files), ...extra], ctx);
  } finally {
    await demo.close();
    if (!values.dir) await rm(dir, { recursive: true, force: true });
  }
}

async function serve(
  ctx: CliContext,
  misbehave: DemoMisbehaviour,
  port: number | undefined,
  dirFlag: string | undefined,
  stop: AbortSignal | undefined,
): Promise<number> {
  // A long-running demo must not see its certificates expire under it. Started before the
  // temporary directory is made, so a port already in use leaves nothing behind.
  const demo = await startDemoEnclave({
    misbehave,
    ...(port !== undefined ? { port } : {}),
    lifetimeMs: 7 * 24 * 3_600_000,
  });
  try {
    const dir = dirFlag ? resolve(ctx.cwd, dirFlag) : await mkdtemp(join(tmpdir(), 'enclave-verify-demo-'));
    const files = await writeDemoFiles(demo, dir);
    ctx.stdout.write(describeDemo(demo, files));
    const on = Object.entries(misbehave).filter(([, v]) => v);
    if (on.length > 0) ctx.stdout.write(`  misbehaving:       ${on.map(([k]) => k).join(', ')}\n`);
    ctx.stdout.write('Press Ctrl-C to stop.\n');
    await untilStopped(stop);
    ctx.stdout.write(`Stopped after issuing ${demo.issued} document(s).\n`);
    return EXIT.VERIFIED;
  } finally {
    await demo.close();
  }
}

/**
 * Run `demo`; Ctrl-C (SIGINT) or SIGTERM stops `--serve`.
 *
 * @example
 * ```ts
 * const code = await run([], nodeContext()); // 0 when the simulated enclave verifies
 * ```
 */
export const run: Command = async (argv, ctx) => {
  return runUntilSignal((stop) => runDemo(argv, ctx, stop));
};
