// The portable DEFLATE decoder and gzip member reader behind the kernel-style initramfs reader:
// zlib's own output decoded back byte for byte, with the exact number of input bytes used (what
// follows a member is the next member), and corrupt, truncated or oversized input refused.
import { createHash } from 'node:crypto';
import { constants, deflateRawSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inflateRaw } from '../../src/rebuild/gzip/inflate.js';
import { readGzipMember, readInitramfs } from '../../src/rebuild/initramfs.js';
import { readRamdiskBytes } from '../../src/rebuild/node/ramdisk-file.js';
import { crc32 } from '../../src/util/crc32.js';
import { codeOf } from '../support/errors.js';

/** `n` bytes, the same on every machine, compressible to a degree set by `text` (0..1). */
function sample(n: number, seed: number, text: number): Uint8Array {
  const out = new Uint8Array(n);
  let block = new Uint8Array(0);
  for (let i = 0; i < n; i++) {
    if (i % 32 === 0) block = createHash('sha256').update(`${seed}:${i}`).digest();
    const r = block[i % 32]!;
    out[i] = r < text * 256 ? 0x61 + (r % 7) : r;
  }
  return out;
}

const STRATEGIES = [
  constants.Z_DEFAULT_STRATEGY,
  constants.Z_FIXED,
  constants.Z_HUFFMAN_ONLY,
  constants.Z_RLE,
];

describe('inflateRaw', () => {
  it('decodes what zlib writes at every level and strategy, and says where the stream ends', () => {
    let cases = 0;
    for (const n of [0, 1, 100, 5000, 70_000, 300_000]) {
      for (let level = 0; level <= 9; level += 3) {
        for (const strategy of STRATEGIES) {
          const data = sample(n, n + level, (level + 1) / 12);
          const stream = deflateRawSync(data, { level, strategy });
          const followed = new Uint8Array([...stream, 0x1f, 0x8b, 0, 0]);
          const { out, consumed } = inflateRaw(followed, 1 << 30, 'x');
          expect(consumed).toBe(stream.length);
          expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);
          cases++;
        }
      }
    }
    expect(cases).toBe(96);
  });

  it('refuses truncated, corrupt and oversized streams with ERR_ARCHIVE_MALFORMED', () => {
    const data = sample(50_000, 7, 0.5);
    const stream = new Uint8Array(deflateRawSync(data));
    expect(() => inflateRaw(stream.subarray(0, stream.length - 3), 1 << 30, 'cut.gz')).toThrow(
      /^cut\.gz: gzip data is corrupt \(the stream ends early\)$/,
    );
    expect(codeOf(() => inflateRaw(new Uint8Array([0x07]), 100, 'x'))).toBe('ERR_ARCHIVE_MALFORMED'); // block type 3
    // A stored block whose length check fails.
    expect(() => inflateRaw(new Uint8Array([0x01, 5, 0, 5, 0]), 100, 'x')).toThrow(
      /stored block length check/,
    );
    // A match reaching before the start of the output (fixed code: length 3, distance 1).
    expect(() => inflateRaw(new Uint8Array([0x03, 0x02, 0x00]), 100, 'x')).toThrow(/before the start/);
    expect(() => inflateRaw(stream, 49_999, 'big.gz')).toThrow(
      /^big\.gz: gzip stream expands beyond 49999 bytes; refusing it/,
    );
    expect(inflateRaw(stream, 50_000, 'x').out.length).toBe(50_000);
    // Every single-byte corruption is either decoded to something or refused with the code.
    for (let i = 0; i < Math.min(stream.length, 400); i++) {
      const bad = stream.slice();
      bad[i] = bad[i]! ^ 0x5a;
      expect(['accepted', 'ERR_ARCHIVE_MALFORMED']).toContain(codeOf(() => inflateRaw(bad, 1 << 20, 'x')));
    }
  });
});

describe('readGzipMember', () => {
  it('honours the header fields zlib writes (extra, name, comment, header CRC) and checks the trailer', () => {
    const data = sample(3000, 1, 0.8);
    const raw = deflateRawSync(data);
    const head = [0x1f, 0x8b, 8, 2 | 4 | 8 | 16, 0, 0, 0, 0, 0, 3, 3, 0, 1, 2, 3, 0x61, 0, 0x62, 0x63, 0];
    const hcrc = crc32(new Uint8Array(head)) & 0xffff;
    const le = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
    const member = new Uint8Array([
      ...head,
      hcrc & 0xff,
      hcrc >> 8,
      ...raw,
      ...le(crc32(data)),
      ...le(data.length),
    ]);
    const { out, consumed } = readGzipMember(new Uint8Array([...member, 0, 0]), 0, 'm.gz', 1 << 20);
    expect(consumed).toBe(member.length);
    expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);
    const badCrc = member.slice();
    badCrc[member.length - 8]! ^= 1;
    expect(() => readGzipMember(badCrc, 0, 'm.gz', 1 << 20)).toThrow(
      /^m\.gz, offset 0: gzip data is corrupt \(CRC-32 mismatch\)$/,
    );
    const badHeader = member.slice();
    badHeader[20]! ^= 1;
    expect(() => readGzipMember(badHeader, 0, 'm.gz', 1 << 20)).toThrow(/header CRC mismatch/);
    const reserved = member.slice();
    reserved[3] = 0x20;
    expect(() => readGzipMember(reserved, 0, 'm.gz', 1 << 20)).toThrow(/reserved header flags/);
  });

  it('the portable and the zlib decoders read the same initramfs to the same bytes and members', () => {
    const a = gzipSync(sample(10_000, 2, 0.9));
    const b = gzipSync(sample(20_000, 3, 0.2), { level: 1 });
    const bytes = new Uint8Array([...a, ...b, 0, 0, 0, 0, ...gzipSync(new Uint8Array(0))]);
    const portable = readInitramfs(bytes, 'x');
    const zlib = readRamdiskBytes(bytes, 'x');
    expect(portable.members).toEqual([
      { offset: 0, gzip: true, size: a.length },
      { offset: a.length, gzip: true, size: b.length },
      { offset: a.length + b.length + 4, gzip: true, size: 20 },
    ]);
    expect(zlib.members).toEqual(portable.members);
    expect(Buffer.from(zlib.cpio).equals(Buffer.from(portable.cpio))).toBe(true);
    expect(portable.cpio.length).toBe(30_000);
  });
});
