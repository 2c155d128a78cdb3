/**
 * SHA-384 through node:crypto (OpenSSL, several times faster than the pure version), in
 * the {@link Hasher} shape the measure module uses.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Hasher } from '../sha384.js';

class NodeSha384 implements Hasher {
  constructor(private readonly h: Hash = createHash('sha384')) {}
  update(bytes: Uint8Array): void {
    this.h.update(bytes);
  }
  digest(): Uint8Array {
    return new Uint8Array(this.h.digest());
  }
  copy(): Hasher {
    return new NodeSha384(this.h.copy());
  }
}

/**
 * A SHA-384 hasher backed by node:crypto.
 *
 * @example
 * ```ts
 * const m = new PcrMeasurer(nodeSha384);
 * ```
 */
export function nodeSha384(): Hasher {
  return new NodeSha384();
}
