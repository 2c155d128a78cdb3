/**
 * The page's use of the library: run the verification, then turn the library's answer (or its
 * error) into what the page shows. Verdicts and error texts come from the library unchanged, so
 * the page and `enclave-verify verify` always say the same thing about the same document.
 */
import {
  type AttestationDocument,
  checkAttestation,
  type DeploymentProbe,
  EnclaveVerifyError,
  type ExpectedPcrs,
  type ManifestView,
  parseExpectedPcrs,
  parseTlsBinding,
  toHex,
  type VerificationReport,
} from '../index.js';
import { type ChainCert, renderChain, utcText } from './components/chain.js';
import { renderBytes, renderFreshness } from './components/details.js';
import { renderPcrTable } from './components/pcr-table.js';
import type { VerdictView } from './components/verdict.js';
import { h } from './dom.js';

/**
 * Code and message of any thrown value, in the CLI's words: library errors verbatim, anything
 * else as the CLI's `ERR_IO: unexpected failure: ...`.
 *
 * @example
 * ```ts
 * const { code, message } = describeError(e);
 * ```
 */
export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof EnclaveVerifyError) return { code: error.code, message: error.message };
  return { code: 'ERR_IO', message: `unexpected failure: ${(error as Error)?.message ?? String(error)}` };
}

/** Expected PCRs read from the page's field. */
export interface ExpectedInput {
  values: ExpectedPcrs;
  /** Targets of a canary config (for the picker); empty for other formats. */
  targets: { id: string; name?: string }[];
  /** The target the values belong to, for canary configs. */
  target?: string;
}

/** Ids and names of a Caution canary config's targets, only to offer them in a picker. */
function canaryTargets(text: string): { id: string; name?: string }[] {
  if (!text.trimStart().startsWith('{')) return [];
  try {
    const targets = (JSON.parse(text) as { targets?: unknown }).targets;
    if (!Array.isArray(targets)) return [];
    return targets.map((t: { id?: unknown; name?: unknown }) => ({
      id: String(t?.id ?? ''),
      ...(typeof t?.name === 'string' ? { name: t.name } : {}),
    }));
  } catch {
    return [];
  }
}

/**
 * Parse the expected-PCR field with the library's reader (every format the CLI reads). For a
 * canary config with several targets, `target` picks one; when it names none of them the first
 * is used, and `target` in the result says which one the values belong to.
 *
 * @example
 * ```ts
 * const { values } = parseExpectedInput('PCR0: 3c07...', undefined);
 * ```
 */
export function parseExpectedInput(text: string, target: string | undefined): ExpectedInput {
  const targets = canaryTargets(text);
  const known = targets.some((t) => t.id === target);
  const chosen = targets.length > 1 ? (known ? target : targets[0]?.id) : undefined;
  const values = parseExpectedPcrs(text, chosen === undefined ? {} : { target: chosen });
  return { values, targets, ...(chosen === undefined ? {} : { target: chosen }) };
}

/** Everything the report needs about one run. */
export interface Outcome {
  verdict: VerdictView;
  /** The library's full report: every check, the PCR table, the chain. */
  report: VerificationReport | undefined;
  atLabel: string;
  probe: DeploymentProbe | undefined;
  /** Unsigned manifest sent with the document (endpoint answer or pasted endpoint JSON). */
  manifest: ManifestView | undefined;
}

/** Options of {@link verifyDocument}. */
export interface VerifyDocumentOptions {
  /** Verification time: now, the document's own timestamp, or a given time. */
  at: 'now' | 'document' | Date;
  expected: ExpectedPcrs | undefined;
  allowDebug: boolean;
  /** PEM roots replacing the pinned AWS root (testing only); undefined for the pinned root. */
  trustedRoots: string[] | undefined;
  /** Manifest that came with a pasted or loaded endpoint JSON. */
  manifest?: ManifestView | undefined;
  /** Set for the endpoint flow: the probe's verdict stands; the report is re-derived for display. */
  probe?: DeploymentProbe;
}

/**
 * Verify `bytes` with the library's `checkAttestation` (or, for the endpoint flow, take the probe's
 * verdict) and build the verdict shown first.
 *
 * @example
 * ```ts
 * const outcome = await verifyDocument(bytes, { at: 'document', expected, allowDebug: false });
 * ```
 */
export async function verifyDocument(
  bytes: Uint8Array | undefined,
  options: VerifyDocumentOptions,
): Promise<Outcome> {
  const probe = options.probe;
  const manifest = probe?.manifest ?? options.manifest;
  let report: VerificationReport | undefined;
  if (bytes) {
    report = await checkAttestation(bytes, {
      currentDate: probe ? probe.checkedAt : options.at === 'now' ? new Date() : options.at,
      expectedPcrs: options.expected,
      allowDebug: options.allowDebug,
      ...(options.trustedRoots ? { trustedRoots: options.trustedRoots } : {}),
      ...(probe ? { nonce: probe.nonce, maxAgeMs: probe.maxAgeMs } : {}),
    });
  }
  const atLabel = probe
    ? 'now, when the page fetched it'
    : options.at instanceof Date
      ? 'the time you gave'
      : options.at === 'document'
        ? "the document's own timestamp (audit of past evidence)"
        : "now (this device's clock)";
  // The endpoint probe's own verdict is authoritative (it also covers HTTP and the TLS binding).
  const ok = probe ? probe.ok : report?.ok === true;
  const error = probe ? probe.error : report?.error;
  if (ok && report?.document) {
    const tpm = report.document.kind === 'nitrotpm';
    const what = tpm ? 'NitroTPM attestation of an EC2 instance' : 'Nitro Enclave attestation';
    const lines = [
      options.trustedRoots
        ? `${what}, signed by a chain to the root certificate YOU supplied (not the AWS root): valid at ${utcText(report.verifiedAt)}, ${atLabel}. This says nothing about real AWS hardware.`
        : `Genuine AWS ${what}: the certificate chain to the pinned AWS root and the COSE signature are valid at ${utcText(report.verifiedAt)}, ${atLabel}.`,
    ];
    const expectedCount = report.pcrs.filter((r) => r.expected.length > 0).length;
    lines.push(
      expectedCount === 1
        ? 'The expected PCR matches.'
        : expectedCount > 1
          ? `All ${expectedCount} expected PCRs match.`
          : `No expected PCRs were given: this proves the document is genuine, not WHICH code ${tpm ? 'the instance booted' : 'runs'}. Give the PCRs you expect to check the code.`,
    );
    if (probe) lines.push('The document carries the fresh nonce this page sent and is recent.');
    if (report.debug)
      lines.push('DEBUG enclave accepted on request: PCR0–2 are zero, so the measurements say nothing.');
    // Secure default (issue 16): genuine evidence of unknown code is a warning, not a pass.
    const verdict: VerdictView =
      expectedCount === 0
        ? {
            state: 'warn',
            title: `⚠ Genuine, code not checked${options.trustedRoots ? ' (YOUR root, not AWS)' : ''}`,
            lines,
          }
        : {
            state: 'ok',
            title: options.trustedRoots ? 'Verified against YOUR root (not AWS)' : 'Verified',
            lines,
          };
    return {
      verdict,
      report,
      atLabel,
      probe,
      manifest,
    };
  }
  const { code, message } = describeError(
    error ?? new EnclaveVerifyError('ERR_USAGE', 'nothing was verified'),
  );
  return {
    verdict: {
      state: 'bad',
      title: 'Not verified',
      code,
      message,
      lines: report?.document
        ? ['The details below are decoded from the document and must NOT be trusted.']
        : [],
    },
    report,
    atLabel,
    probe,
    manifest,
  };
}

const ROLE_NAMES: Record<string, string> = {
  root: 'Trusted root',
  intermediate: 'Intermediate CA',
  leaf: 'Signing certificate',
};

function chainOf(report: VerificationReport): ChainCert[] {
  // The library lists leaf first; a timeline reads better from the root down.
  return [...report.chain].reverse().map((c) => ({
    role: ROLE_NAMES[c.role] ?? c.role,
    subject: c.subject,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
  }));
}

function renderChecks(report: VerificationReport): HTMLElement {
  return h(
    'section',
    { class: 'checks', 'aria-labelledby': 'checks-heading' },
    h('h3', { id: 'checks-heading' }, 'Checks'),
    h(
      'ul',
      { class: 'check-list', id: 'check-list' },
      report.checks.map((c) =>
        h(
          'li',
          { 'data-check': c.name, 'data-ok': c.ok ? 'yes' : 'no' },
          h(
            'span',
            { class: `badge ${c.ok ? 'badge-ok' : 'badge-bad'}` },
            c.ok ? '✓ pass' : `✗ ${c.code ?? 'fail'}`,
          ),
          ' ',
          h('strong', {}, c.name),
          ': ',
          c.detail,
        ),
      ),
    ),
  );
}

function renderUserData(doc: AttestationDocument, probe: DeploymentProbe | undefined): HTMLElement {
  let binding: Node | null = null;
  let claim: ReturnType<typeof parseTlsBinding> | undefined;
  try {
    claim = parseTlsBinding(doc.userData);
  } catch (e) {
    const { code, message } = describeError(e);
    binding = h('p', { class: 'note', id: 'tls-binding' }, `${code}: ${message}`);
  }
  if (claim && 'domain' in claim) {
    binding = h(
      'p',
      { class: 'note', id: 'tls-binding' },
      h('strong', {}, 'Caution TLS binding: not checkable in a browser. '),
      `The enclave claims its TLS certificate for ${claim.domain} has SHA-256 ${claim.certfp}. `,
      'A web page cannot see the certificate of a connection, so this page cannot compare them. ',
      probe?.tlsBinding ? `(${probe.tlsBinding.summary}) ` : '',
      'Check it with ',
      h('code', {}, `enclave-verify deployment https://${claim.domain}`),
      '.',
    );
  }
  return h(
    'section',
    { class: 'user-data', 'aria-labelledby': 'ud-heading' },
    h('h3', { id: 'ud-heading' }, 'User data and public key'),
    binding,
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'user_data'),
      h('dd', { id: 'user-data' }, renderBytes(doc.userData, toHex)),
      h('dt', {}, 'public_key'),
      h('dd', { id: 'public-key' }, renderBytes(doc.publicKey, toHex)),
    ),
  );
}

function renderManifest(m: ManifestView | undefined): HTMLElement | null {
  if (!m) return null;
  return h(
    'section',
    { class: 'manifest', 'aria-labelledby': 'manifest-heading' },
    h('h3', { id: 'manifest-heading' }, 'Build manifest (NOT signed)'),
    h(
      'p',
      { class: 'note' },
      'The endpoint sent this next to the document. Nothing in the attestation covers it: read it as a claim, check it by rebuilding.',
    ),
    h('pre', { class: 'data' }, JSON.stringify(m.raw, null, 2)),
  );
}

/**
 * The report under the verdict: document facts, PCR table, chain, user data, nonce/freshness, checks.
 *
 * @example
 * ```ts
 * reportBox.replaceChildren(renderReport(outcome));
 * ```
 */
export function renderReport(outcome: Outcome): HTMLElement {
  const report = outcome.report;
  const doc = report?.document;
  if (!report || !doc) return h('div');
  return h(
    'div',
    { class: report.ok ? 'report verified' : 'report unverified' },
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Kind'),
      h(
        'dd',
        { id: 'document-kind', 'data-kind': doc.kind },
        doc.kind === 'nitrotpm'
          ? 'nitrotpm: an EC2 instance’s NitroTPM (nitrotpm_pcrs: TPM PCR0–23 of the boot chain)'
          : 'enclave: a Nitro Enclave (pcrs: measurements of the enclave image)',
      ),
      h('dt', {}, 'Module'),
      h('dd', { id: 'module-id' }, doc.moduleId),
      h('dt', {}, 'Checked at'),
      h('dd', { id: 'checked-at' }, `${utcText(report.verifiedAt)}: ${outcome.atLabel}`),
      outcome.probe ? [h('dt', {}, 'Endpoint'), h('dd', {}, outcome.probe.endpoint)] : null,
    ),
    renderPcrTable(report.pcrs, false, doc.kind),
    report.chain.length > 0
      ? renderChain(chainOf(report), report.verifiedAt, outcome.atLabel)
      : h(
          'section',
          { class: 'chain' },
          h('h3', {}, 'Certificate chain'),
          h(
            'p',
            { class: 'note' },
            'No path to a trusted root could be built from the certificates in the document.',
          ),
        ),
    renderUserData(doc, outcome.probe),
    renderFreshness(
      { inDocument: doc.nonce, ...(outcome.probe ? { sent: outcome.probe.nonce } : {}) },
      doc.timestamp,
      new Date(),
      outcome.probe?.maxAgeMs,
      toHex,
    ),
    renderManifest(outcome.manifest),
    renderChecks(report),
  );
}
