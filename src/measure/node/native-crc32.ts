/**
 * zlib's native CRC-32 (Node 20.15 and later), or the pure one on older Node 20 releases.
 */
import * as zlib from 'node:zlib';
import { crc32 as pureCrc32 } from '../../util/crc32.js';

const native = (zlib as { crc32?: (data: Uint8Array, seed?: number) => number }).crc32;

/**
 * CRC-32 of `data` continuing from `seed`, natively when the runtime has it.
 *
 * @example
 * ```ts
 * nativeCrc32(utf8('123456789'), 0).toString(16); // 'cbf43926'
 * ```
 */
export const nativeCrc32: (data: Uint8Array, seed: number) => number =
  typeof native === 'function' ? (data, seed) => native(data, seed) : pureCrc32;
