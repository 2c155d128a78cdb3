/**
 * Collects the literals and matches of one deflate block and writes the block when asked, the
 * way busybox gzip (gzip 1.2.4's trees.c logic) decides: where blocks end, and whether each
 * block is stored, uses the fixed codes or carries its own codes. Every rule here changes
 * output bytes, so each carries the reason it has to be exactly so.
 */
import type { BitWriter } from './bit-writer.js';
import {
  assignCanonicalCodes,
  BL_CODES,
  BL_EXTRA,
  BL_ORDER,
  DIST_CODES,
  DIST_EXTRA,
  HuffmanTree,
  LENGTH_EXTRA,
  LITLEN_CODES,
  MAX_BL_BITS,
  MAX_CODE_BITS,
  reverseBits,
  TreeBuilder,
} from './huffman.js';

/**
 * Capacity of the symbol buffer: busybox's small-memory build (GZIP_FAST=0) keeps 8 Ki
 * literals/matches per block. A block ends when 8191 symbols are buffered (one less than the
 * capacity, a leftover of 16-bit counters in the original), so this constant fixes every block
 * boundary of large inputs.
 */
export const SYMBOL_BUFFER = 0x2000;
const END_BLOCK = 256;

/** Length code (0..28, i.e. symbol - 257) for each match length minus 3. */
const LENGTH_CODE = new Uint8Array(256);
/** First (length - 3) of each length code. */
const LENGTH_BASE = new Int32Array(29);
/**
 * Distance code per (distance - 1): entries 0..255 map small distances directly, entries
 * 256..511 map (distance - 1) >> 7 for larger ones. Two lookups instead of a search.
 */
const DIST_CODE = new Uint8Array(512);
/** First (distance - 1) of each distance code. */
const DIST_BASE = new Int32Array(30);

{
  let length = 0;
  let code = 0;
  for (; code < 28; code++) {
    LENGTH_BASE[code] = length;
    for (let i = 0; i < 1 << LENGTH_EXTRA[code]!; i++) LENGTH_CODE[length++] = code;
  }
  // Length 258 fits code 284 with extra bits 31 as well, but deflate has the dedicated code 285
  // for it, which is shorter; gzip always uses 285.
  LENGTH_BASE[28] = 255;
  LENGTH_CODE[255] = 28;
  let dist = 0;
  for (code = 0; code < 16; code++) {
    DIST_BASE[code] = dist;
    for (let i = 0; i < 1 << DIST_EXTRA[code]!; i++) DIST_CODE[dist++] = code;
  }
  dist >>= 7;
  for (; code < 30; code++) {
    DIST_BASE[code] = dist << 7;
    for (let i = 0; i < 1 << (DIST_EXTRA[code]! - 7); i++) DIST_CODE[256 + dist++] = code;
  }
}

/** Fixed literal/length code of RFC 1951 3.2.6 (lengths, and reversed codes). */
const FIXED_LITLEN_LEN = new Uint8Array(288);
const FIXED_LITLEN_CODE = new Int32Array(288);
const FIXED_DIST_LEN = new Uint8Array(DIST_CODES).fill(5);
const FIXED_DIST_CODE = new Int32Array(DIST_CODES);
{
  for (let n = 0; n < 288; n++) FIXED_LITLEN_LEN[n] = n < 144 ? 8 : n < 256 ? 9 : n < 280 ? 7 : 8;
  const lens = Int32Array.from(FIXED_LITLEN_LEN);
  const counts = new Int32Array(MAX_CODE_BITS + 1);
  for (const l of lens) counts[l]!++;
  assignCanonicalCodes(lens, FIXED_LITLEN_CODE, 287, counts, new Int32Array(MAX_CODE_BITS + 1));
  for (let n = 0; n < DIST_CODES; n++) FIXED_DIST_CODE[n] = reverseBits(n, 5);
}

/** Distance code of `d` = distance - 1. */
function distCodeOf(d: number): number {
  return d < 256 ? DIST_CODE[d]! : DIST_CODE[256 + (d >> 7)]!;
}

/** Buffered symbols of the current block, plus the code construction that writes them. */
export class BlockWriter {
  /** Per symbol: a literal byte (< 256), or 256 + (match length - 3). */
  private readonly symbols = new Uint16Array(SYMBOL_BUFFER);
  /** Per symbol that is a match: distance - 1. */
  private readonly distances = new Uint16Array(SYMBOL_BUFFER);
  private count = 0;
  private matches = 0;
  private readonly litTree = new HuffmanTree(
    LITLEN_CODES,
    MAX_CODE_BITS,
    LENGTH_EXTRA,
    257,
    FIXED_LITLEN_LEN,
  );
  private readonly distTree = new HuffmanTree(DIST_CODES, MAX_CODE_BITS, DIST_EXTRA, 0, FIXED_DIST_LEN);
  private readonly blTree = new HuffmanTree(BL_CODES, MAX_BL_BITS, BL_EXTRA, 0, null);
  private readonly builder = new TreeBuilder();
  /** Run-length coded code lengths of both trees (symbol 0..18 and its extra-bit value). */
  private readonly lengthOps = new Uint16Array(2 * (LITLEN_CODES + DIST_CODES));
  private readonly lengthOpExtra = new Uint16Array(2 * (LITLEN_CODES + DIST_CODES));
  private litOps = 0;
  private allOps = 0;

  constructor(private readonly out: BitWriter) {
    this.resetBlock();
  }

  private resetBlock(): void {
    this.litTree.freq.fill(0, 0, LITLEN_CODES);
    this.distTree.freq.fill(0, 0, DIST_CODES);
    this.blTree.freq.fill(0, 0, BL_CODES);
    // The end-of-block code is always sent once, so it is counted before any data.
    this.litTree.freq[END_BLOCK] = 1;
    this.count = 0;
    this.matches = 0;
  }

  /**
   * Records a literal byte. `span` is the number of input bytes the block covers including this
   * one. Returns true when the block should be written now.
   */
  tallyLiteral(byte: number, span: number): boolean {
    this.symbols[this.count++] = byte;
    this.litTree.freq[byte]!++;
    return this.shouldEnd(span);
  }

  /**
   * Records a match of `length` bytes at `distance`. `span` counts the block's input bytes up
   * to and including the first byte of this match (not its whole length: gzip tallies before
   * advancing past the match). Returns true when the block should be written now.
   */
  tallyMatch(distance: number, length: number, span: number): boolean {
    const lc = length - 3;
    const d = distance - 1;
    this.symbols[this.count] = 256 + lc;
    this.distances[this.count++] = d;
    this.matches++;
    this.litTree.freq[LENGTH_CODE[lc]! + 257]!++;
    this.distTree.freq[distCodeOf(d)]!++;
    return this.shouldEnd(span);
  }

  /**
   * gzip's block-boundary rule: a full buffer (8191 symbols) always ends the block, and at every
   * 4096th symbol it ends early if the data compresses well (fewer than half the symbols are
   * matches and a crude estimate, 8 bits per symbol plus 5 + extra bits per distance, is under
   * half the input), so that a change in the data's statistics gets fresh codes sooner.
   */
  private shouldEnd(span: number): boolean {
    const n = this.count;
    if ((n & 0xfff) === 0) {
      let estimate = n * 8;
      const df = this.distTree.freq;
      for (let c = 0; c < DIST_CODES; c++) estimate += df[c]! * (5 + DIST_EXTRA[c]!);
      estimate >>>= 3;
      if (this.matches < n >>> 1 && estimate < span >>> 1) return true;
    }
    return n === SYMBOL_BUFFER - 1 || this.matches === SYMBOL_BUFFER;
  }

  /**
   * Writes the buffered symbols as one block and starts a new one.
   *
   * `input` / `start` / `length` are the raw bytes the block covers, for a stored block; when
   * `canStore` is false (busybox has already slid those bytes out of its window) a stored
   * block is not an option even if it would be smaller.
   *
   * The choice compares byte counts rounded up from bits, including the 3 header bits; the
   * fixed code wins ties with the dynamic one, and a stored block wins when it is not longer
   * (its 4 bytes of length fields included) than the better of the two.
   */
  flush(input: Uint8Array, start: number, length: number, canStore: boolean, last: boolean): void {
    const b = this.builder;
    const out = this.out;
    b.optBits = 0;
    b.staticBits = 0;
    b.build(this.litTree);
    b.build(this.distTree);
    const blCount = this.buildLengthTree();

    let optBytes = (b.optBits + 3 + 7) >>> 3;
    const staticBytes = (b.staticBits + 3 + 7) >>> 3;
    if (staticBytes <= optBytes) optBytes = staticBytes;

    const flag = last ? 1 : 0;
    if (canStore && length + 4 <= optBytes) {
      out.reserve(length + 16);
      out.send(flag, 3);
      out.alignToByte();
      const buf = out.buf;
      let pos = out.pos;
      buf[pos++] = length & 0xff;
      buf[pos++] = (length >>> 8) & 0xff;
      buf[pos++] = ~length & 0xff;
      buf[pos++] = (~length >>> 8) & 0xff;
      buf.set(input.subarray(start, start + length), pos);
      out.pos = pos + length;
    } else if (staticBytes === optBytes) {
      out.reserve(this.count * 6 + 64);
      out.send(2 | flag, 3);
      this.writeSymbols(FIXED_LITLEN_CODE, FIXED_LITLEN_LEN, FIXED_DIST_CODE, FIXED_DIST_LEN);
    } else {
      out.reserve(this.count * 6 + 1024);
      out.send(4 | flag, 3);
      this.writeTrees(blCount);
      this.writeSymbols(this.litTree.code, this.litTree.len, this.distTree.code, this.distTree.len);
    }
    this.resetBlock();
    if (last) out.alignToByte();
  }

  /**
   * Run-length codes the code lengths of both trees (counting code-length symbol frequencies),
   * builds the code-length tree and returns how many code-length code lengths are sent
   * (at least 4, trailing zeros in RFC order dropped). Adds the description's size to
   * `optBits` so the block-type decision sees the full dynamic block size.
   */
  private buildLengthTree(): number {
    this.litOps = this.runLengths(this.litTree, 0);
    this.allOps = this.runLengths(this.distTree, this.litOps);
    this.builder.build(this.blTree);
    let last = BL_CODES - 1;
    for (; last >= 3; last--) {
      if (this.blTree.len[BL_ORDER[last]!] !== 0) break;
    }
    this.builder.optBits += 3 * (last + 1) + 5 + 5 + 4;
    return last + 1;
  }

  /**
   * gzip's run-length scheme for code lengths: runs continue while the length repeats, up to
   * 138 for zeros, 6 after a repeated nonzero length or 7 otherwise; a run shorter than its
   * minimum (3 for zeros or after a repeat, 4 otherwise) is sent as plain lengths; a nonzero run
   * sends the length itself first unless the previous run had the same length.
   */
  private runLengths(tree: HuffmanTree, opIndex: number): number {
    const len = tree.len;
    const maxCode = tree.maxCode;
    const freq = this.blTree.freq;
    const ops = this.lengthOps;
    const extra = this.lengthOpExtra;
    let prevLen = -1;
    let nextLen = len[0]!;
    let run = 0;
    let maxRun = nextLen === 0 ? 138 : 7;
    let minRun = nextLen === 0 ? 3 : 4;
    for (let n = 0; n <= maxCode; n++) {
      const cur = nextLen;
      nextLen = n < maxCode ? len[n + 1]! : -1;
      if (++run < maxRun && cur === nextLen) continue;
      if (run < minRun) {
        for (let i = 0; i < run; i++) {
          ops[opIndex] = cur;
          extra[opIndex++] = 0;
          freq[cur]!++;
        }
      } else if (cur !== 0) {
        if (cur !== prevLen) {
          ops[opIndex] = cur;
          extra[opIndex++] = 0;
          freq[cur]!++;
          run--;
        }
        ops[opIndex] = 16;
        extra[opIndex++] = run - 3;
        freq[16]!++;
      } else if (run <= 10) {
        ops[opIndex] = 17;
        extra[opIndex++] = run - 3;
        freq[17]!++;
      } else {
        ops[opIndex] = 18;
        extra[opIndex++] = run - 11;
        freq[18]!++;
      }
      run = 0;
      prevLen = cur;
      if (nextLen === 0) {
        maxRun = 138;
        minRun = 3;
      } else if (cur === nextLen) {
        maxRun = 6;
        minRun = 3;
      } else {
        maxRun = 7;
        minRun = 4;
      }
    }
    return opIndex;
  }

  private writeTrees(blCount: number): void {
    const out = this.out;
    const bl = this.blTree;
    out.send(this.litTree.maxCode + 1 - 257, 5);
    out.send(this.distTree.maxCode + 1 - 1, 5);
    out.send(blCount - 4, 4);
    for (let rank = 0; rank < blCount; rank++) out.send(bl.len[BL_ORDER[rank]!]!, 3);
    const ops = this.lengthOps;
    const extra = this.lengthOpExtra;
    for (let i = 0; i < this.allOps; i++) {
      const s = ops[i]!;
      out.send(bl.code[s]!, bl.len[s]!);
      if (s >= 16) out.send(extra[i]!, s === 16 ? 2 : s === 17 ? 3 : 7);
    }
  }

  /** The block's symbols with the given codes, then end of block. Space already reserved. */
  private writeSymbols(
    lcode: ArrayLike<number>,
    llen: ArrayLike<number>,
    dcode: ArrayLike<number>,
    dlen: ArrayLike<number>,
  ): void {
    const w = this.out;
    const buf = w.buf;
    let pos = w.pos;
    let bits = w.bits;
    let nbits = w.count;
    const symbols = this.symbols;
    const distances = this.distances;
    const n = this.count;
    // Bits accumulate in a 32-bit integer and leave in 16-bit units, so with fewer than 16
    // pending bits any code (<= 15 bits) or extra field (<= 13 bits) fits.
    for (let i = 0; i < n; i++) {
      const s = symbols[i]!;
      if (s < 256) {
        bits |= lcode[s]! << nbits;
        nbits += llen[s]!;
      } else {
        const lc = s - 256;
        const c = LENGTH_CODE[lc]!;
        bits |= lcode[c + 257]! << nbits;
        nbits += llen[c + 257]!;
        if (nbits >= 16) {
          buf[pos++] = bits & 0xff;
          buf[pos++] = (bits >>> 8) & 0xff;
          bits >>>= 16;
          nbits -= 16;
        }
        const le = LENGTH_EXTRA[c]!;
        if (le !== 0) {
          bits |= (lc - LENGTH_BASE[c]!) << nbits;
          nbits += le;
          if (nbits >= 16) {
            buf[pos++] = bits & 0xff;
            buf[pos++] = (bits >>> 8) & 0xff;
            bits >>>= 16;
            nbits -= 16;
          }
        }
        const d = distances[i]!;
        const dc = d < 256 ? DIST_CODE[d]! : DIST_CODE[256 + (d >> 7)]!;
        bits |= dcode[dc]! << nbits;
        nbits += dlen[dc]!;
        if (nbits >= 16) {
          buf[pos++] = bits & 0xff;
          buf[pos++] = (bits >>> 8) & 0xff;
          bits >>>= 16;
          nbits -= 16;
        }
        const de = DIST_EXTRA[dc]!;
        if (de !== 0) {
          bits |= (d - DIST_BASE[dc]!) << nbits;
          nbits += de;
        }
      }
      if (nbits >= 16) {
        buf[pos++] = bits & 0xff;
        buf[pos++] = (bits >>> 8) & 0xff;
        bits >>>= 16;
        nbits -= 16;
      }
    }
    bits |= lcode[END_BLOCK]! << nbits;
    nbits += llen[END_BLOCK]!;
    if (nbits >= 16) {
      buf[pos++] = bits & 0xff;
      buf[pos++] = (bits >>> 8) & 0xff;
      bits >>>= 16;
      nbits -= 16;
    }
    w.pos = pos;
    w.bits = bits;
    w.count = nbits;
  }
}
