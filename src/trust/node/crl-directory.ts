/**
 * The CLI's CRL cache directory: one file per URL (named by the SHA-256 of the URL), written
 * atomically. It only saves downloads: what is read back is parsed, checked for its nextUpdate and
 * verified against the issuer again, so a damaged or planted file can make a status unavailable or
 * cost a download, never make a revoked certificate good.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CrlStore } from '../crl-cache.js';
import { MAX_CRL_BYTES } from '../crl-fetch.js';

/**
 * A {@link CrlStore} in `dir` (created on first write).
 *
 * @example
 * ```ts
 * await verifyAttestation(doc, { expectedPcrs, checkRevocation: { store: crlDirectoryStore('/var/cache/ev/crl') } });
 * ```
 */
export function crlDirectoryStore(dir: string): CrlStore {
  const fileOf = (url: string) => join(dir, `${createHash('sha256').update(url).digest('hex')}.crl`);
  return {
    async get(url) {
      const file = fileOf(url);
      try {
        if ((await stat(file)).size > MAX_CRL_BYTES) return undefined;
        return new Uint8Array(await readFile(file));
      } catch {
        return undefined;
      }
    },
    async put(url, der) {
      // Expiry is read from the list itself (its nextUpdate) when it is used again.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = fileOf(url);
      const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(temp, der, { mode: 0o600 });
      await rename(temp, file);
    },
  };
}
