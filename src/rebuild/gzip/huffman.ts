/**
 * Huffman code construction for deflate blocks, making the same choices as gzip 1.2.4 and
 * busybox gzip: which nodes are merged first when frequencies tie, how over-long codes are
 * shortened, and which code values are assigned. Any other optimal construction (zlib's, for
 * instance, or a package-merge) gives equally short but differently shaped codes, so a
 * byte-exact rebuild needs these exact rules, described below.
 */

/** Largest code length deflate allows for literal/length and distance codes. */
export const MAX_CODE_BITS = 15;
/** Largest code length for the code-length ("bit length") alphabet. */
export const MAX_BL_BITS = 7;
/** Literal/length alphabet used by the encoder: 256 literals, end of block, 29 length codes. */
export const LITLEN_CODES = 286;
/** Distance alphabet size. */
export const DIST_CODES = 30;
/** Code-length alphabet size. */
export const BL_CODES = 19;
/**
 * Every tree is built in arrays large enough for its leaves and internal nodes; the heap used
 * to merge nodes is sized for the largest alphabet. The heap size is part of the behaviour:
 * the length repair below walks the merge order from the end of this array.
 */
export const HEAP_SIZE = 2 * LITLEN_CODES + 1;

/** Extra bits of each length code 257..285. */
export const LENGTH_EXTRA = Uint8Array.from([
  0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
]);
/** Extra bits of each distance code. */
export const DIST_EXTRA = Uint8Array.from([
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
]);
/** Extra bits of each code-length symbol (16: repeat 3-6, 17: zeros 3-10, 18: zeros 11-138). */
export const BL_EXTRA = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7]);
/** RFC 1951 order in which code-length code lengths are transmitted. */
export const BL_ORDER = Uint8Array.from([16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]);

/** Reverses the low `len` bits of `code`: deflate sends Huffman codes most significant bit first. */
export function reverseBits(code: number, len: number): number {
  let r = 0;
  for (let i = 0; i < len; i++) {
    r = (r << 1) | (code & 1);
    code >>>= 1;
  }
  return r;
}

/**
 * One alphabet's tree: frequencies in, code lengths and (bit-reversed) codes out. Indices below
 * `size` are leaves; internal nodes are numbered from `size` upwards in creation order.
 */
export class HuffmanTree {
  /** Symbol (and internal node) frequencies. */
  readonly freq = new Int32Array(HEAP_SIZE);
  /** Code length per symbol after `build`; 0 for unused symbols. */
  readonly len = new Int32Array(HEAP_SIZE);
  /** Bit-reversed code per symbol, ready to be sent least significant bit first. */
  readonly code = new Int32Array(HEAP_SIZE);
  /** Parent node of each node during construction. */
  readonly parent = new Int32Array(HEAP_SIZE);
  /** Largest symbol with a code after `build` (may include a symbol forced in, see `build`). */
  maxCode = -1;

  constructor(
    /** Alphabet size. */
    readonly size: number,
    /** Longest code allowed. */
    readonly maxLength: number,
    /** Extra bits per symbol, starting at symbol `extraBase`. */
    readonly extraBits: Uint8Array,
    readonly extraBase: number,
    /** Code lengths of the fixed (static) code for this alphabet, if deflate has one. */
    readonly staticLen: Uint8Array | null,
  ) {}
}

/**
 * Builds trees and keeps the running bit counts a block needs to choose between stored, fixed
 * and dynamic encodings. `optBits` and `staticBits` are the exact sums gzip computes, including
 * its small adjustments for forced symbols, because the block-type decision compares them.
 */
export class TreeBuilder {
  private readonly heap = new Int32Array(HEAP_SIZE);
  private readonly depth = new Uint8Array(HEAP_SIZE);
  /** Number of leaves per code length of the tree built last. */
  readonly lengthCount = new Int32Array(MAX_CODE_BITS + 1);
  private readonly nextCode = new Int32Array(MAX_CODE_BITS + 1);
  private heapLen = 0;
  /** Bits of the block with dynamic codes so far (data, then tree description). */
  optBits = 0;
  /** Bits of the block's data with the fixed codes. */
  staticBits = 0;

  /**
   * Assigns code lengths and codes to `tree` from its frequencies.
   *
   * The nodes live in a binary min-heap keyed on frequency, ties broken by subtree depth (the
   * shallower subtree counts as smaller, and on equal depth the node being sifted wins), which
   * keeps codes short. Nodes are merged two at a time; every removed node is recorded at the
   * top end of the heap array so the array ends up listing all nodes from the root down, which
   * is the order lengths are assigned in and the order the repair step walks back through.
   */
  build(tree: HuffmanTree): void {
    const heap = this.heap;
    const depth = this.depth;
    const freq = tree.freq;
    const size = tree.size;
    let maxCode = -1;
    this.heapLen = 0;
    for (let n = 0; n < size; n++) {
      if (freq[n] !== 0) {
        heap[++this.heapLen] = n;
        maxCode = n;
        depth[n] = 0;
      } else {
        tree.len[n] = 0;
      }
    }
    // Deflate decoders need at least two codes of length >= 1 in a tree, so gzip adds symbols
    // with frequency 1 (the next unused one above a small maxCode, otherwise symbol 0). Their
    // invented frequency is subtracted from the bit counts up front, and since they become part
    // of maxCode they also change how many code lengths are transmitted.
    while (this.heapLen < 2) {
      const added = maxCode < 2 ? ++maxCode : 0;
      heap[++this.heapLen] = added;
      freq[added] = 1;
      depth[added] = 0;
      this.optBits--;
      if (tree.staticLen) this.staticBits -= tree.staticLen[added]!;
    }
    tree.maxCode = maxCode;

    for (let k = this.heapLen >> 1; k >= 1; k--) this.siftDown(freq, k);

    let top = HEAP_SIZE;
    let node = size;
    do {
      const least = heap[1]!;
      heap[1] = heap[this.heapLen--]!;
      this.siftDown(freq, 1);
      const next = heap[1]!;
      heap[--top] = least;
      heap[--top] = next;
      freq[node] = freq[least]! + freq[next]!;
      const dl = depth[least]!;
      const dn = depth[next]!;
      depth[node] = Math.max(dl, dn) + 1;
      tree.parent[least] = node;
      tree.parent[next] = node;
      heap[1] = node++;
      this.siftDown(freq, 1);
    } while (this.heapLen >= 2);
    heap[--top] = heap[1]!;

    this.assignLengths(tree, top);
    this.assignCodes(tree);
  }

  /** `a` sorts before `b`: lower frequency, or equal frequency and depth not greater. */
  private lessOrEqual(freq: Int32Array, a: number, b: number): boolean {
    const fa = freq[a]!;
    const fb = freq[b]!;
    return fa < fb || (fa === fb && this.depth[a]! <= this.depth[b]!);
  }

  private siftDown(freq: Int32Array, k: number): void {
    const heap = this.heap;
    const v = heap[k]!;
    let child = k << 1;
    while (child <= this.heapLen) {
      if (child < this.heapLen && this.lessOrEqual(freq, heap[child + 1]!, heap[child]!)) child++;
      if (this.lessOrEqual(freq, v, heap[child]!)) break;
      heap[k] = heap[child]!;
      k = child;
      child <<= 1;
    }
    heap[k] = v;
  }

  /**
   * Depth of every node from the root down, clamped to the tree's maximum length. When any leaf
   * was clamped, the length histogram is repaired the gzip way: repeatedly move a leaf from the
   * deepest non-full level below the limit one level down, pairing it with an overflowed leaf,
   * then hand out the repaired lengths again to the leaves in merge order (least frequent first
   * gets the longest code). This deliberately is not package-merge: it can differ in which
   * leaves end up longer.
   */
  private assignLengths(tree: HuffmanTree, top: number): void {
    const heap = this.heap;
    const count = this.lengthCount;
    const { len, parent, freq, maxCode, maxLength, extraBits, extraBase, staticLen } = tree;
    count.fill(0);
    len[heap[top]!] = 0;
    let overflow = 0;
    for (let h = top + 1; h < HEAP_SIZE; h++) {
      const n = heap[h]!;
      let bits = len[parent[n]!]! + 1;
      if (bits > maxLength) {
        bits = maxLength;
        overflow++;
      }
      len[n] = bits;
      if (n > maxCode) continue; // internal node
      count[bits]!++;
      const extra = n >= extraBase ? extraBits[n - extraBase]! : 0;
      const f = freq[n]!;
      this.optBits += f * (bits + extra);
      if (staticLen) this.staticBits += f * (staticLen[n]! + extra);
    }
    if (overflow === 0) return;

    do {
      let bits = maxLength - 1;
      while (count[bits] === 0) bits--;
      count[bits]!--;
      count[bits + 1]! += 2;
      count[maxLength]!--;
      overflow -= 2;
    } while (overflow > 0);

    let h = HEAP_SIZE;
    for (let bits = maxLength; bits !== 0; bits--) {
      let left = count[bits]!;
      while (left !== 0) {
        const m = heap[--h]!;
        if (m > maxCode) continue;
        if (len[m] !== bits) {
          this.optBits += (bits - len[m]!) * freq[m]!;
          len[m] = bits;
        }
        left--;
      }
    }
  }

  /** Canonical codes (RFC 1951 3.2.2) from the length histogram, bit-reversed for sending. */
  private assignCodes(tree: HuffmanTree): void {
    assignCanonicalCodes(tree.len, tree.code, tree.maxCode, this.lengthCount, this.nextCode);
  }
}

/**
 * Canonical code assignment: codes of each length are consecutive, in symbol order, starting
 * right after the last code of the previous length.
 */
export function assignCanonicalCodes(
  len: Int32Array,
  code: Int32Array,
  maxCode: number,
  lengthCount: Int32Array,
  nextCode: Int32Array,
): void {
  let c = 0;
  for (let bits = 1; bits <= MAX_CODE_BITS; bits++) {
    c = (c + lengthCount[bits - 1]!) << 1;
    nextCode[bits] = c;
  }
  for (let n = 0; n <= maxCode; n++) {
    const l = len[n]!;
    if (l === 0) continue;
    code[n] = reverseBits(nextCode[l]!++, l);
  }
}
