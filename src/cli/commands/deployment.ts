/**
 * `enclave-verify deployment <url>`: verify a running enclave through its attestation endpoint,
 * once (report) or on a schedule (`--watch`, one line per probe).
 */
import { constants } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { nodeTransport } from '../../deployment/node/transport.js';
import { printable } from '../../deployment/response.js';
import type { DeploymentProbe, VerifyDeploymentOptions } from '../../deployment/verify-deployment.js';
import { probeDeployment } from '../../deployment/verify-deployment.js';
import { watchDeployment } from '../../deployment/watch.js';
import { EnclaveVerifyError } from '../../errors.js';
import { deploymentJson, renderDeploymentText, renderWatchLine } from '../../report/deployment.js';
import { type DeploymentAuditInputs, renderDeploymentAudit } from '../../report/deployment-audit.js';
import { ChainCache } from '../../trust/cache.js';
import { toHex } from '../../util/bytes.js';
import { parseFlags, readFileText, usageError } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { EXIT, exitCodeFor } from '../context.js';
import { requireExpectation } from '../expectation-required.js';
import {
  REVOCATION_FLAGS,
  revocationFromFlags,
  revocationHelp,
  revocationRecheck,
} from '../revocation-flags.js';
import {
  evidenceTargetId,
  manifestAuthentication,
  saveEvidence,
  saveTrustedHashes,
  tapTransport,
} from './deployment-artifacts.js';
import { loadExpectations } from './deployment-expectations.js';
import { parseDuration } from './verify.js';

const HELP = `usage: enclave-verify deployment <url> [options]

Send a fresh 32-byte nonce to the enclave's attestation endpoint (POST {"nonce": "<base64>"};
a bare origin means /attestation), verify the returned document now, with that nonce and a
fresh timestamp, check the TLS binding, and print a report. Redirects are never followed;
responses are capped at 1 MiB.

expectations (as in \`verify\`; one of --pcr, --expect-pcrs, --eif, --rebuild or --any-pcrs is required):
  --pcr N=HEX             expected value of PCR N (repeatable; several per index allowed)
  --expect-pcrs FILE      expected PCRs (nitro-cli JSON, eif_build .pcrs, caution verify text, canary JSON)
  --target ID             target of a canary config given to --expect-pcrs
  --eif FILE              expect the PCR0/1/2 (and 8) of this enclave image file
  --rebuild RECIPE        expect the PCR0/1/2 rebuilt from sources: Caution's ramdisk rebuilt byte
                          for byte from the recipe's app and overlays, measured with its kernel and
                          cmdline (RECIPE: JSON as written by \`rebuild\`; see \`verify --help\`)
  --any-pcrs              expect no PCRs: check only that a genuine enclave answers, NOT which code
                          it runs (the report says so); never before sending it secrets
  --root FILE             trust this root (PEM or DER) instead of the AWS Nitro root (repeatable)
  --allow-debug           accept a debug-mode enclave (PCR0..2 all zeros)
  --max-age DURATION      largest accepted age of the document (default 5m)
  --require-tls-binding   fail unless the TLS binding was checked and passed
${revocationHelp(26)}
connection:
  --ca PEM                also trust this CA for the TLS connection (self-hosted, demo)
  --timeout DURATION      whole-request timeout (default 30s)

output:
  --json                  one JSON object on stdout
  --report FILE           also write a Markdown audit record (inputs, time, SHA-256 and base64 of
                          the evidence, and the command to re-check it offline)
  --save-pcrs FILE        after a verified probe, write the PCRs as \`caution verify\` does
                          (trusted_hashes.json: pcr0..2, verified_at, tls when bound; the previous
                          file kept as trusted_hashes.<UTC time>.json)
  --evidence FILE         write a Canary evidence bundle v0 of the document received (Canary's
                          exact form)
  --evidence-target ID    the bundle's target_id (default: the URL's host, '.' as '-')
  --watch INTERVAL        re-verify every INTERVAL (e.g. 30s, 5m); one line per probe
  --count N               with --watch, stop after N probes
  --fail-fast             with --watch, stop with exit 1 at the first failure
  --help                  show this help

DURATION: a number with ms, s, m, h or d (e.g. 500ms, 30s, 5m); a bare number is seconds;
at most 2147483647ms (24d 20h 31m 23.647s).
Exit codes: 0 verified, 1 rejected, 2 usage or input error.
`;

/**
 * Run `deployment`.
 *
 * @example
 * ```ts
 * const code = await run(['https://enclave.example', '--eif', 'enclave.eif', '--json'], ctx);
 * ```
 */
export const run: Command = async (argv, ctx) => {
  const { values, positionals } = parseFlags(
    {
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        pcr: { type: 'string', multiple: true },
        'expect-pcrs': { type: 'string' },
        target: { type: 'string' },
        eif: { type: 'string' },
        rebuild: { type: 'string' },
        root: { type: 'string', multiple: true },
        'allow-debug': { type: 'boolean' },
        'any-pcrs': { type: 'boolean' },
        'max-age': { type: 'string' },
        'require-tls-binding': { type: 'boolean' },
        ca: { type: 'string', multiple: true },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        report: { type: 'string' },
        'save-pcrs': { type: 'string' },
        evidence: { type: 'string' },
        'evidence-target': { type: 'string' },
        watch: { type: 'string' },
        count: { type: 'string' },
        'fail-fast': { type: 'boolean' },
        ...REVOCATION_FLAGS,
        help: { type: 'boolean', short: 'h' },
      },
    },
    (message) => usageError('deployment', message),
  );
  if (values.help) {
    ctx.stdout.write(HELP);
    return EXIT.VERIFIED;
  }
  const json = values.json ?? false;
  if (positionals.length !== 1) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      'give exactly one URL, e.g. enclave-verify deployment https://enclave.example --eif enclave.eif',
    );
  }
  const url = positionals[0]!;
  requireExpectation('deployment', values);
  if ((values.count || values['fail-fast']) && !values.watch) {
    throw new EnclaveVerifyError('ERR_USAGE', '--count and --fail-fast only apply with --watch INTERVAL');
  }
  if (values.watch && (values['save-pcrs'] || values.evidence)) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      '--save-pcrs and --evidence record one probe; run without --watch',
    );
  }
  if (values.watch && values.report) {
    throw new EnclaveVerifyError(
      'ERR_USAGE',
      '--report writes one audit record; run without --watch to get one',
    );
  }
  const expectations = await loadExpectations(
    {
      pcr: values.pcr,
      expectPcrs: values['expect-pcrs'],
      target: values.target,
      eif: values.eif,
      rebuild: values.rebuild,
      root: values.root,
    },
    ctx.cwd,
  );
  const ca: string[] = [];
  for (const file of values.ca ?? []) ca.push(await readText(resolve(ctx.cwd, file), '--ca'));
  const tap = tapTransport(nodeTransport(ca.length > 0 ? { ca } : {}));
  const options: VerifyDeploymentOptions = {
    ...expectations.options,
    allowDebug: values['allow-debug'] ?? false,
    maxAgeMs: values['max-age'] ? parseDuration(values['max-age'], '--max-age') : undefined,
    timeoutMs: values.timeout ? parseDuration(values.timeout, '--timeout') : undefined,
    requireTlsBinding: values['require-tls-binding'] ?? false,
    transport: tap.transport,
  };
  const revocation = await revocationFromFlags(values, ctx);
  if (revocation) options.checkRevocation = revocation;
  // The re-check asks for the same revocation check, or it would verify less than this run did.
  const revocationRecord = await revocationRecheck(values, ctx);
  // The re-check states the expected PCRs by value, whatever file they came from, so the record
  // stays checkable without the EIF or PCR files. PCRs rebuilt from sources are the exception:
  // the re-check rebuilds them again from the recipe file, which is the point of the record.
  const verifyFlags = [
    ...[...expectations.byValue].flatMap(([i, list]) => list.flatMap((v) => ['--pcr', `${i}=${toHex(v)}`])),
    ...expectations.files
      .filter((f) => f.flag === '--rebuild' || f.flag === '--root')
      .flatMap((f) => [f.flag, f.path]),
    ...(values['allow-debug'] ? ['--allow-debug'] : []),
    // The re-check must make the same choice explicitly, or `verify` refuses to run it.
    ...(values['any-pcrs'] ? ['--any-pcrs'] : []),
    ...revocationRecord.flags,
  ];
  const inputs: DeploymentAuditInputs = {
    argv: ['deployment', ...argv],
    expectations: [
      ...expectations.describe,
      ...(values['allow-debug'] ? ['--allow-debug: debug-mode enclaves accepted'] : []),
      ...ca.map((_, i) => `--ca ${resolve(ctx.cwd, values.ca?.[i] ?? '')} trusted for the TLS connection`),
      ...revocationRecord.describe,
    ],
    verifyFlags,
    ...(expectations.measuredFrom.length > 0 ? { measuredFrom: expectations.measuredFrom } : {}),
    fileName: values.report,
    tool: 'enclave-verify 0.1.0',
  };

  if (values.watch) {
    const intervalMs = parseDuration(values.watch, '--watch');
    // A zero interval would probe back to back, hammering the enclave.
    if (intervalMs <= 0)
      throw new EnclaveVerifyError(
        'ERR_USAGE',
        `--watch ${values.watch} is no interval: give e.g. 30s or 5m`,
      );
    let count: number | undefined;
    if (values.count !== undefined) {
      count = Number(values.count);
      if (!Number.isInteger(count) || count < 1)
        throw new EnclaveVerifyError('ERR_USAGE', '--count must be a positive integer');
    }
    // One cache for the whole watch: certificates and CRLs (until their nextUpdate) are reused.
    options.cache = new ChainCache();
    return watch(url, options, { intervalMs, count, failFast: values['fail-fast'] ?? false, json }, ctx);
  }

  const reportFile = values.report ? resolve(ctx.cwd, values.report) : undefined;
  const cannotWrite = (cause: unknown) =>
    new EnclaveVerifyError(
      'ERR_IO',
      `cannot write the audit record ${reportFile}: ${(cause as Error).message}; choose a writable --report path`,
      { cause },
    );
  // A record that cannot be written is known before the request, not after it.
  if (reportFile)
    await access(dirname(reportFile), constants.W_OK).catch((cause) => Promise.reject(cannotWrite(cause)));

  const evidenceTarget = values.evidence ? evidenceTargetId(url, values['evidence-target']) : undefined;
  const probe = await probeDeployment(url, options);
  const artifacts = await writeArtifacts(
    ctx,
    probe,
    values['save-pcrs'],
    values.evidence,
    evidenceTarget,
    tap.lastBody(),
  );
  if (values.rebuild) {
    // The served manifest is unsigned; the rebuilt ramdisk's /manifest.json is covered by the PCRs.
    const m = manifestAuthentication(probe.ok, tap.lastBody(), expectations.rebuiltManifest);
    artifacts.json.manifestAuthentication = m;
    artifacts.lines.unshift(
      `\n${m.summary}`,
      ...m.differences.map((d) => `  ${d.path}: served ${d.served}, rebuilt ${d.rebuilt}`),
    );
  }
  if (reportFile)
    await writeFile(reportFile, renderDeploymentAudit(probe, inputs)).catch((cause) =>
      Promise.reject(cannotWrite(cause)),
    );
  if (json) ctx.stdout.write(`${JSON.stringify({ ...deploymentJson(probe, inputs), ...artifacts.json })}\n`);
  else {
    ctx.stdout.write(renderDeploymentText(probe, inputs));
    // Manifest values come from the endpoint: no control characters to the terminal.
    for (const line of artifacts.lines) {
      ctx.stdout.write(line.startsWith('\n') ? `\n${printable(line.slice(1))}\n` : `${printable(line)}\n`);
    }
    if (values.report) ctx.stdout.write(`\nAudit record written to ${values.report}\n`);
  }
  if (probe.ok) return EXIT.VERIFIED;
  // The message quotes what the endpoint sent (unverified): one neutralised line, as reportError does.
  if (!json)
    ctx.stderr.write(`enclave-verify: ${probe.error?.code}: ${printable(probe.error?.message ?? '')}\n`);
  return exitCodeFor(probe.error);
};

/** Write --save-pcrs / --evidence files for one probe; what was written goes to the output. */
async function writeArtifacts(
  ctx: CliContext,
  probe: DeploymentProbe,
  savePcrs: string | undefined,
  evidence: string | undefined,
  targetId: string | undefined,
  body: Uint8Array | undefined,
): Promise<{ json: Record<string, unknown>; lines: string[] }> {
  const json: Record<string, unknown> = {};
  const lines: string[] = [];
  if (savePcrs) {
    const path = resolve(ctx.cwd, savePcrs);
    if (probe.ok) {
      const backup = await saveTrustedHashes(path, probe);
      json.savedPcrs = { path, backup: backup ?? null };
      lines.push(`\nPCRs saved to ${savePcrs}${backup ? ` (previous file kept as ${backup})` : ''}`);
    } else {
      json.savedPcrs = null;
      lines.push(`\nPCRs NOT saved to ${savePcrs}: the deployment did not verify`);
    }
  }
  if (evidence && targetId) {
    const path = resolve(ctx.cwd, evidence);
    if (probe.document) {
      const digest = await saveEvidence(path, probe, body, targetId);
      json.canaryEvidence = { path, target_id: targetId, evidence_digest: digest };
      lines.push(`Canary evidence bundle written to ${evidence} (${digest})`);
    } else {
      json.canaryEvidence = null;
      lines.push(`no Canary evidence written: no document was received`);
    }
  }
  return { json, lines };
}

async function watch(
  url: string,
  options: VerifyDeploymentOptions,
  w: { intervalMs: number; count: number | undefined; failFast: boolean; json: boolean },
  ctx: CliContext,
): Promise<number> {
  let failures = 0;
  let last: DeploymentProbe | undefined;
  for await (const probe of watchDeployment(url, options, w)) {
    last = probe;
    if (!probe.ok) failures++;
    ctx.stdout.write(w.json ? `${JSON.stringify(watchJson(probe))}\n` : `${renderWatchLine(probe)}\n`);
    // The reader went away (`| head -3` closed the pipe): nobody sees further probes.
    if (!ctx.stdout.writable) break;
  }
  if (failures === 0) return EXIT.VERIFIED;
  return last && !last.ok && w.failFast ? exitCodeFor(last.error) : EXIT.REJECTED;
}

function watchJson(probe: DeploymentProbe): Record<string, unknown> {
  return {
    time: probe.checkedAt.toISOString(),
    ok: probe.ok,
    ...(probe.error ? { code: probe.error.code, message: probe.error.message } : {}),
    latencyMs: probe.latencyMs ?? null,
    pcr0: probe.verification ? pcr0Hex(probe) : null,
    tlsBinding: probe.tlsBinding?.status ?? null,
  };
}

function pcr0Hex(probe: DeploymentProbe): string | null {
  return probe.verification?.pcrs.find((r) => r.index === 0)?.actual ?? null;
}

function readText(path: string, flag: string): Promise<string> {
  return readFileText(path, `${flag} ${path}`);
}
