/**
 * A DEFLATE decoder (RFC 1951) that says where the compressed stream ends. The kernel unpacks
 * an initramfs one gzip member at a time and goes on reading right after each member's trailer,
 * so a reader that agrees with it must know exactly how many bytes a member used; the platform's
 * `DecompressionStream` does not say (and in Node silently stops at NUL padding). Runtime-agnostic;
 * Node passes zlib's raw inflate instead, which reports the same thing faster.
 */
import { EnclaveVerifyError } from '../../errors.js';

/** A raw DEFLATE decoder: the output, and how many input bytes the stream used. */
export type RawInflater = (
  input: Uint8Array,
  limit: number,
  label: string,
) => {
  out: Uint8Array;
  consumed: number;
};

const LENGTH_BASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
  227, 258,
];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
  6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA = [
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];
// Order in which a dynamic block sends the code lengths of the code-length alphabet.
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/**
 * A canonical Huffman code as a lookup table indexed by the next `bits` input bits (LSB first):
 * each entry is `symbol << 4 | length`, 0 where no code matches.
 */
interface Huffman {
  table: Uint32Array;
  bits: number;
}

/**
 * The error for a stream whose output passes `limit` bytes (the bound on hostile input).
 *
 * @example
 * ```ts
 * if (out.length > limit) throw expandsBeyond('rootfs.cpio.gz', limit);
 * ```
 */
export function expandsBeyond(label: string, limit: number): EnclaveVerifyError {
  return new EnclaveVerifyError(
    'ERR_ARCHIVE_MALFORMED',
    `${label}: gzip stream expands beyond ${limit} bytes; refusing it (raise the limit only for trusted input)`,
  );
}

function malformed(label: string, what: string): EnclaveVerifyError {
  return new EnclaveVerifyError('ERR_ARCHIVE_MALFORMED', `${label}: gzip data is corrupt (${what})`);
}

function buildHuffman(lengths: ArrayLike<number>, label: string): Huffman {
  const count = new Uint16Array(16);
  let max = 0;
  for (let i = 0; i < lengths.length; i++) {
    const l = lengths[i]!;
    count[l]!++;
    if (l > max) max = l;
  }
  count[0] = 0;
  // Over-subscribed codes are refused; incomplete ones only when they are a single one-bit code
  // (zlib's rule: an encoder may send one distance code of length 1).
  let left = 1;
  for (let len = 1; len <= 15; len++) {
    left = left * 2 - count[len]!;
    if (left < 0) throw malformed(label, 'over-subscribed Huffman code');
  }
  if (left > 0 && max > 1) throw malformed(label, 'incomplete Huffman code');
  const bits = Math.max(1, max);
  const table = new Uint32Array(1 << bits);
  const next = new Uint16Array(16);
  let code = 0;
  for (let len = 1; len <= 15; len++) {
    code = (code + count[len - 1]!) << 1;
    next[len] = code;
  }
  for (let sym = 0; sym < lengths.length; sym++) {
    const len = lengths[sym]!;
    if (len === 0) continue;
    let c = next[len]!++;
    // Codes are sent most significant bit first into an LSB-first bit stream: reverse them.
    let rev = 0;
    for (let i = 0; i < len; i++) {
      rev = (rev << 1) | (c & 1);
      c >>= 1;
    }
    for (let i = rev; i < table.length; i += 1 << len) table[i] = (sym << 4) | len;
  }
  return { table, bits };
}

let fixed: { lit: Huffman; dist: Huffman } | undefined;
function fixedCodes(): { lit: Huffman; dist: Huffman } {
  if (!fixed) {
    const lit = new Uint8Array(288);
    lit.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
    fixed = {
      lit: buildHuffman(lit, 'fixed code'),
      dist: buildHuffman(new Uint8Array(32).fill(5), 'fixed code'),
    };
  }
  return fixed;
}

/**
 * Decode the raw DEFLATE stream at the start of `input`: its output (at most `limit` bytes, more
 * is `ERR_ARCHIVE_MALFORMED`) and the number of input bytes it used, up to and including the
 * byte that holds the end of its final block. Corrupt or truncated data is
 * `ERR_ARCHIVE_MALFORMED` naming `label`; what follows the stream is never read.
 *
 * @example
 * ```ts
 * const { out, consumed } = inflateRaw(member.subarray(10), 1 << 20, 'rootfs.cpio.gz');
 * ```
 */
export const inflateRaw: RawInflater = (input, limit, label) => {
  let pos = 0;
  let bitBuf = 0;
  let bitCount = 0;
  // Zero bytes supplied past the end so a Huffman lookup can peek; using any of them is an error.
  let padded = 0;
  const need = (n: number): void => {
    while (bitCount < n) {
      if (pos < input.length) bitBuf |= input[pos++]! << bitCount;
      else padded++;
      bitCount += 8;
    }
  };
  const consume = (n: number): void => {
    bitBuf >>>= n;
    bitCount -= n;
    if (bitCount < 8 * padded) throw malformed(label, 'the stream ends early');
  };
  const take = (n: number): number => {
    if (n === 0) return 0;
    need(n);
    const v = bitBuf & ((1 << n) - 1);
    consume(n);
    return v;
  };
  const decode = (h: Huffman): number => {
    need(h.bits);
    const e = h.table[bitBuf & ((1 << h.bits) - 1)]!;
    if (e === 0) throw malformed(label, 'invalid Huffman code');
    consume(e & 15);
    return e >>> 4;
  };

  let out = new Uint8Array(Math.min(limit, Math.max(1 << 16, input.length * 4)));
  let n = 0;
  const room = (more: number): void => {
    if (n + more <= out.length) return;
    if (n + more > limit) throw expandsBeyond(label, limit);
    const grown = new Uint8Array(Math.min(limit, Math.max(n + more, out.length * 2)));
    grown.set(out.subarray(0, n));
    out = grown;
  };

  let last = 0;
  while (!last) {
    last = take(1);
    const type = take(2);
    if (type === 0) {
      // Stored: skip to the byte boundary, give back whole bytes the bit buffer holds.
      consume(bitCount & 7);
      pos -= (bitCount >>> 3) - padded;
      bitBuf = 0;
      bitCount = 0;
      padded = 0;
      if (pos + 4 > input.length) throw malformed(label, 'the stream ends early');
      const len = input[pos]! | (input[pos + 1]! << 8);
      const nlen = input[pos + 2]! | (input[pos + 3]! << 8);
      if (len !== (~nlen & 0xffff)) throw malformed(label, 'stored block length check failed');
      pos += 4;
      if (pos + len > input.length) throw malformed(label, 'the stream ends early');
      room(len);
      out.set(input.subarray(pos, pos + len), n);
      n += len;
      pos += len;
      continue;
    }
    let lit: Huffman;
    let dist: Huffman;
    if (type === 1) {
      ({ lit, dist } = fixedCodes());
    } else if (type === 2) {
      const nlit = take(5) + 257;
      const ndist = take(5) + 1;
      const ncl = take(4) + 4;
      if (nlit > 286 || ndist > 30) throw malformed(label, 'too many length or distance codes');
      const clLengths = new Uint8Array(19);
      for (let i = 0; i < ncl; i++) clLengths[CL_ORDER[i]!] = take(3);
      const cl = buildHuffman(clLengths, label);
      const lengths = new Uint8Array(nlit + ndist);
      for (let i = 0; i < lengths.length; ) {
        const sym = decode(cl);
        if (sym < 16) {
          lengths[i++] = sym;
          continue;
        }
        let repeat: number;
        let value = 0;
        if (sym === 16) {
          if (i === 0) throw malformed(label, 'a repeated code length with nothing before it');
          value = lengths[i - 1]!;
          repeat = 3 + take(2);
        } else if (sym === 17) repeat = 3 + take(3);
        else repeat = 11 + take(7);
        if (i + repeat > lengths.length) throw malformed(label, 'code lengths overflow');
        lengths.fill(value, i, i + repeat);
        i += repeat;
      }
      if (lengths[256] === 0) throw malformed(label, 'no end-of-block code');
      lit = buildHuffman(lengths.subarray(0, nlit), label);
      dist = buildHuffman(lengths.subarray(nlit), label);
    } else {
      throw malformed(label, 'invalid block type');
    }
    for (;;) {
      const sym = decode(lit);
      if (sym < 256) {
        room(1);
        out[n++] = sym;
      } else if (sym === 256) {
        break;
      } else {
        const li = sym - 257;
        if (li >= 29) throw malformed(label, 'invalid length code');
        const len = LENGTH_BASE[li]! + take(LENGTH_EXTRA[li]!);
        const di = decode(dist);
        if (di >= 30) throw malformed(label, 'invalid distance code');
        const d = DIST_BASE[di]! + take(DIST_EXTRA[di]!);
        if (d > n) throw malformed(label, 'a distance reaches before the start of the output');
        room(len);
        // Byte by byte: a match may overlap the bytes it produces (distance < length).
        for (let k = 0; k < len; k++, n++) out[n] = out[n - d]!;
      }
    }
  }
  // Bytes fetched into the bit buffer but not used belong to whatever follows the stream.
  return { out: out.subarray(0, n), consumed: pos - ((bitCount >>> 3) - padded) };
};
