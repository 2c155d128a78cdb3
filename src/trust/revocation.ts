/**
 * Revocation status of every certificate of a verified path, from the CRLs its issuers publish
 * (RFC 5280 6.3, for complete CRLs). For each certificate: the CRLs the caller supplied for its
 * issuer, else those named by its CRL Distribution Points (from the cache, the caller's store, or
 * the transport). A list counts only when it parses, names the certificate's issuer, is signed
 * by the issuer's key, covers the certificate (issuingDistributionPoint) and is valid at the
 * verification time. The outcome per certificate is `good`, `revoked`, `unavailable` (with the
 * reason and its code) or `not-applicable` (the trust anchor, or a certificate whose issuer names
 * no CRL: Nitro's instance CA and leaf live a day and three hours). The orchestrator decides what
 * a status means: revoked always fails, unavailable only when revocation is required.
 */
import { EnclaveVerifyError, type ErrorCode } from '../errors.js';
import { bytesEqual } from '../util/bytes.js';
import type { CertificateEntry } from './cache.js';
import { hasKeyUsage } from './certificate.js';
import { CRL_REASONS, decodeCrlInput, ecdsaDerToRaw, type ParsedCrl, parseCrl } from './crl.js';
import type { CrlCache } from './crl-cache.js';
import { crlDistributionPoints } from './crl-distribution-points.js';
import { type CrlTransport, DEFAULT_CRL_TIMEOUT_MS, fetchCrlTransport, MAX_CRL_BYTES } from './crl-fetch.js';
import type { CertificateRevocation, CrlUsed, RevocationOptions } from './revocation-status.js';

/** keyUsage bit of cRLSign (RFC 5280 4.2.1.3). */
const CRL_SIGN_BIT = 6;

interface Attempt {
  status: 'good' | 'revoked';
  crl: ParsedCrl;
  used: CrlUsed;
}

class Unusable extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

// WebCrypto's types want ArrayBuffer-backed views; copy only when a view sits on something else.
function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

async function signedBy(crl: ParsedCrl, issuer: CertificateEntry): Promise<boolean> {
  const key = await issuer.key();
  const raw = ecdsaDerToRaw(crl.signatureDer, 48);
  if (!key || !raw || !crl.signatureHash) return false;
  try {
    return await crypto.subtle.verify(
      { name: 'ECDSA', hash: crl.signatureHash },
      key,
      own(raw),
      own(crl.tbs),
    );
  } catch {
    return false;
  }
}

/**
 * Check one list against one certificate; throws {@link Unusable} with the reason, or answers.
 * `verified` remembers issuers already checked for this list (cached lists).
 */
async function evaluate(
  crl: ParsedCrl,
  cert: CertificateEntry,
  issuer: CertificateEntry,
  atMs: number,
  skewMs: number,
  url: string | undefined,
  verified: WeakSet<object> | undefined,
  onAuthentic?: () => Promise<void>,
): Promise<'good' | 'revoked'> {
  const where = url ? `the CRL at ${url}` : 'the CRL given';
  if (!bytesEqual(crl.issuerRaw, cert.cert.issuerRaw)) {
    throw new Unusable('ERR_CRL_INVALID', `${where} is issued by another CA than '${cert.cert.issuer}'`);
  }
  if (!crl.signatureHash) {
    throw new Unusable('ERR_CRL_INVALID', `${where} is signed with ${crl.signatureAlgorithm}, not ECDSA`);
  }
  // RFC 5280 6.3.3 (f): a key that may sign CRLs says so in its keyUsage.
  if (issuer.cert.keyUsage && !hasKeyUsage(issuer.cert, CRL_SIGN_BIT)) {
    throw new Unusable(
      'ERR_CRL_INVALID',
      `'${issuer.cert.subject}' may not sign CRLs (its keyUsage lacks cRLSign)`,
    );
  }
  if (!verified?.has(issuer)) {
    if (!(await signedBy(crl, issuer))) {
      throw new Unusable(
        'ERR_CRL_SIGNATURE',
        `${where} is not signed by the key of '${issuer.cert.subject}'`,
      );
    }
    verified?.add(issuer);
  }
  // Authentic from here on: worth remembering even if it does not fit this verification's time.
  await onAuthentic?.();
  if (crl.unusable.length > 0)
    throw new Unusable('ERR_CRL_INVALID', `${where} cannot be used: ${crl.unusable.join('; ')}`);
  const idp = crl.issuingDistributionPoint;
  const isCa = cert.cert.basicConstraints?.ca === true;
  if (idp && ((idp.onlyUserCerts && isCa) || (idp.onlyCaCerts && !isCa))) {
    throw new Unusable(
      'ERR_CRL_INVALID',
      `${where} does not cover ${isCa ? 'CA' : 'end-entity'} certificates`,
    );
  }
  if (idp && url && idp.uris.length > 0 && !idp.uris.includes(url)) {
    throw new Unusable(
      'ERR_CRL_INVALID',
      `${where} is the list of another distribution point (${idp.uris[0]})`,
    );
  }
  if (crl.nextUpdateMs === undefined) {
    throw new Unusable('ERR_CRL_INVALID', `${where} has no nextUpdate, so it cannot be known to be current`);
  }
  if (atMs + skewMs < crl.thisUpdateMs) {
    throw new Unusable(
      'ERR_CRL_OUTDATED',
      `${where} was issued at ${iso(crl.thisUpdateMs)}, after the verification time ${iso(atMs)}; for an audit give the list valid then (--crl)`,
    );
  }
  if (atMs > crl.nextUpdateMs) {
    throw new Unusable(
      'ERR_CRL_OUTDATED',
      `${where} expired at its nextUpdate ${iso(crl.nextUpdateMs)}, before the verification time ${iso(atMs)}`,
    );
  }
  return crl.revoked.has(cert.cert.serialHex) ? 'revoked' : 'good';
}

function used(crl: ParsedCrl, source: CrlUsed['source'], url?: string): CrlUsed {
  return {
    ...(url ? { url } : {}),
    source,
    thisUpdate: new Date(crl.thisUpdateMs),
    nextUpdate: new Date(crl.nextUpdateMs ?? Number.NaN),
    ...(crl.crlNumberHex ? { number: crl.crlNumberHex } : {}),
    entries: crl.revoked.size,
  };
}

interface Context {
  atMs: number;
  skewMs: number;
  options: RevocationOptions;
  memory: CrlCache | undefined;
  given: ParsedCrl[];
  transport: CrlTransport;
  now: () => number;
}

/** Get the list at `url` from memory, the store, or the network; throws Unusable. */
async function obtain(
  url: string,
  ctx: Context,
): Promise<{
  crl: ParsedCrl;
  source: CrlUsed['source'];
  verified: WeakSet<object> | undefined;
  fresh: boolean;
}> {
  const hit = ctx.memory?.get(url, ctx.now());
  if (hit) return { crl: hit.crl, source: 'cache', verified: hit.verifiedBy, fresh: false };
  const stored = await ctx.options.store?.get(url).catch(() => undefined);
  if (stored) {
    try {
      const crl = parseCrl(stored);
      if (ctx.now() <= (crl.nextUpdateMs ?? Number.NEGATIVE_INFINITY)) {
        return { crl, source: 'store', verified: undefined, fresh: true };
      }
    } catch {
      // A damaged cache file is ignored and downloaded again.
    }
  }
  if (ctx.options.fetch === false) {
    throw new Unusable('ERR_HTTP', `the CRL at ${url} is not cached and downloading is off`);
  }
  const timeoutMs = ctx.options.timeoutMs ?? DEFAULT_CRL_TIMEOUT_MS;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`timeout after ${timeoutMs} ms`)), timeoutMs);
  let bytes: Uint8Array;
  try {
    // Raced with the timeout too, so a transport that ignores its signal cannot hang the check.
    const aborted = new Promise<never>((_, reject) =>
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }),
    );
    bytes = await Promise.race([
      ctx.transport({ url, signal: controller.signal, maxBytes: ctx.options.maxCrlBytes ?? MAX_CRL_BYTES }),
      aborted,
    ]);
  } catch (e) {
    if (controller.signal.aborted) {
      throw new Unusable('ERR_TIMEOUT', `the CRL at ${url} did not arrive within ${timeoutMs} ms`);
    }
    if (e instanceof EnclaveVerifyError) throw new Unusable(e.code, e.message);
    throw new Unusable('ERR_HTTP', `cannot fetch the CRL at ${url}: ${(e as Error)?.message ?? String(e)}`);
  } finally {
    clearTimeout(timer);
  }
  try {
    // Some servers send PEM; one list per URL.
    return { crl: parseCrl(decodeCrlInput(bytes)[0]!), source: 'download', verified: undefined, fresh: true };
  } catch (e) {
    throw new Unusable('ERR_CRL_INVALID', `the CRL at ${url}: ${(e as Error).message}`);
  }
}

async function statusOf(
  cert: CertificateEntry,
  issuer: CertificateEntry,
  ctx: Context,
): Promise<CertificateRevocation> {
  const base = { subject: cert.cert.subject, serial: cert.cert.serialHex };
  let urls: string[] = [];
  const reasons: Array<{ code: ErrorCode; message: string }> = [];
  try {
    const dp = crlDistributionPoints(cert.cert.der);
    urls = dp.urls;
    for (const s of dp.skipped) reasons.push({ code: 'ERR_CRL_INVALID', message: `skipped ${s}` });
  } catch (e) {
    reasons.push({
      code: 'ERR_CHAIN_INVALID',
      message: `its CRL Distribution Points extension is malformed (${(e as Error).message})`,
    });
  }
  const attempts: Attempt[] = [];
  // Lists the caller gave for this issuer come first; the one with the latest thisUpdate that is
  // valid at the verification time decides.
  for (const crl of ctx.given.filter((c) => bytesEqual(c.issuerRaw, cert.cert.issuerRaw))) {
    try {
      const status = await evaluate(crl, cert, issuer, ctx.atMs, ctx.skewMs, undefined, undefined);
      attempts.push({ status, crl, used: used(crl, 'given') });
    } catch (e) {
      if (!(e instanceof Unusable)) throw e;
      reasons.push({ code: e.code, message: e.message });
    }
  }
  if (attempts.length === 0) {
    for (const url of urls) {
      try {
        const got = await obtain(url, ctx);
        const verified = got.verified ?? new WeakSet<object>();
        // Remember only lists signed by the issuer, until their nextUpdate.
        const remember = async () => {
          if (!got.fresh || got.crl.nextUpdateMs === undefined) return;
          ctx.memory?.set(url, got.crl).verifiedBy.add(issuer);
          if (got.source === 'download')
            await ctx.options.store?.put(url, got.crl.der, got.crl.nextUpdateMs).catch(() => {});
        };
        const status = await evaluate(got.crl, cert, issuer, ctx.atMs, ctx.skewMs, url, verified, remember);
        attempts.push({ status, crl: got.crl, used: used(got.crl, got.source, url) });
        if (status === 'revoked') break;
      } catch (e) {
        if (!(e instanceof Unusable)) throw e;
        reasons.push({ code: e.code, message: e.message });
      }
    }
  }
  const revoked = attempts.find((a) => a.status === 'revoked');
  if (revoked) {
    const entry = revoked.crl.revoked.get(cert.cert.serialHex)!;
    return {
      ...base,
      status: 'revoked',
      code: 'ERR_CERT_REVOKED',
      urls,
      crl: revoked.used,
      revokedAt: new Date(entry.revokedAtMs),
      ...(entry.reason !== undefined
        ? { revocationReason: CRL_REASONS[entry.reason] ?? `reason ${entry.reason}` }
        : {}),
    };
  }
  const best = attempts.sort((a, b) => b.crl.thisUpdateMs - a.crl.thisUpdateMs)[0];
  if (best) return { ...base, status: 'good', urls, crl: best.used };
  if (reasons.length === 0) {
    return { ...base, status: 'not-applicable', reason: 'names no CRL distribution point', urls };
  }
  return {
    ...base,
    status: 'unavailable',
    reason: reasons.map((r) => r.message).join('; '),
    code: reasons[0]!.code,
    urls,
  };
}

/**
 * The revocation status of each certificate of `path` (leaf first, trust anchor last) at `atMs`.
 * Never throws for a failed download or a bad list (that is an `unavailable` status); throws
 * `ERR_CRL_INVALID` only when a CRL the caller supplied is not a CRL at all.
 *
 * @example
 * ```ts
 * const statuses = await checkPathRevocation(path, Date.now(), { require: false }, cache.crls);
 * statuses.map((s) => s.status); // ['not-applicable', 'not-applicable', 'good', 'good', 'not-applicable']
 * ```
 */
export async function checkPathRevocation(
  path: readonly CertificateEntry[],
  atMs: number,
  options: RevocationOptions,
  memory?: CrlCache,
  clockSkewMs = 0,
): Promise<CertificateRevocation[]> {
  const given = (options.crls ?? []).flatMap((bytes) => decodeCrlInput(bytes)).map((der) => parseCrl(der));
  const ctx: Context = {
    atMs,
    skewMs: clockSkewMs,
    options,
    memory,
    given,
    transport: options.transport ?? fetchCrlTransport(),
    now: options.now ?? Date.now,
  };
  // Certificates are independent: their lists are fetched concurrently.
  const statuses = path.map((cert, i) => {
    const issuer = path[i + 1];
    if (!issuer) {
      return Promise.resolve<CertificateRevocation>({
        subject: cert.cert.subject,
        serial: cert.cert.serialHex,
        status: 'not-applicable',
        reason: 'trust anchor (trusted as configured, not by a CRL)',
        urls: [],
      });
    }
    return statusOf(cert, issuer, ctx);
  });
  return Promise.all(statuses);
}
