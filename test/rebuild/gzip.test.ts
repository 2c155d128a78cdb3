/**
 * The busybox-compatible gzip writer against the real thing: busybox 1.37.0 built with
 * `make defconfig` (as StageX builds it). With ORACLE_BUSYBOX set (.ci/run) every case runs it
 * live; without, every case compares with the SHA-256 of its output recorded in
 * vectors/golden/gzip.json (see golden.ts). Every case also round-trips through node:zlib.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnclaveVerifyError } from '../../src/errors.js';
import { BusyboxGzipEncoder, gzipBusybox } from '../../src/rebuild/gzip/gzip.js';
import { createBusyboxGzipStream } from '../../src/rebuild/node/gzip-stream.js';
import { goldenBook } from './golden.js';
import { oracles } from './oracle.js';

const golden = goldenBook('gzip');
let scratch = '';

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'gzip-oracle-'));
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/**
 * `busybox gzip -c < file`: the input comes from a regular file, as in the tests of the
 * recipe, so every read busybox makes is complete.
 */
function oracleGzip(data: Uint8Array, flags: string[] = []): Buffer {
  const busybox = oracles()!.busybox;
  const path = join(scratch, 'input');
  writeFileSync(path, data);
  const fd = openSync(path, 'r');
  try {
    const r = spawnSync(busybox, ['gzip', ...flags, '-c'], {
      stdio: [fd, 'pipe', 'pipe'],
      maxBuffer: 1 << 30,
    });
    if (r.status !== 0) throw new Error(`busybox gzip failed: ${r.stderr}`);
    return r.stdout;
  } finally {
    closeSync(fd);
  }
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce exactly. */
class Rng {
  constructor(private s: number) {}
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  below(n: number): number {
    return this.next() % n;
  }
}

const WORDS =
  'the of and enclave attestation document pcr kernel ramdisk busybox gzip cpio root etc usr bin lib'
    .split(' ')
    .map((w) => new TextEncoder().encode(`${w} `));

function text(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(n);
  let i = 0;
  while (i < n) {
    const w = WORDS[rng.below(WORDS.length)]!;
    for (let k = 0; k < w.length && i < n; k++) out[i++] = w[k]!;
    if (rng.below(12) === 0 && i < n) out[i++] = 10;
  }
  return out;
}

function random(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.next() & 0xff;
  return out;
}

function runs(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(n);
  let i = 0;
  while (i < n) {
    const b = rng.below(4) * 60;
    for (let len = rng.below(700); len > 0 && i < n; len--) out[i++] = b;
  }
  return out;
}

/**
 * Something like a tar/cpio stream of a small root filesystem: 512-byte headers with names
 * and octal fields, text files, binary-looking files with zero padding, repeated files
 * (hard copies of the same library), all deterministic.
 */
function archiveLike(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(n);
  const enc = new TextEncoder();
  const earlier: Array<[number, number]> = [];
  let i = 0;
  let file = 0;
  while (i < n) {
    const header = enc.encode(
      `070701${(file++).toString(16).padStart(8, '0')}000081a4000000000000000000000001` +
        `00000000${rng
          .below(1 << 20)
          .toString(16)
          .padStart(8, '0')}usr/lib/file-${file}.so\0`,
    );
    for (let k = 0; k < header.length && i < n; k++) out[i++] = header[k]!;
    while (i % 4 !== 0 && i < n) out[i++] = 0;
    const kind = rng.below(4);
    const size = 200 + rng.below(kind === 3 ? 60_000 : 20_000);
    const start = i;
    if (kind === 0) out.set(text(Math.min(size, n - i), rng.next()), i);
    else if (kind === 1)
      out.set(
        random(Math.min(size, n - i), rng.next()).map((b) => (b < 90 ? 0 : b)),
        i,
      );
    else if (kind === 2 && earlier.length > 0) {
      const [from, len] = earlier[rng.below(earlier.length)]!;
      out.copyWithin(i, from, from + Math.min(len, n - i));
    } else
      out.set(
        random(Math.min(size, n - i), rng.next()).map((b) => b & 0x1f),
        i,
      );
    i = Math.min(n, i + size);
    earlier.push([start, i - start]);
    while (i % 512 !== 0 && i < n) out[i++] = 0;
  }
  return out;
}

/** Streams `data` through the encoder in chunks of varying sizes. */
function gzipChunked(data: Uint8Array, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const enc = new BusyboxGzipEncoder();
  const parts: Uint8Array[] = [];
  for (let off = 0; off < data.length; ) {
    const len = 1 + rng.below(rng.below(2) === 0 ? 300 : 90_000);
    parts.push(enc.write(data.subarray(off, off + len)));
    off += len;
  }
  parts.push(enc.end());
  return Buffer.concat(parts);
}

/** Asserts equality, reporting the first differing offset instead of two huge dumps. */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const n = Math.min(actual.length, expected.length);
  let i = 0;
  while (i < n && actual[i] === expected[i]) i++;
  const where = i === n && actual.length === expected.length ? 'identical' : `first difference at ${i}`;
  expect(`${what}: ${where} (ours ${actual.length} bytes, busybox ${expected.length} bytes)`).toBe(
    `${what}: identical (ours ${expected.length} bytes, busybox ${expected.length} bytes)`,
  );
}

/** busybox's gzip of `data` (live, or our bytes once they match the golden hash of `key`). */
function reference(key: string, data: Uint8Array, ours: Uint8Array, flags: string[] = []): Uint8Array {
  return golden.reference(key, ours, () => oracleGzip(data, flags));
}

function checkCase(name: string, data: Uint8Array, seed = 1): void {
  const oneShot = gzipBusybox(data);
  const expected = reference(name, data, oneShot);
  expectSameBytes(oneShot, expected, `${name} one-shot`);
  expectSameBytes(gzipChunked(data, seed), expected, `${name} chunked`);
  expect(Buffer.compare(gunzipSync(gzipBusybox(data)), data)).toBe(0);
}

describe('gzipBusybox matches busybox 1.37.0 gzip', () => {
  it('writes busybox header and trailer for empty input', () => {
    expect(Buffer.from(gzipBusybox(new Uint8Array(0))).toString('hex')).toBe(
      // magic, deflate, no flags, mtime 0, xfl 0, OS Unix | empty fixed block | CRC 0, size 0
      '1f8b0800000000000003' + '0300' + '00000000' + '00000000',
    );
    checkCase('empty', new Uint8Array(0));
  });

  it('one byte', () => {
    expect(Buffer.from(gzipBusybox(Uint8Array.of(0x61))).toString('hex')).toBe(
      '1f8b0800000000000003' + '4b0400' + '43beb7e8' + '01000000',
    );
    checkCase('1 byte', Uint8Array.of(0x61));
  });

  it('all 256 byte values, and each value once as a single byte', () => {
    checkCase(
      'all 256',
      Uint8Array.from({ length: 256 }, (_, i) => i),
    );
    checkCase(
      'all 256 x 300',
      Uint8Array.from({ length: 256 * 300 }, (_, i) => (i * 7) & 0xff),
    );
    checkCase('byte 0xff', Uint8Array.of(0xff));
  });

  it('text', () => {
    checkCase('text 100k', text(100_000, 7));
  });

  it('random (incompressible: stored blocks)', () => {
    const data = random(200_000, 3);
    checkCase('random 200k', data);
    // Stored blocks show up as a 3-bit header then a byte-aligned LEN/NLEN pair.
    expect(gzipBusybox(data).length).toBeGreaterThan(data.length);
  });

  it('long runs and all zeros', () => {
    checkCase('runs', runs(300_000, 5));
    checkCase('zeros 1 MiB', new Uint8Array(1 << 20));
  });

  it('sizes around the buffer (8K, 16K) and window (32K, 64K) boundaries', () => {
    const sizes = [
      2, 3, 4, 257, 258, 259, 262, 263, 8191, 8192, 8193, 16383, 16384, 16385, 32505, 32506, 32507, 32767,
      32768, 32769, 65273, 65274, 65275, 65535, 65536, 65537, 98303, 98304, 98305,
    ];
    for (const n of sizes) {
      checkCase(`text ${n}`, text(n, n), n);
      checkCase(`random ${n}`, random(n, n), n);
      checkCase(`runs ${n}`, runs(n, n), n);
    }
  });

  it('inputs ending in the last 262 bytes of the window (matches running past the data)', () => {
    const period = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i % 7) * 31);
    for (let n = 65536 - 270; n <= 65536; n += 9) checkCase(`period ${n}`, period(n), n);
    for (let n = 98304 - 270; n <= 98304; n += 9) checkCase(`runs seed 11 ${n}`, runs(n, 11), n);
  });

  it('a mixed, archive-like input', () => {
    const data = archiveLike(3_000_000, 9);
    checkCase('archive-like 3 MB', data);
    // Caution's pipeline runs `gzip --best`; with levels compiled out it is the same stream.
    const ours = gzipBusybox(data);
    expectSameBytes(
      ours,
      reference('archive-like 3 MB --best', data, ours, ['--best']),
      'archive-like --best',
    );
  });

  it('a 50 MB input, streamed in chunks', () => {
    const data = archiveLike(50_000_000, 42);
    const enc = new BusyboxGzipEncoder();
    const parts: Uint8Array[] = [];
    for (let off = 0; off < data.length; off += 1 << 16)
      parts.push(enc.write(data.subarray(off, off + (1 << 16))));
    parts.push(enc.end());
    const ours = Buffer.concat(parts);
    expectSameBytes(ours, reference('archive-like 50 MB', data, ours), '50 MB');
    expect(Buffer.compare(gunzipSync(ours), data)).toBe(0);
  }, 60_000);

  it('the Node Transform stream gives the same bytes', async () => {
    const data = archiveLike(500_000, 4);
    const chunks: Buffer[] = [];
    const pieces = [data.subarray(0, 1000), data.subarray(1000, 70_000), data.subarray(70_000)];
    await pipeline(Readable.from(pieces), createBusyboxGzipStream(), async (source) => {
      for await (const c of source) chunks.push(c as Buffer);
    });
    const ours = Buffer.concat(chunks);
    expectSameBytes(ours, reference('archive-like 500k stream', data, ours), 'stream');
  });

  it('refuses use after end with ERR_USAGE', () => {
    const enc = new BusyboxGzipEncoder();
    enc.end();
    expect(() => enc.write(Uint8Array.of(1))).toThrow(EnclaveVerifyError);
    expect(() => enc.end()).toThrow(/already complete/);
    try {
      enc.write(Uint8Array.of(1));
    } catch (err) {
      expect((err as EnclaveVerifyError).code).toBe('ERR_USAGE');
    }
  });
});
