/**
 * CRLs issued by a test PKI's CAs, for the revocation tests: a good list, lists revoking a leaf
 * or an intermediate, expired lists, lists signed by the wrong key. Written with @peculiar/x509
 * (as the certificates are), so the verifier's own CRL reader is checked against an independent
 * writer.
 */
import type * as X509 from '@peculiar/x509';
import type { TestCertificate } from './pki.js';
import { loadX509 } from './x509.js';

/** One certificate to list as revoked. */
export interface TestRevocation {
  /** The certificate (its serial is read from it). */
  certificate: TestCertificate | Uint8Array;
  /** revocationDate; default the list's thisUpdate. */
  at?: Date;
  /** CRLReason code (1 keyCompromise, 2 cACompromise, ...). */
  reason?: number;
}

/** Options of {@link issueTestCrl}. */
export interface TestCrlOptions {
  /** Default: now. */
  thisUpdate?: Date;
  /** Default: thisUpdate + 7 days; `null` omits it. */
  nextUpdate?: Date | null;
  revoked?: TestRevocation[];
  /** Sign with this key instead of the issuer's (a forged list). */
  signingKey?: CryptoKey;
  /** Signature hash; default SHA-384 as AWS's CAs sign. */
  hash?: 'SHA-256' | 'SHA-384' | 'SHA-512';
  /** Extra CRL extensions (e.g. a critical unknown one): OID, criticality, DER of the value. */
  extensions?: Array<{ oid: string; critical: boolean; value: Uint8Array }>;
}

const DAY = 86_400_000;

/**
 * A DER CRL issued by `issuer` (a CA of a test PKI), with its exact subject as the CRL issuer.
 *
 * @example
 * ```ts
 * const crl = await issueTestCrl(pki.zonal, { revoked: [{ certificate: pki.instance, reason: 1 }] });
 * ```
 */
export async function issueTestCrl(
  issuer: TestCertificate,
  options: TestCrlOptions = {},
): Promise<Uint8Array> {
  const x509 = await loadX509();
  x509.cryptoProvider.set(crypto);
  const thisUpdate = new Date(Math.floor((options.thisUpdate ?? new Date()).getTime() / 1000) * 1000);
  const nextUpdate =
    options.nextUpdate === null
      ? undefined
      : (options.nextUpdate ?? new Date(thisUpdate.getTime() + 7 * DAY));
  const crl = await x509.X509CrlGenerator.create({
    issuer: new x509.X509Certificate(new Uint8Array(issuer.der)).subjectName,
    thisUpdate,
    ...(nextUpdate ? { nextUpdate } : {}),
    signingKey: options.signingKey ?? issuer.keys.privateKey,
    signingAlgorithm: { name: 'ECDSA', hash: options.hash ?? 'SHA-384' } as EcdsaParams,
    // Plain data in the options, so this entry's types do not expose @peculiar/x509's.
    extensions: (options.extensions ?? []).map(
      (e) => new x509.Extension(e.oid, e.critical, new Uint8Array(e.value)),
    ),
    entries: (options.revoked ?? []).map((r) => {
      const der = r.certificate instanceof Uint8Array ? r.certificate : r.certificate.der;
      return {
        serialNumber: new x509.X509Certificate(new Uint8Array(der)).serialNumber,
        revocationDate: r.at ?? thisUpdate,
        ...(r.reason !== undefined ? { reason: r.reason as X509.X509CrlReason } : {}),
      };
    }),
  });
  return new Uint8Array(crl.rawData);
}
