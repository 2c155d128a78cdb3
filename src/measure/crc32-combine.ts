/**
 * Joining CRC-32s of consecutive pieces: `crc32(a || b)` from `crc32(a)`, `crc32(b)` and
 * `b`'s length, without the bytes. This lets two threads checksum different parts of a file at
 * the same time. Appending `n` zero bits to a message is a linear map on the CRC register over
 * GF(2); it is applied as 32x32 bit matrices, squared for each power of two in the length.
 */

const POLY = 0xedb88320; // CRC-32/ISO-HDLC, reflected

/** `matrix * vector` over GF(2); a matrix is 32 column vectors. */
function times(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  for (let i = 0; vector !== 0; i++, vector >>>= 1) if (vector & 1) sum ^= matrix[i]!;
  return sum >>> 0;
}

function square(out: Uint32Array, matrix: Uint32Array): void {
  for (let i = 0; i < 32; i++) out[i] = times(matrix, matrix[i]!);
}

/**
 * CRC-32 of `a || b` given `crcA = crc32(a)`, `crcB = crc32(b)` and `lengthB = b.length`.
 *
 * @example
 * ```ts
 * crc32Combine(crc32(utf8('12345')), crc32(utf8('6789')), 4) === crc32(utf8('123456789')); // true
 * ```
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB <= 0) return crcA >>> 0;
  let crc = crcA >>> 0;
  // odd: the operator for one zero bit; even/odd then alternate as 2^k zero *bytes* operators.
  const odd = new Uint32Array(32);
  const even = new Uint32Array(32);
  odd[0] = POLY;
  for (let i = 1; i < 32; i++) odd[i] = 1 << (i - 1);
  square(even, odd); // two zero bits
  square(odd, even); // four zero bits
  let n = lengthB;
  for (;;) {
    square(even, odd); // first pass: one zero byte, then 4, 16, ...
    if (n % 2 === 1) crc = times(even, crc);
    n = Math.floor(n / 2);
    if (n === 0) break;
    square(odd, even);
    if (n % 2 === 1) crc = times(odd, crc);
    n = Math.floor(n / 2);
    if (n === 0) break;
  }
  return (crc ^ crcB) >>> 0;
}
