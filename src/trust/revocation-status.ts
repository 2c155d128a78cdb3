/**
 * The shapes of revocation checking (options, per-certificate status) and their one-line text,
 * apart from the checker itself (`revocation.ts`), which `verify.ts` loads only when revocation
 * is asked for: reports and the web page need these types, not the CRL reader and downloader.
 */
import type { ErrorCode } from '../errors.js';
import type { CrlStore } from './crl-cache.js';
import type { CrlTransport } from './crl-fetch.js';

/** Options of the revocation check (`VerifyOptions.checkRevocation`). */
export interface RevocationOptions {
  /** Fail with `ERR_REVOCATION_UNAVAILABLE` when any status is `unavailable`. Default false. */
  require?: boolean;
  /**
   * CRLs supplied by the caller (DER or PEM bytes), used before any download for certificates of
   * their issuer: audits of old evidence need the list that was valid at that time.
   */
  crls?: readonly Uint8Array[];
  /** Download CRLs named by the certificates. Default true; false uses only `crls` and caches. */
  fetch?: boolean;
  /** How to download; default {@link fetchCrlTransport}. */
  transport?: CrlTransport;
  /** A store that outlives the process (the CLI's cache directory). */
  store?: CrlStore;
  /** Timeout of one download, ms (default 10 s). */
  timeoutMs?: number;
  /** Largest CRL accepted, bytes (default 1 MiB). */
  maxCrlBytes?: number;
  /** Wall clock for cache expiry, for tests; default `Date.now`. */
  now?: () => number;
}

/** The status of one certificate. */
export type RevocationStatus = 'good' | 'revoked' | 'unavailable' | 'not-applicable';

/** Where the deciding CRL came from and its window. */
export interface CrlUsed {
  /** The distribution point URL, when the list came from one. */
  url?: string;
  source: 'download' | 'cache' | 'store' | 'given';
  thisUpdate: Date;
  nextUpdate: Date;
  /** CRL number (hex), when present. */
  number?: string;
  /** How many certificates the list revokes. */
  entries: number;
}

/** Revocation outcome of one certificate of the path (leaf first). */
export interface CertificateRevocation {
  subject: string;
  /** Serial number, hex. */
  serial: string;
  status: RevocationStatus;
  /** Why the status is `unavailable` or `not-applicable` (several reasons joined by "; "). */
  reason?: string;
  /** Code of the (first) failure when `unavailable`; `ERR_CERT_REVOKED` when `revoked`. */
  code?: ErrorCode;
  /** The distribution point URLs the certificate names. */
  urls: string[];
  /** The list that decided a `good` or `revoked` status. */
  crl?: CrlUsed;
  /** For `revoked`: when, and the CRLReason when given. */
  revokedAt?: Date;
  revocationReason?: string;
}

/**
 * One line per certificate for a check detail or log: `good`, `revoked at T`, `unavailable: why`.
 *
 * @example
 * ```ts
 * describeRevocation(status); // "good (CRL http://.../x.crl, this update 2025-...)"
 * ```
 */
export function describeRevocation(s: CertificateRevocation): string {
  switch (s.status) {
    case 'good':
      return `good (CRL ${s.crl?.url ?? 'given'}, issued ${s.crl?.thisUpdate.toISOString()}, next ${s.crl?.nextUpdate.toISOString()})`;
    case 'revoked':
      return `REVOKED at ${s.revokedAt?.toISOString()}${s.revocationReason ? ` (${s.revocationReason})` : ''} per CRL ${s.crl?.url ?? 'given'}`;
    case 'unavailable':
      return `unavailable [${s.code}]: ${s.reason}`;
    default:
      return `not applicable: ${s.reason}`;
  }
}
