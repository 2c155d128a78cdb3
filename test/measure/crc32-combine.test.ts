import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { crc32Combine } from '../../src/measure/crc32-combine.js';
import { utf8 } from '../../src/util/bytes.js';
import { crc32 } from '../../src/util/crc32.js';

describe('crc32Combine', () => {
  test('the check value split anywhere', () => {
    const all = utf8('123456789');
    for (let i = 0; i <= all.length; i++) {
      const a = all.subarray(0, i);
      const b = all.subarray(i);
      expect(crc32Combine(crc32(a), crc32(b), b.length).toString(16)).toBe('cbf43926');
    }
  });
  test('random pieces of many lengths, chained', () => {
    let seed = 7;
    const data = Uint8Array.from({ length: 70_000 }, () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed >> 16;
    });
    const cuts = [0, 1, 2, 3, 100, 127, 128, 129, 4096, 33_333, 69_999, 70_000];
    let running = 0;
    for (let i = 0; i + 1 < cuts.length; i++) {
      const piece = data.subarray(cuts[i]!, cuts[i + 1]!);
      running = crc32Combine(running, zlibCrc32(piece), piece.length);
    }
    expect(running).toBe(zlibCrc32(data));
  });
  test('lengths beyond 2^32: all at once equals two halves', () => {
    // CRC of 2^k zero bytes by doubling: Z(2L) = combine(Z(L), Z(L), L).
    const zeros = (k: number) => {
      let c = zlibCrc32(new Uint8Array(1));
      for (let i = 0, l = 1; i < k; i++, l *= 2) c = crc32Combine(c, c, l);
      return c;
    };
    const a = crc32(utf8('a'));
    const whole = crc32Combine(a, zeros(33), 2 ** 33);
    const halves = crc32Combine(crc32Combine(a, zeros(32), 2 ** 32), zeros(32), 2 ** 32);
    expect(whole).toBe(halves);
    expect(zeros(4)).toBe(zlibCrc32(new Uint8Array(16)));
  });
});
