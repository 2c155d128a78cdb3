/**
 * Per-certificate memo of the expensive steps (DER parsing, key import, signature checks of
 * certificate links), keyed by the certificate bytes. Only facts that cannot change for the same
 * bytes are remembered; validity against the verification time is re-checked on every call.
 */
import { bytesEqual, toHex } from '../util/bytes.js';
import { type ParsedCertificate, parseCertificate } from './certificate.js';
import { CrlCache } from './crl-cache.js';
import { type Es384Verifier, importP384Key, verifyEs384 } from './ecdsa.js';
import { sha256Sync } from './fingerprint.js';

/** Outcome of checking one certificate link: verified, or why not. */
export type LinkResult = 'verified' | 'issuer-key-unusable' | 'bad-signature';

/**
 * A certificate with its lazily computed key, fingerprint and verified issuer links.
 *
 * @example
 * ```ts
 * const entry = new ChainCache().entry(doc.certificate);
 * const key = await entry.key();
 * ```
 */
export class CertificateEntry {
  private keyPromise: Promise<CryptoKey | undefined> | undefined;
  private fingerprintHex: string | undefined;
  /** Issuers whose signature over this certificate has been verified. */
  readonly verifiedIssuers = new Set<CertificateEntry>();
  // One check per issuer, shared by everyone who asks (also while it is still running), so
  // concurrent verifications of documents from the same enclave never repeat a link.
  private readonly links = new Map<CertificateEntry, Promise<LinkResult>>();

  /**
   * @example
   * ```ts
   * const entry = new CertificateEntry(parseCertificate(der));
   * ```
   *
   * @param verify checks the signatures made over this certificate by its issuers (WebCrypto
   *   unless the cache that made the entry was given another verifier).
   */
  constructor(
    readonly cert: ParsedCertificate,
    readonly verify: Es384Verifier = verifyEs384,
  ) {}

  /** The public key imported for ES384 verification (undefined when unusable). @example await entry.key() */
  key(): Promise<CryptoKey | undefined> {
    this.keyPromise ??= importP384Key(this.cert.spki, this.cert.publicKeyPoint);
    return this.keyPromise;
  }

  /**
   * Whether `issuer`'s key signed this certificate (ES384 over the TBS bytes). Started at most once
   * per issuer; never rejects, so callers may start it early and look at the answer later.
   *
   * @example
   * ```ts
   * if ((await leaf.issuedBy(instanceCa)) === 'verified') console.log('link holds');
   * ```
   */
  issuedBy(issuer: CertificateEntry): Promise<LinkResult> {
    let result = this.links.get(issuer);
    if (!result) {
      result = this.checkLink(issuer);
      this.links.set(issuer, result);
    }
    return result;
  }

  private async checkLink(issuer: CertificateEntry): Promise<LinkResult> {
    const key = await issuer.key();
    if (!key) return 'issuer-key-unusable';
    const sig = this.cert.signatureRaw;
    if (!sig || !(await this.verify(key, sig, this.cert.tbs))) return 'bad-signature';
    this.verifiedIssuers.add(issuer);
    return 'verified';
  }

  /** SHA-256 of the DER, lowercase hex. @example entry.fingerprint() */
  fingerprint(): string {
    this.fingerprintHex ??= toHex(sha256Sync(this.cert.der));
    return this.fingerprintHex;
  }
}

// FNV-1a over the bytes: a cheap bucket index; equality is always confirmed byte for byte.
function hashBytes(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * Remembers certificates and verified certificate links across calls to `verifyAttestation`, so
 * that documents from the same enclave only pay for their own COSE signature. Pass it explicitly as
 * `options.cache`; nothing is cached without it. Validity periods are still checked at each call's
 * verification time. Bounded: the oldest certificates are dropped beyond `maxCertificates`.
 *
 * @example
 * ```ts
 * const cache = new ChainCache();
 * for (const doc of docs) await verifyAttestation(doc, { cache, expectedPcrs });
 * ```
 */
export class ChainCache {
  private readonly buckets = new Map<number, CertificateEntry[]>();
  private readonly order: Array<[number, CertificateEntry]> = [];
  private readonly maxCertificates: number;
  /** How this cache's certificates and the documents verified with it check ES384 signatures. */
  readonly verifyEs384: Es384Verifier;
  /** CRLs by URL until their nextUpdate (used by `checkRevocation`). */
  readonly crls = new CrlCache();

  /**
   * @example
   * ```ts
   * new ChainCache({ maxCertificates: 100 });
   * new ChainCache({ verifyEs384: nodeEs384Verifier }); // from 'enclave-verify/node'
   * ```
   *
   * @param options.maxCertificates certificates remembered before the oldest are dropped (1000).
   * @param options.verifyEs384 the ES384 check for certificate links and COSE signatures verified
   *   through this cache; WebCrypto by default. The same keys, bytes and answers, only faster
   *   where a runtime has a synchronous call (no thread-pool round trip per signature).
   */
  constructor(options: { maxCertificates?: number; verifyEs384?: Es384Verifier } = {}) {
    this.maxCertificates = Math.max(1, options.maxCertificates ?? 1000);
    this.verifyEs384 = options.verifyEs384 ?? verifyEs384;
  }

  /** Number of certificates remembered. @example cache.size */
  get size(): number {
    return this.order.length;
  }

  /** Forget everything. @example cache.clear() */
  clear(): void {
    this.buckets.clear();
    this.order.length = 0;
    this.crls.clear();
  }

  /**
   * The entry for `der`, parsed once. Throws `ERR_CHAIN_INVALID` for malformed DER.
   *
   * @example
   * ```ts
   * const entry = cache.entry(doc.certificate, 'certificate');
   * ```
   */
  entry(der: Uint8Array, what?: string): CertificateEntry {
    const h = hashBytes(der);
    const bucket = this.buckets.get(h);
    if (bucket) {
      for (const e of bucket) if (bytesEqual(e.cert.der, der)) return e;
    }
    const e = new CertificateEntry(parseCertificate(der.slice(), what), this.verifyEs384);
    if (bucket) bucket.push(e);
    else this.buckets.set(h, [e]);
    this.order.push([h, e]);
    while (this.order.length > this.maxCertificates) {
      const [oh, old] = this.order.shift()!;
      const b = this.buckets.get(oh);
      const rest = b?.filter((x) => x !== old) ?? [];
      if (rest.length) this.buckets.set(oh, rest);
      else this.buckets.delete(oh);
    }
    return e;
  }
}
