/**
 * CRLs remembered by URL until their nextUpdate, so documents of the same enclave (same zonal and
 * regional CAs) fetch each list once per publication period. Only lists that parsed are kept, and
 * the issuers whose signature over a list was verified are remembered with it; every use still
 * checks the list against the certificate at hand and the verification time.
 */
import type { ParsedCrl } from './crl.js';

/** A cached CRL and the issuers (certificate entries) that were verified to have signed it. */
export interface CachedCrl {
  url: string;
  crl: ParsedCrl;
  verifiedBy: WeakSet<object>;
}

/**
 * Where CRLs outlive one process (the CLI's cache directory). Implementations return the bytes
 * as stored; the caller parses and verifies them again, so a tampered store can only make a
 * status unavailable, never good.
 */
export interface CrlStore {
  /** The stored CRL for `url`, or undefined. */
  get(url: string): Promise<Uint8Array | undefined>;
  /** Remember `der` for `url` until `nextUpdateMs`. */
  put(url: string, der: Uint8Array, nextUpdateMs: number): Promise<void>;
}

/**
 * In-memory CRLs by URL, bounded, dropped once their nextUpdate has passed. Held by `ChainCache`
 * (`cache.crls`), so pass a `ChainCache` to share it across verifications.
 *
 * @example
 * ```ts
 * const cache = new ChainCache();
 * await verifyAttestation(doc, { cache, expectedPcrs, checkRevocation: true });
 * cache.crls.size; // 2 (the zonal and regional CAs' lists)
 * ```
 */
export class CrlCache {
  private readonly byUrl = new Map<string, CachedCrl>();

  /**
   * @example
   * ```ts
   * new CrlCache(32);
   * ```
   */
  constructor(private readonly maxEntries = 64) {}

  /** Number of lists held. @example cache.crls.size */
  get size(): number {
    return this.byUrl.size;
  }

  /**
   * The list for `url` if it is still current at `nowMs` (wall clock), else undefined.
   *
   * @example
   * ```ts
   * const hit = crls.get(url, Date.now());
   * ```
   */
  get(url: string, nowMs: number): CachedCrl | undefined {
    const hit = this.byUrl.get(url);
    if (hit && !(nowMs <= (hit.crl.nextUpdateMs ?? Number.NEGATIVE_INFINITY))) {
      this.byUrl.delete(url);
      return undefined;
    }
    return hit;
  }

  /**
   * Remember a parsed list for `url` (replacing an older one); returns the entry.
   *
   * @example
   * ```ts
   * const entry = crls.set(url, parseCrl(der));
   * ```
   */
  set(url: string, crl: ParsedCrl): CachedCrl {
    const entry: CachedCrl = { url, crl, verifiedBy: new WeakSet() };
    this.byUrl.delete(url);
    this.byUrl.set(url, entry);
    while (this.byUrl.size > this.maxEntries) this.byUrl.delete(this.byUrl.keys().next().value!);
    return entry;
  }

  /** Forget every list. @example cache.crls.clear() */
  clear(): void {
    this.byUrl.clear();
  }
}
