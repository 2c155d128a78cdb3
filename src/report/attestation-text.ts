/**
 * The human report of a verification: verdict first, then what was verified (module, time and
 * where the time came from, PCR table, chain), then each check. Plain text, no colour codes, so
 * it reads the same in a terminal, a log file and an audit record.
 */
import { printable } from '../deployment/response.js';
import { KIND_TEXT } from '../policy/checks.js';
import { AWS_NITRO_ROOT_G1_SHA256 } from '../trust/aws-root.js';
import { describeRevocation } from '../trust/revocation-status.js';
import { toHex } from '../util/bytes.js';
import type { TimeSource, VerificationReport } from '../verify.js';
import { decodeTextField } from './attestation-json.js';

const TIME_SOURCE_TEXT: Record<TimeSource, string> = {
  now: 'current time',
  given: 'time given by the caller',
  document: "the document's own timestamp: an audit of past evidence, NOT proof the enclave runs now",
};

function iso(d: Date): string {
  return Number.isNaN(d.getTime()) ? '(unknown)' : d.toISOString();
}

function field(label: string, value: string): string {
  return `${label.padEnd(12)}${value}`;
}

/**
 * A byte field for display: decoded text or JSON when printable, else hex with its length.
 *
 * @example
 * ```ts
 * describeBytes(new TextEncoder().encode('hello')); // '"hello" (5 bytes, text)'
 * ```
 */
export function describeBytes(bytes: Uint8Array | undefined): string {
  if (bytes === undefined) return '(absent)';
  if (bytes.length === 0) return '(empty)';
  const decoded = decodeTextField(bytes);
  if (typeof decoded === 'string') return `${JSON.stringify(decoded)} (${bytes.length} bytes, text)`;
  if (decoded !== undefined) return `${JSON.stringify(decoded)} (${bytes.length} bytes, JSON)`;
  return `${toHex(bytes)} (${bytes.length} bytes)`;
}

/**
 * One-line verdict: `VERIFIED ...` or `REJECTED ERR_CODE: message`.
 *
 * @example
 * ```ts
 * verdictLine(report); // 'VERIFIED: genuine AWS Nitro attestation document'
 * ```
 */
export function verdictLine(report: VerificationReport): string {
  if (!report.ok) return `REJECTED ${report.error?.code ?? 'ERR_UNKNOWN'}: ${report.error?.message ?? ''}`;
  const root = report.chain.at(-1);
  const aws = root?.sha256 === AWS_NITRO_ROOT_G1_SHA256;
  // Enclave wording is the established one; a NitroTPM document says so up front.
  const tpm = report.document?.kind === 'nitrotpm';
  const what = aws
    ? `genuine AWS ${tpm ? 'NitroTPM attestation document of an EC2 instance' : 'Nitro attestation document'}`
    : `${tpm ? 'NitroTPM document ' : ''}signed through a chain to a root YOU supplied (${root?.subject ?? '?'}), not the AWS Nitro root`;
  const debug = report.debug ? ' (DEBUG enclave, allowed)' : '';
  const pcrs = report.pcrs.some((r) => r.match !== undefined)
    ? ', expected PCRs match'
    : ', no PCRs expected: only genuineness is checked, NOT which code runs';
  return `VERIFIED: ${what}${debug}${pcrs}${revocationSummary(report)}`;
}

/**
 * The verdict's revocation clause (empty when revocation was not checked): said in the verdict
 * itself, so a status that could not be learnt never reads as a pass.
 *
 * @example
 * ```ts
 * revocationSummary(report); // ', revocation UNAVAILABLE for 2 certificate(s)'
 * ```
 */
export function revocationSummary(report: VerificationReport): string {
  if (!report.revocation) return '';
  const unavailable = report.revocation.filter((s) => s.status === 'unavailable').length;
  return unavailable > 0
    ? `, revocation UNAVAILABLE for ${unavailable} certificate(s)`
    : ', no certificate revoked';
}

/**
 * The full text report.
 *
 * @example
 * ```ts
 * ctx.stdout.write(renderVerificationText(await checkAttestation(bytes, options)));
 * ```
 */
export function renderVerificationText(report: VerificationReport): string {
  const lines: string[] = [verdictLine(report), ''];
  const doc = report.document;
  if (doc && !report.ok) {
    // Trust steps stop at the first failure, so a passed signature check means the chain held too:
    // then the fields are what the enclave signed, and only the expectations failed.
    const signed = report.checks.some((c) => c.name === 'signature' && c.ok);
    lines.push(
      signed
        ? `(chain and signature verify, so the fields below are as the ${doc.kind === 'nitrotpm' ? 'Nitro hypervisor' : 'enclave'} signed them; the checks marked FAIL are not met)`
        : '(the fields below are decoded as sent; the document was NOT verified)',
      '',
    );
  }
  if (doc) {
    lines.push(field('kind', `${doc.kind}: ${KIND_TEXT[doc.kind]}`));
    lines.push(field('module', doc.moduleId));
    lines.push(field('timestamp', `${iso(doc.timestamp)} (${doc.timestampMs} ms)`));
  }
  lines.push(field('checked at', `${iso(report.verifiedAt)} (${TIME_SOURCE_TEXT[report.timeSource]})`));
  if (doc) {
    lines.push(
      field(
        'debug',
        doc.kind === 'nitrotpm'
          ? 'n/a (NitroTPM documents have no debug mode)'
          : report.debug
            ? 'YES: PCR0..2 are zero, the host can read the enclave'
            : 'no',
      ),
    );
    lines.push(field('nonce', describeBytes(doc.nonce)));
    lines.push(field('user data', describeBytes(doc.userData)));
    lines.push(field('public key', describeBytes(doc.publicKey)));
  }
  if (report.pcrs.length > 0) {
    lines.push(
      '',
      doc?.kind === 'nitrotpm'
        ? 'NitroTPM PCRs (nitrotpm_pcrs: TPM PCR0..23, SHA-384; expected values below a mismatch)'
        : 'PCRs (value in the document; expected values below a mismatch)',
    );
    // Runs of unused all-zero PCRs (nothing expected) collapse into one line.
    const unusedZero = (r: (typeof report.pcrs)[number]) =>
      r.match === undefined && /^0+$/.test(r.actual ?? '');
    for (let i = 0; i < report.pcrs.length; i++) {
      const row = report.pcrs[i]!;
      let j = i;
      while (unusedZero(row) && j + 1 < report.pcrs.length && unusedZero(report.pcrs[j + 1]!)) j++;
      if (j > i + 1) {
        // In the value column, like the rows around it.
        lines.push(`${`  ${String(row.index).padStart(2)}-${report.pcrs[j]!.index}`.padEnd(11)} (all zero)`);
        i = j;
        continue;
      }
      const state = row.match === undefined ? '      ' : row.match ? 'match ' : 'DIFFER';
      lines.push(`  ${String(row.index).padStart(2)} ${state} ${row.actual ?? '(not in document)'}`);
      if (row.match === false) for (const e of row.expected) lines.push(`     expected  ${e}`);
      if (row.match === false && row.unmeasured)
        lines.push('     (reset value: nothing was measured into this PCR, so no expectation can match it)');
    }
  }
  if (report.chain.length > 0) {
    lines.push('', 'certificate chain (leaf first)');
    for (const c of report.chain) {
      lines.push(`  ${c.role.padEnd(12)} ${c.subject}`);
      lines.push(
        `  ${''.padEnd(12)} valid ${iso(c.notBefore)} .. ${iso(c.notAfter)}  sha256 ${c.sha256.slice(0, 16)}...`,
      );
      const r = report.revocation?.find((s) => s.serial === c.serial && s.subject === c.subject);
      if (r) lines.push(`  ${''.padEnd(12)} revocation ${describeRevocation(r)}`);
    }
  }
  lines.push('', 'checks');
  for (const c of report.checks) {
    lines.push(`  ${c.ok ? (c.incomplete ? 'WARN' : 'ok  ') : 'FAIL'} ${c.name.padEnd(18)} ${c.detail}`);
  }
  // Fields come from the document, which may be forged: control characters in them (a newline,
  // terminal escapes) must not add lines or rewrite the verdict on the user's terminal.
  return `${lines.map(printable).join('\n')}\n`;
}
