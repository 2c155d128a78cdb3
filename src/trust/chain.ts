/**
 * Certificate chain of an attestation document (SPEC 1.3): build the path from the leaf through
 * the `cabundle` to a trusted root, then check every rule explicitly, each step its own function so
 * the verifier can report them as separate checks.
 */
import { EnclaveVerifyError } from '../errors.js';
import { bytesEqual } from '../util/bytes.js';
import type { CertificateEntry } from './cache.js';
import { hasKeyUsage, KEY_USAGE, type ParsedCertificate } from './certificate.js';

/** Longest path accepted: leaf, instance, zonal, regional, root, plus slack for future layers. */
export const MAX_CHAIN_LENGTH = 8;

/** A certificate of a verified chain, for reports. */
export interface ChainCertificate {
  /** Position: `leaf` signs the document, `root` is the trust anchor. */
  role: 'leaf' | 'intermediate' | 'root';
  subject: string;
  issuer: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER, lowercase hex. */
  sha256: string;
}

function chainError(
  code: 'ERR_CHAIN_INVALID' | 'ERR_CHAIN_UNTRUSTED',
  cert: ParsedCertificate,
  rule: string,
): EnclaveVerifyError {
  return new EnclaveVerifyError(code, `certificate '${cert.subject}' ${rule}`, {
    details: { subject: cert.subject },
  });
}

/**
 * Build `[leaf, ..., trusted root]`, matching each issuer name to a subject, preferring the trusted
 * roots over the bundle. Throws `ERR_CHAIN_UNTRUSTED` when no trusted root is reached.
 *
 * @example
 * ```ts
 * const path = buildPath(leaf, bundle, roots); // [leaf, instance, zonal, regional, AWS root]
 * ```
 */
export function buildPath(
  leaf: CertificateEntry,
  bundle: readonly CertificateEntry[],
  roots: readonly CertificateEntry[],
): { path: CertificateEntry[]; rootCandidates: CertificateEntry[] } {
  const path = [leaf];
  let current = leaf;
  while (path.length < MAX_CHAIN_LENGTH) {
    const issuerName = current.cert.issuerRaw;
    const rootCandidates = roots.filter((r) => bytesEqual(r.cert.subjectRaw, issuerName));
    if (rootCandidates.length > 0) return { path, rootCandidates };
    const next = bundle.find((b) => !path.includes(b) && bytesEqual(b.cert.subjectRaw, issuerName));
    if (!next) break;
    path.push(next);
    current = next;
  }
  throw new EnclaveVerifyError(
    'ERR_CHAIN_UNTRUSTED',
    `the certificate chain does not lead to a trusted root: no trusted root or cabundle certificate is named '${current.cert.issuer}'. ` +
      'Only the AWS Nitro root is trusted by default; pass the right root (--root) if this is a test PKI',
    { details: { issuer: current.cert.issuer } },
  );
}

/**
 * Check the static rules of every certificate in `path` (the last one is the trust anchor):
 * X.509 v3, ecdsa-with-SHA384, P-384 keys, no unknown critical extension, CA flags and keyUsage,
 * pathLen, leaf CA:FALSE with digitalSignature. Throws `ERR_CHAIN_INVALID`.
 *
 * @example
 * ```ts
 * checkPathConstraints([...path, root]);
 * ```
 */
export function checkPathConstraints(path: readonly CertificateEntry[]): void {
  path.forEach(({ cert }, i) => {
    const isLeaf = i === 0;
    const isAnchor = i === path.length - 1;
    if (cert.version !== 3)
      throw chainError('ERR_CHAIN_INVALID', cert, `is X.509 v${cert.version}, expected v3`);
    if (!cert.keyIsP384) throw chainError('ERR_CHAIN_INVALID', cert, 'does not have an EC P-384 public key');
    // The anchor's own signature is not checked (it is trusted as data), so its algorithm is not either.
    if (!isAnchor && !cert.signatureIsEcdsaSha384) {
      throw chainError(
        'ERR_CHAIN_INVALID',
        cert,
        `is signed with ${cert.signatureAlgorithm}, expected ecdsa-with-SHA384 (1.2.840.10045.4.3.3)`,
      );
    }
    if (cert.unknownCritical.length > 0) {
      throw chainError(
        'ERR_CHAIN_INVALID',
        cert,
        `has unknown critical extensions ${cert.unknownCritical.join(', ')}`,
      );
    }
    const bc = cert.basicConstraints;
    if (isLeaf) {
      if (!bc || bc.ca)
        throw chainError(
          'ERR_CHAIN_INVALID',
          cert,
          'is the signing certificate but lacks basicConstraints CA:FALSE',
        );
      if (!hasKeyUsage(cert, KEY_USAGE.digitalSignature)) {
        throw chainError(
          'ERR_CHAIN_INVALID',
          cert,
          'is the signing certificate but its keyUsage lacks digitalSignature',
        );
      }
      return;
    }
    if (!bc?.ca || !bc.critical) {
      throw chainError(
        'ERR_CHAIN_INVALID',
        cert,
        'issues certificates but lacks a critical basicConstraints CA:TRUE',
      );
    }
    if (!hasKeyUsage(cert, KEY_USAGE.keyCertSign)) {
      throw chainError('ERR_CHAIN_INVALID', cert, 'issues certificates but its keyUsage lacks keyCertSign');
    }
    // Intermediate CAs below this one: every certificate between it and the leaf.
    const below = i - 1;
    if (bc.pathLen !== undefined && below > bc.pathLen) {
      throw chainError(
        'ERR_CHAIN_INVALID',
        cert,
        `allows ${bc.pathLen} CAs below it (pathLen) but ${below} follow`,
      );
    }
  });
}

/**
 * Start checking every link's signature of `path` at once (child signed by the next certificate's
 * key). The answers are remembered on the entries, so {@link checkPathSignatures} later reads
 * them in path order; starting early only changes when the work runs, never what is reported.
 *
 * @example
 * ```ts
 * startPathSignatures(path); // while the constraints are checked
 * ```
 */
export function startPathSignatures(path: readonly CertificateEntry[]): void {
  for (let i = 0; i + 1 < path.length; i++) void path[i]!.issuedBy(path[i + 1]!);
}

/**
 * Verify each link's signature (child signed by the next certificate's key). All links run
 * concurrently; failures are reported in path order, leaf first, exactly as if they had run one
 * after another. A bad link to the trust anchor is `ERR_CHAIN_UNTRUSTED`, any other bad link
 * `ERR_CHAIN_INVALID`.
 *
 * @example
 * ```ts
 * await checkPathSignatures([...path, root]);
 * ```
 */
export async function checkPathSignatures(path: readonly CertificateEntry[]): Promise<void> {
  startPathSignatures(path);
  for (let i = 0; i + 1 < path.length; i++) {
    const child = path[i]!;
    const issuer = path[i + 1]!;
    const result = await child.issuedBy(issuer);
    if (result === 'issuer-key-unusable') {
      throw chainError('ERR_CHAIN_INVALID', issuer.cert, 'has a public key WebCrypto cannot import');
    }
    if (result === 'bad-signature') {
      const code = i + 2 === path.length ? 'ERR_CHAIN_UNTRUSTED' : 'ERR_CHAIN_INVALID';
      throw chainError(code, child.cert, `is not validly signed by '${issuer.cert.subject}'`);
    }
  }
}

/**
 * Among same-named trust anchors, the one whose key signed `child` (checked, and remembered).
 * Throws `ERR_CHAIN_UNTRUSTED` when none did.
 *
 * @example
 * ```ts
 * const root = await selectRoot(path.at(-1)!, rootCandidates);
 * ```
 */
export async function selectRoot(
  child: CertificateEntry,
  candidates: readonly CertificateEntry[],
): Promise<CertificateEntry> {
  if (candidates.length === 1) return candidates[0]!;
  const results = candidates.map((root) => child.issuedBy(root));
  for (let k = 0; k < candidates.length; k++) {
    if ((await results[k]) === 'verified') return candidates[k]!;
  }
  throw chainError('ERR_CHAIN_UNTRUSTED', child.cert, 'is not signed by any trusted root of that name');
}

/**
 * Check that `atMs` lies within every certificate's validity, bounds inclusive. Throws
 * `ERR_CERT_EXPIRED` (also for not-yet-valid certificates).
 *
 * @example
 * ```ts
 * checkPathValidity(path, Date.now());
 * ```
 */
export function checkPathValidity(path: readonly CertificateEntry[], atMs: number): void {
  for (const { cert } of path) {
    if (atMs < cert.notBeforeMs || atMs > cert.notAfterMs) {
      const when = new Date(atMs).toISOString();
      const range = `${new Date(cert.notBeforeMs).toISOString()} .. ${new Date(cert.notAfterMs).toISOString()}`;
      throw new EnclaveVerifyError(
        'ERR_CERT_EXPIRED',
        `certificate '${cert.subject}' is ${atMs < cert.notBeforeMs ? 'not yet valid' : 'expired'} at ${when} (valid ${range}). ` +
          'Nitro leaf certificates live 3 hours: to audit old evidence verify at the document time (--at document)',
        {
          details: {
            subject: cert.subject,
            at: when,
            notBefore: cert.notBeforeMs,
            notAfter: cert.notAfterMs,
          },
        },
      );
    }
  }
}

/**
 * Report form of a path.
 *
 * @example
 * ```ts
 * const chain = summarizePath(path);
 * ```
 */
export function summarizePath(path: readonly CertificateEntry[]): ChainCertificate[] {
  return path.map((entry, i) => {
    const summary = {
      role: i === 0 ? 'leaf' : i === path.length - 1 ? 'root' : 'intermediate',
      subject: entry.cert.subject,
      issuer: entry.cert.issuer,
      serial: entry.cert.serialHex,
      notBefore: new Date(entry.cert.notBeforeMs),
      notAfter: new Date(entry.cert.notAfterMs),
    } as ChainCertificate;
    // Hashed when first read (reports, JSON), not for callers that only want the verdict: five
    // SHA-256s in JavaScript are a few percent of a cold verification. Enumerable, so JSON, spread
    // and structured clone see it as a plain field.
    Object.defineProperty(summary, 'sha256', { get: () => entry.fingerprint(), enumerable: true });
    return summary;
  });
}
