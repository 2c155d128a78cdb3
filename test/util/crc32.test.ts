import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/util/bytes.js';
import { crc32 } from '../../src/util/crc32.js';

describe('crc32', () => {
  it('gives the CRC-32/ISO-HDLC check value', () => {
    expect(crc32(utf8('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('is incremental over any split', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 131 + 7) & 0xff);
    const whole = crc32(data);
    // node:zlib's gzip trailer carries the same CRC
    const gz = gzipSync(data);
    expect(whole).toBe(gz.readUInt32LE(gz.length - 8));
    for (const cut of [0, 1, 7, 8, 9, 500, 999, 1000]) {
      expect(crc32(data.subarray(cut), crc32(data.subarray(0, cut)))).toBe(whole);
    }
  });
});
