/**
 * JSON forms of attestation documents and verification reports: plain objects with hex strings
 * and ISO times, stable enough for scripts (`enclave-verify verify --json`), the deployment
 * report and the web page.
 */
import { type AttestationDocument, type AttestationKind, PCR_FIELD } from '../parse/payload.js';
import { type ParsedCertificate, parseCertificate } from '../trust/certificate.js';
import { crlDistributionPoints } from '../trust/crl-distribution-points.js';
import type { CertificateRevocation } from '../trust/revocation-status.js';
import { decodeUtf8, toHex } from '../util/bytes.js';
import type { VerificationReport } from '../verify.js';

/** A document as JSON: hex bytes, ISO time, PCRs keyed by index. */
export interface DocumentJson {
  /** `enclave` or `nitrotpm`. */
  kind: AttestationKind;
  /** The payload key the PCRs came from: `pcrs` (enclave) or `nitrotpm_pcrs` (NitroTPM). */
  pcrsField: 'pcrs' | 'nitrotpm_pcrs';
  moduleId: string;
  digest: string;
  timestamp: string;
  timestampMs: number;
  pcrs: Record<string, string>;
  certificate: string;
  cabundle: string[];
  publicKey: string | null;
  userData: string | null;
  /** `userData` as text (or parsed JSON) when it is printable UTF-8. */
  userDataDecoded?: unknown;
  nonce: string | null;
}

function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true;
  }
  return false;
}

/**
 * Text, or parsed JSON, of a byte field when it is printable UTF-8; undefined otherwise.
 *
 * @example
 * ```ts
 * decodeTextField(new TextEncoder().encode('{"a":1}')); // { a: 1 }
 * ```
 */
export function decodeTextField(bytes: Uint8Array | undefined): unknown {
  if (!bytes || bytes.length === 0) return undefined;
  const text = decodeUtf8(bytes);
  // Printable means no control characters other than tab/newline/CR: binary that happens to be UTF-8 stays hex.
  if (text === undefined || hasControlCharacters(text)) return undefined;
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * The JSON form of a document.
 *
 * @example
 * ```ts
 * JSON.stringify(documentJson(decodeAttestation(bytes)));
 * ```
 */
export function documentJson(doc: AttestationDocument): DocumentJson {
  const out: DocumentJson = {
    kind: doc.kind,
    pcrsField: PCR_FIELD[doc.kind],
    moduleId: doc.moduleId,
    digest: doc.digest,
    timestamp: doc.timestamp.toISOString(),
    timestampMs: doc.timestampMs,
    pcrs: Object.fromEntries([...doc.pcrs].map(([i, v]) => [String(i), toHex(v)])),
    certificate: toHex(doc.certificate),
    cabundle: doc.cabundle.map(toHex),
    publicKey: doc.publicKey ? toHex(doc.publicKey) : null,
    userData: doc.userData ? toHex(doc.userData) : null,
    nonce: doc.nonce ? toHex(doc.nonce) : null,
  };
  const decoded = decodeTextField(doc.userData);
  if (decoded !== undefined) out.userDataDecoded = decoded;
  return out;
}

/** Report form of one certificate read without verification. */
export interface CertificateJson {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  /** http(s) URLs of the CRLs that would list this certificate (its issuer's), possibly none. */
  crlDistributionPoints: string[];
}

function certificateJson(c: ParsedCertificate): CertificateJson {
  let crls: string[];
  try {
    crls = crlDistributionPoints(c.der).urls;
  } catch (e) {
    crls = [`(malformed extension: ${(e as Error).message})`];
  }
  return {
    subject: c.subject,
    issuer: c.issuer,
    serial: c.serialHex,
    notBefore: new Date(c.notBeforeMs).toISOString(),
    notAfter: new Date(c.notAfterMs).toISOString(),
    crlDistributionPoints: crls,
  };
}

/**
 * The output of `enclave-verify inspect`: the document and its certificates, explicitly marked
 * UNVERIFIED. Certificates that do not parse are shown with their error instead.
 *
 * @example
 * ```ts
 * console.log(JSON.stringify(inspectJson(decodeAttestation(bytes)), null, 2));
 * ```
 */
export function inspectJson(doc: AttestationDocument): {
  unverified: true;
  warning: string;
  document: DocumentJson;
  certificates: Array<CertificateJson | { error: string }>;
} {
  const certs = [doc.certificate, ...[...doc.cabundle].reverse()].map((der, i) => {
    try {
      return certificateJson(
        parseCertificate(der, i === 0 ? 'certificate' : `cabundle[${doc.cabundle.length - i}]`),
      );
    } catch (e) {
      return { error: (e as Error).message };
    }
  });
  return {
    unverified: true,
    warning:
      'NOT VERIFIED: these fields are decoded as sent and may be forged. Run `enclave-verify verify` to check the chain, signature and PCRs.',
    document: documentJson(doc),
    certificates: certs,
  };
}

/** The `--json` output of `enclave-verify verify`. */
export interface VerificationJson {
  ok: boolean;
  code?: string;
  message?: string;
  /** The document's kind (`enclave` or `nitrotpm`); null when it could not be parsed. */
  kind: AttestationKind | null;
  /** False when no PCR was expected: only genuineness was checked, not which code runs. */
  pcrsChecked: boolean;
  verifiedAt: string | null;
  timeSource: string;
  debug: boolean;
  document: DocumentJson | null;
  checks: Array<{ name: string; ok: boolean; detail: string; code?: string }>;
  pcrs: Array<{
    index: number;
    actual: string | null;
    expected: string[];
    match: boolean | null;
    /** NitroTPM: the PCR holds its reset value (nothing measured); never matches an expectation. */
    unmeasured?: true;
  }>;
  chain: Array<{
    role: string;
    subject: string;
    issuer: string;
    serial: string;
    notBefore: string;
    notAfter: string;
    sha256: string;
  }>;
  /** With `checkRevocation`: per chain certificate, leaf first. */
  revocation?: RevocationJson[];
}

/** JSON form of one certificate's revocation status. */
export interface RevocationJson {
  subject: string;
  serial: string;
  status: string;
  reason?: string;
  code?: string;
  urls: string[];
  crl?: {
    url?: string;
    source: string;
    thisUpdate: string;
    nextUpdate: string;
    number?: string;
    entries: number;
  };
  revokedAt?: string;
  revocationReason?: string;
}

/**
 * JSON form of revocation statuses (dates as ISO text).
 *
 * @example
 * ```ts
 * revocationJson(report.revocation ?? []);
 * ```
 */
export function revocationJson(statuses: readonly CertificateRevocation[]): RevocationJson[] {
  return statuses.map(({ crl, revokedAt, ...rest }) => ({
    ...rest,
    ...(crl
      ? {
          crl: { ...crl, thisUpdate: crl.thisUpdate.toISOString(), nextUpdate: crl.nextUpdate.toISOString() },
        }
      : {}),
    ...(revokedAt ? { revokedAt: revokedAt.toISOString() } : {}),
  }));
}

/**
 * The JSON form of a verification report (`{ ok, code?, message?, document, checks, ... }`).
 *
 * @example
 * ```ts
 * const report = await checkAttestation(bytes, { expectedPcrs: { 0: pcr0Hex } });
 * ctx.stdout.write(`${JSON.stringify(verificationJson(report))}\n`);
 * ```
 */
export function verificationJson(report: VerificationReport): VerificationJson {
  const at = report.verifiedAt.getTime();
  return {
    ok: report.ok,
    ...(report.error ? { code: report.error.code, message: report.error.message } : {}),
    kind: report.document?.kind ?? null,
    pcrsChecked: report.pcrs.some((r) => r.match !== undefined),
    verifiedAt: Number.isNaN(at) ? null : report.verifiedAt.toISOString(),
    timeSource: report.timeSource,
    debug: report.debug,
    document: report.document ? documentJson(report.document) : null,
    checks: report.checks.map((c) => ({ ...c })),
    pcrs: report.pcrs.map((r) => ({
      index: r.index,
      actual: r.actual ?? null,
      expected: r.expected,
      match: r.match ?? null,
      ...(r.unmeasured ? { unmeasured: true as const } : {}),
    })),
    chain: report.chain.map((c) => ({
      ...c,
      notBefore: c.notBefore.toISOString(),
      notAfter: c.notAfter.toISOString(),
    })),
    ...(report.revocation ? { revocation: revocationJson(report.revocation) } : {}),
  };
}
