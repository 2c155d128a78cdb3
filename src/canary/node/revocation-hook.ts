/**
 * Certificate revocation for the monitor (`canary watch --check-revocation`): an
 * {@link EvidenceHook} that checks the chain of evidence that passed every other check against
 * its issuers' CRLs at the probe's time. Canary's reasons have no word for revocation, so a
 * revoked certificate (or, with `require`, a status that could not be learnt) fails the probe as
 * INVALID_CERTIFICATE_CHAIN, and the log says which certificate and why.
 */

import type { ChainCache } from '../../trust/cache.js';
import type { RevocationOptions } from '../../trust/revocation-status.js';
import { describeRevocation } from '../../trust/revocation-status.js';
import type { TrustedRootInput } from '../../trust/roots.js';
import { checkAttestation } from '../../verify.js';
import type { EvidenceHook } from './monitor.js';

/** Options of {@link revocationEvidenceHook}. */
export interface RevocationHookOptions {
  checkRevocation: RevocationOptions;
  trustedRoots?: readonly TrustedRootInput[];
  /** Shared across probes, so each CRL is fetched once per publication period. */
  cache?: ChainCache;
  /** One line per failed or incomplete revocation check. */
  log?: (line: string) => void;
}

/**
 * The hook: undefined (keep the verdict) when no certificate is revoked, else the reason.
 *
 * @example
 * ```ts
 * await CanaryMonitor.start({ ...options, evidenceHook: revocationEvidenceHook({ checkRevocation: { require: true } }) });
 * ```
 */
export function revocationEvidenceHook(options: RevocationHookOptions): EvidenceHook {
  return async (document, result) => {
    const report = await checkAttestation(document, {
      ...(options.trustedRoots ? { trustedRoots: options.trustedRoots } : {}),
      currentDate: result.attemptedAt,
      checkRevocation: options.checkRevocation,
      ...(options.cache ? { cache: options.cache } : {}),
    });
    const notGood = (report.revocation ?? []).filter(
      (s) => s.status === 'revoked' || s.status === 'unavailable',
    );
    for (const s of notGood) options.log?.(`revocation: '${s.subject}' ${describeRevocation(s)}`);
    const code = report.error?.code;
    return code === 'ERR_CERT_REVOKED' || code === 'ERR_REVOCATION_UNAVAILABLE'
      ? 'INVALID_CERTIFICATE_CHAIN'
      : undefined;
  };
}
