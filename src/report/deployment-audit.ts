/**
 * The Markdown audit record of `deployment --report FILE`: every input, the time, the evidence
 * (base64, with its SHA-256) and the exact `enclave-verify verify` command that re-checks the
 * same evidence later at the same time with `--at`, so a reviewer can reproduce the verdict
 * without trusting whoever ran the check.
 */

import type { DeploymentProbe } from '../deployment/verify-deployment.js';
import { toBase64, toHex } from '../util/bytes.js';
import { type DeploymentReportInputs, verdictLine } from './deployment.js';
import { markdownCode, markdownFence, markdownText } from './markdown.js';

/** Inputs of the audit record: the report inputs plus what the re-check command needs. */
export interface DeploymentAuditInputs extends DeploymentReportInputs {
  /** `verify` flags reproducing the expectations (e.g. `['--eif', '/abs/demo.eif', '--root', ...]`). */
  verifyFlags?: string[];
  /** Name of the record file, for the extraction command. Default `audit.md`. */
  fileName?: string;
  /** Tool version line. */
  tool?: string;
}

/** Quote for a POSIX shell when needed. */
function sh(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Text from the endpoint, the document, certificates or file names, as inert Markdown: no
 * heading, link, image, HTML, emphasis, autolink or extra table cell can come out of it.
 */
const cell = markdownText;

/**
 * The `enclave-verify verify` command line that re-checks the saved document at the probe's time.
 *
 * @example
 * ```ts
 * recheckCommand(probe, ['--eif', 'demo.eif']);
 * // 'enclave-verify verify document.b64 --at 2026-01-01T00:00:00.000Z --nonce 3f... --max-age 300s --eif demo.eif'
 * ```
 */
export function recheckCommand(probe: DeploymentProbe, verifyFlags: string[] = []): string {
  const args = [
    'enclave-verify',
    'verify',
    'document.b64',
    '--at',
    probe.checkedAt.toISOString(),
    '--nonce',
    toHex(probe.nonce),
    '--max-age',
    `${Math.ceil(probe.maxAgeMs / 1000)}s`,
    ...verifyFlags,
  ];
  return args.map(sh).join(' ');
}

/**
 * Render the audit record.
 *
 * @example
 * ```ts
 * await writeFile('audit.md', renderDeploymentAudit(probe, { argv, expectations, verifyFlags }));
 * ```
 */
export function renderDeploymentAudit(probe: DeploymentProbe, inputs: DeploymentAuditInputs): string {
  const v = probe.verification;
  const doc = v?.document;
  const file = inputs.fileName ?? 'audit.md';
  const o: string[] = [];
  o.push('# Enclave deployment check: audit record', '');
  o.push(`**Verdict:** ${cell(verdictLine(probe))}`, '');
  o.push('| Item | Value |', '|---|---|');
  o.push(`| Endpoint | ${markdownCode(`POST ${probe.endpoint}`, true)} |`);
  o.push(`| Time of the check (verification time) | ${probe.checkedAt.toISOString()} |`);
  o.push(`| Nonce sent (32 random bytes, hex) | \`${toHex(probe.nonce)}\` |`);
  o.push(`| HTTP status, latency | ${probe.status ?? 'none'}, ${probe.latencyMs ?? '-'} ms |`);
  o.push(`| Max document age, timeout | ${probe.maxAgeMs} ms, ${probe.timeoutMs} ms |`);
  o.push(`| Tool | ${cell(inputs.tool ?? 'enclave-verify')} |`);
  o.push(`| Command | ${markdownCode(['enclave-verify', ...inputs.argv].map(sh).join(' '), true)} |`);
  if (probe.error) o.push(`| Error code | \`${probe.error.code}\` |`);
  o.push('');

  o.push('## Inputs', '');
  for (const line of inputs.expectations) o.push(`- ${cell(line)}`);
  o.push('');

  o.push('## Evidence', '');
  if (probe.document) {
    o.push(`- Attestation document: ${probe.document.length} bytes, JSON field \`${probe.documentField}\``);
    o.push(`- SHA-256 of the document: \`${probe.documentSha256}\``);
    if (probe.responseSha256)
      o.push(`- SHA-256 of the whole HTTP response body: \`${probe.responseSha256}\``);
    o.push('', 'The document, base64 (COSE_Sign1 as received):', '', '```base64');
    const b64 = toBase64(probe.document);
    for (let i = 0; i < b64.length; i += 76) o.push(b64.slice(i, i + 76));
    o.push('```', '');
  } else {
    o.push('No document was received.', '');
  }

  if (v && v.checks.length > 0) {
    o.push('## Checks', '', '| Check | Result | Detail |', '|---|---|---|');
    for (const c of v.checks)
      o.push(
        `| ${cell(c.name)} | ${c.ok ? (c.incomplete ? 'WARN' : 'ok') : `FAIL ${c.code ?? ''}`} | ${cell(c.detail)} |`,
      );
    if (probe.tlsBinding) {
      o.push(`| tls.binding | ${probe.tlsBinding.status} | ${cell(probe.tlsBinding.summary)} |`);
    }
    o.push('');
  }

  if (doc) {
    o.push('## Document', '');
    o.push(`- module_id: ${markdownCode(doc.moduleId)}`);
    o.push(`- timestamp: ${doc.timestamp.toISOString()}`);
    o.push(`- nonce: \`${doc.nonce ? toHex(doc.nonce) : 'absent'}\``);
    o.push(`- user_data: \`${doc.userData ? toHex(doc.userData) : 'absent'}\``);
    o.push(`- debug mode: ${v.debug ? 'YES' : 'no'}`, '');
    o.push('## PCRs', '', '| PCR | Document value | Expected | Result |', '|---|---|---|---|');
    for (const r of v.pcrs) {
      const result = r.match === undefined ? 'not checked' : r.match ? 'match' : 'MISMATCH';
      o.push(
        `| ${r.index} | \`${r.actual ?? 'absent'}\` | ${r.expected.map((e) => `\`${e}\``).join('<br>') || '-'} | ${result} |`,
      );
    }
    o.push('');
  }

  if (v && v.chain.length > 0) {
    o.push(
      '## Certificate chain (leaf first)',
      '',
      '| Role | Subject | Valid from | Valid to | SHA-256 |',
      '|---|---|---|---|---|',
    );
    for (const c of v.chain) {
      o.push(
        `| ${c.role} | ${cell(c.subject)} | ${c.notBefore.toISOString()} | ${c.notAfter.toISOString()} | \`${c.sha256}\` |`,
      );
    }
    o.push('');
  }

  o.push('## TLS binding', '');
  const tls = probe.tlsBinding;
  if (tls) {
    o.push(`- Status: **${tls.status}**: ${cell(tls.summary)}`);
    if (tls.claim) {
      o.push(`- Attested domain: ${markdownCode(tls.claim.domain)}; URL host: ${markdownCode(tls.host)}`);
      o.push(`- Attested certfp: ${markdownCode(tls.claim.certfp)}`);
    }
    if (tls.observedCertfp)
      o.push(`- SHA-256 of the TLS leaf served on the connection: \`${tls.observedCertfp}\``);
    o.push(
      '- The TLS certificate itself is not part of the saved evidence; a later re-check covers the document only.',
    );
  } else {
    o.push(
      probe.error?.code === 'ERR_TLS_BINDING' ? `- FAILED: ${cell(probe.error.message)}` : '- Not reached.',
    );
  }
  o.push('');

  o.push('## Manifest (UNSIGNED: build provenance for information, not evidence)', '');
  if (probe.manifest) {
    o.push(markdownFence(JSON.stringify(probe.manifest.raw, null, 2), 'json'));
  } else {
    o.push('None sent.');
  }
  o.push('');

  o.push('## Re-checking this record later', '');
  if (probe.document) {
    o.push(
      'Extract the document and verify it at the time of the check (certificates, signature, nonce, PCRs and',
      'freshness are checked exactly as they were; only the live TLS binding cannot be re-checked):',
      '',
      '```sh',
      `awk '/^\`\`\`base64$/{f=1;next} /^\`\`\`$/{f=0} f' ${sh(file)} > document.b64`,
      `base64 -d document.b64 | sha256sum   # expect ${probe.documentSha256}`,
      recheckCommand(probe, inputs.verifyFlags),
      '```',
    );
  } else {
    o.push('There is no document to re-check.');
  }
  o.push('');
  return o.join('\n');
}
