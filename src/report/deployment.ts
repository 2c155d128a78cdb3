/**
 * Reports of a deployment check: the human text (verdict first, then what was checked against
 * what, the PCR table, the chain, the TLS binding and the unsigned manifest), the `--json`
 * object, and the one-line-per-probe format of `--watch`.
 */

import { printable } from '../deployment/response.js';
import type { DeploymentProbe } from '../deployment/verify-deployment.js';
import { AWS_NITRO_ROOT_G1_SHA256 } from '../trust/aws-root.js';
import { toBase64, toHex } from '../util/bytes.js';
import { verificationJson } from './attestation-json.js';
import { renderVerificationText, revocationSummary } from './attestation-text.js';

/** How the check was asked for, as reports state it. */
export interface DeploymentReportInputs {
  /** Command line after `enclave-verify` (for the audit record's re-check hints). */
  argv: string[];
  /** One line per expectation source (files with SHA-256, flags, which root). */
  expectations: string[];
  /** Structured description of measured expectations (e.g. rebuilt from sources), for `--json`. */
  measuredFrom?: Record<string, unknown>[];
}

const TLS_WORDS = {
  passed: 'PASSED',
  unchecked: 'UNCHECKED',
  unbound: 'UNBOUND',
  absent: 'NOT CLAIMED',
  unsupported: 'UNSUPPORTED MODE',
} as const;

/**
 * The verdict line: VERIFIED, or REJECTED with the error code.
 *
 * @example
 * ```ts
 * verdictLine(probe); // 'VERIFIED: https://enclave.example/attestation is a genuine enclave ...'
 * ```
 */
export function verdictLine(probe: DeploymentProbe): string {
  if (!probe.ok) {
    // The same shape as `verify`'s verdict, so scripts read both alike.
    return `REJECTED ${probe.error?.code ?? 'ERR_UNKNOWN'}: ${printable(probe.error?.message ?? 'the check failed')}`;
  }
  const pcrs = probe.verification?.pcrs.filter((r) => r.match !== undefined).length ?? 0;
  const what =
    pcrs > 0
      ? `runs the expected enclave image (${pcrs} ${pcrs === 1 ? 'PCR matches' : 'PCRs match'})`
      : 'is a genuine enclave, but NO expected PCRs were given, so WHICH code it runs was not checked';
  const tls = probe.tlsBinding?.status;
  const tail =
    tls === 'passed'
      ? '; TLS channel bound to it'
      : tls
        ? `; TLS binding ${TLS_WORDS[tls].toLowerCase()}`
        : '';
  const root = probe.verification?.chain.at(-1);
  const notAws =
    root && root.sha256 !== AWS_NITRO_ROOT_G1_SHA256
      ? '; chain to a root YOU supplied, NOT the AWS Nitro root'
      : '';
  const revocation = probe.verification ? revocationSummary(probe.verification) : '';
  return `VERIFIED: ${printable(probe.endpoint)} ${what}${tail}${notAws}${revocation}`;
}

/**
 * The human report of one probe.
 *
 * @example
 * ```ts
 * ctx.stdout.write(renderDeploymentText(probe, { argv, expectations }));
 * ```
 */
export function renderDeploymentText(probe: DeploymentProbe, inputs: DeploymentReportInputs): string {
  const out: string[] = [];
  const v = probe.verification;
  out.push(verdictLine(probe), '');

  out.push('What was checked, against what');
  out.push(`  endpoint      POST ${printable(probe.endpoint)}`);
  out.push(
    `  time          ${probe.checkedAt.toISOString()} (the current time; certificates and freshness checked at it)`,
  );
  out.push(
    `  response      ${probe.status === undefined ? 'none' : `HTTP ${probe.status}`}${probe.latencyMs === undefined ? '' : `, ${probe.latencyMs} ms`}`,
  );
  out.push(`  nonce         32 fresh random bytes ${toHex(probe.nonce)}`);
  if (probe.document) {
    out.push(
      `  evidence      ${probe.document.length} bytes in "${probe.documentField}", SHA-256 ${probe.documentSha256}`,
    );
  }
  out.push(`  freshness     at most ${Math.round(probe.maxAgeMs / 1000)} s old`);
  // Expectation lines name files given on the command line: their names may hold anything.
  for (const line of inputs.expectations) out.push(`  expectation   ${printable(line)}`);

  if (v) {
    // The document's own report, as `verify` prints it: fields, PCR table, chain, every check.
    const [verdict, ...body] = renderVerificationText(v).split('\n');
    out.push('', `Attestation document: ${printable(verdict ?? '')}`, ...body.map(printable));
    if (out.at(-1) === '') out.pop();
  }

  out.push('', 'TLS binding');
  const tls = probe.tlsBinding;
  if (tls) {
    out.push(`  ${TLS_WORDS[tls.status]}: ${printable(tls.summary)}`);
    if (tls.claim) {
      out.push(`  attested domain   ${printable(tls.claim.domain)} (URL host ${printable(tls.host)})`);
      out.push(`  attested certfp   ${printable(tls.claim.certfp)}`);
    }
    if (tls.observedCertfp) out.push(`  served leaf       ${tls.observedCertfp}`);
  } else if (probe.error?.code === 'ERR_TLS_BINDING') {
    out.push(`  FAILED: ${printable(probe.error.message)}`);
  } else {
    out.push('  not reached');
  }

  out.push('', 'Manifest (UNSIGNED build provenance: shown for information, never used as evidence)');
  const m = probe.manifest;
  if (!m) out.push('  none sent');
  else {
    // Keys and values are the endpoint's, unsigned: one neutralised field each.
    for (const s of m.sources) {
      const at = s.commit ? ` @ ${printable(s.commit)}` : '';
      out.push(`  ${printable(s.name).padEnd(18)} ${printable(s.url ?? '-')}${at}`);
    }
    for (const [k, val] of Object.entries(m.fields))
      out.push(`  ${printable(k).padEnd(18)} ${printable(val)}`);
  }
  out.push('');
  return out.join('\n');
}

/**
 * The `--json` object of one probe: everything in the text report, values in full.
 *
 * @example
 * ```ts
 * ctx.stdout.write(`${JSON.stringify(deploymentJson(probe, inputs))}\n`);
 * ```
 */
export function deploymentJson(
  probe: DeploymentProbe,
  inputs: DeploymentReportInputs,
): Record<string, unknown> {
  const v = probe.verification;
  return {
    ok: probe.ok,
    ...(probe.error ? probe.error.toJSON() : {}),
    verdict: verdictLine(probe),
    endpoint: probe.endpoint,
    checkedAt: probe.checkedAt.toISOString(),
    status: probe.status ?? null,
    latencyMs: probe.latencyMs ?? null,
    nonce: toHex(probe.nonce),
    maxAgeMs: probe.maxAgeMs,
    timeoutMs: probe.timeoutMs,
    expectations: inputs.expectations,
    ...(inputs.measuredFrom ? { measuredFrom: inputs.measuredFrom } : {}),
    evidence: probe.document
      ? {
          field: probe.documentField,
          sha256: probe.documentSha256,
          responseSha256: probe.responseSha256 ?? null,
          base64: toBase64(probe.document),
        }
      : null,
    verification: v ? verificationJson(v) : null,
    tlsBinding: probe.tlsBinding
      ? {
          status: probe.tlsBinding.status,
          summary: probe.tlsBinding.summary,
          host: probe.tlsBinding.host,
          claim: probe.tlsBinding.claim ?? null,
          observedCertfp: probe.tlsBinding.observedCertfp ?? null,
        }
      : null,
    manifest: probe.manifest
      ? { signed: false, sources: probe.manifest.sources, raw: probe.manifest.raw }
      : null,
  };
}

/**
 * One line of `--watch`: time, verdict, PCR0 prefix, latency (and the code on failure).
 *
 * @example
 * ```ts
 * renderWatchLine(probe); // '2026-01-01T00:00:00.000Z  VERIFIED  pcr0=5362895473c431a5  tls=passed  12 ms'
 * ```
 */
export function renderWatchLine(probe: DeploymentProbe): string {
  const pcr0 = probe.verification?.pcrs.find((r) => r.index === 0)?.actual;
  const parts = [
    probe.checkedAt.toISOString(),
    probe.ok ? 'VERIFIED' : 'REJECTED',
    `pcr0=${pcr0 ? pcr0.slice(0, 16) : '-'}`,
    `tls=${probe.tlsBinding?.status ?? '-'}`,
    probe.latencyMs === undefined ? '- ms' : `${probe.latencyMs} ms`,
  ];
  if (!probe.ok) parts.push(`${probe.error?.code}: ${printable(probe.error?.message ?? '').slice(0, 160)}`);
  return parts.join('  ');
}
