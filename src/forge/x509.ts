/**
 * @peculiar/x509 on demand. It and the reflect-metadata polyfill it needs cost about a quarter
 * of a second of CPU to load (the @peculiar/asn1-* schemas, tsyringe), several times the rest of
 * `enclave-verify/node`; only the code that writes certificates (the forge's test PKI and CRLs,
 * the demo enclave's TLS certificate) needs them, so they are loaded when that code first runs,
 * never by importing a package entry.
 */
import type * as X509 from '@peculiar/x509';

/** The @peculiar/x509 module, after installing the Reflect polyfill its decorators read. */
export type X509Module = typeof X509;

/**
 * Load @peculiar/x509 (reflect-metadata first: its dependency injection reads `Reflect` metadata
 * when its modules evaluate). The module system caches both, so later calls cost a lookup.
 *
 * @example
 * ```ts
 * const x509 = await loadX509();
 * const cert = new x509.X509Certificate(der);
 * ```
 */
export async function loadX509(): Promise<X509Module> {
  await import('reflect-metadata');
  return import('@peculiar/x509');
}
