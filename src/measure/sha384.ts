/**
 * Incremental SHA-384 in plain TypeScript, for runtimes without a streaming digest
 * (WebCrypto only hashes whole buffers). Node code uses `node:crypto` instead, which is
 * several times faster; this one exists so a browser can measure an EIF section by section
 * without holding two copies of it.
 */

/** A running hash: feed bytes with `update`, read the result once with `digest`. */
export interface Hasher {
  /** Add bytes to the hash. */
  update(bytes: Uint8Array): void;
  /** Finish and return the digest; the hasher must not be used afterwards. */
  digest(): Uint8Array;
  /** An independent hasher in the same state (so a common prefix is hashed once). */
  copy(): Hasher;
}

/** Makes fresh SHA-384 hashers; the pure default is {@link createSha384}. */
export type HasherFactory = () => Hasher;

// SHA-512 round constants as [hi, lo] pairs (FIPS 180-4, section 4.2.3).
const K = new Int32Array(
  [
    '428a2f98d728ae22',
    '7137449123ef65cd',
    'b5c0fbcfec4d3b2f',
    'e9b5dba58189dbbc',
    '3956c25bf348b538',
    '59f111f1b605d019',
    '923f82a4af194f9b',
    'ab1c5ed5da6d8118',
    'd807aa98a3030242',
    '12835b0145706fbe',
    '243185be4ee4b28c',
    '550c7dc3d5ffb4e2',
    '72be5d74f27b896f',
    '80deb1fe3b1696b1',
    '9bdc06a725c71235',
    'c19bf174cf692694',
    'e49b69c19ef14ad2',
    'efbe4786384f25e3',
    '0fc19dc68b8cd5b5',
    '240ca1cc77ac9c65',
    '2de92c6f592b0275',
    '4a7484aa6ea6e483',
    '5cb0a9dcbd41fbd4',
    '76f988da831153b5',
    '983e5152ee66dfab',
    'a831c66d2db43210',
    'b00327c898fb213f',
    'bf597fc7beef0ee4',
    'c6e00bf33da88fc2',
    'd5a79147930aa725',
    '06ca6351e003826f',
    '142929670a0e6e70',
    '27b70a8546d22ffc',
    '2e1b21385c26c926',
    '4d2c6dfc5ac42aed',
    '53380d139d95b3df',
    '650a73548baf63de',
    '766a0abb3c77b2a8',
    '81c2c92e47edaee6',
    '92722c851482353b',
    'a2bfe8a14cf10364',
    'a81a664bbc423001',
    'c24b8b70d0f89791',
    'c76c51a30654be30',
    'd192e819d6ef5218',
    'd69906245565a910',
    'f40e35855771202a',
    '106aa07032bbd1b8',
    '19a4c116b8d2d0c8',
    '1e376c085141ab53',
    '2748774cdf8eeb99',
    '34b0bcb5e19b48a8',
    '391c0cb3c5c95a63',
    '4ed8aa4ae3418acb',
    '5b9cca4f7763e373',
    '682e6ff3d6b2b8a3',
    '748f82ee5defb2fc',
    '78a5636f43172f60',
    '84c87814a1f0ab72',
    '8cc702081a6439ec',
    '90befffa23631e28',
    'a4506cebde82bde9',
    'bef9a3f7b2c67915',
    'c67178f2e372532b',
    'ca273eceea26619c',
    'd186b8c721c0c207',
    'eada7dd6cde0eb1e',
    'f57d4f7fee6ed178',
    '06f067aa72176fba',
    '0a637dc5a2c898a6',
    '113f9804bef90dae',
    '1b710b35131c471b',
    '28db77f523047d84',
    '32caab7b40c72493',
    '3c9ebe0a15c9bebc',
    '431d67c49c100d4c',
    '4cc5d4becb3e42b6',
    '597f299cfc657e2a',
    '5fcb6fab3ad6faec',
    '6c44198c4a475817',
  ].flatMap((h) => [Number.parseInt(h.slice(0, 8), 16) | 0, Number.parseInt(h.slice(8), 16) | 0]),
);

// SHA-384 initial hash value (FIPS 180-4, section 5.3.4).
const IV = new Int32Array(
  [
    'cbbb9d5dc1059ed8',
    '629a292a367cd507',
    '9159015a3070dd17',
    '152fecd8f70e5939',
    '67332667ffc00b31',
    '8eb44a8768581511',
    'db0c2e0d64f98fa7',
    '47b5481dbefa4fa4',
  ].flatMap((h) => [Number.parseInt(h.slice(0, 8), 16) | 0, Number.parseInt(h.slice(8), 16) | 0]),
);

class Sha384 implements Hasher {
  private readonly h = new Int32Array(IV);
  private readonly w = new Int32Array(160);
  private readonly block = new Uint8Array(128);
  private fill = 0;
  private length = 0; // bytes hashed so far; exact up to 2^53
  private done = false;

  update(bytes: Uint8Array): void {
    if (this.done) throw new Error('SHA-384 hasher used after digest()');
    this.length += bytes.length;
    let i = 0;
    if (this.fill > 0) {
      const take = Math.min(128 - this.fill, bytes.length);
      this.block.set(bytes.subarray(0, take), this.fill);
      this.fill += take;
      i = take;
      if (this.fill < 128) return;
      this.compress(this.block, 0);
      this.fill = 0;
    }
    for (; i + 128 <= bytes.length; i += 128) this.compress(bytes, i);
    if (i < bytes.length) {
      this.block.set(bytes.subarray(i), 0);
      this.fill = bytes.length - i;
    }
  }

  digest(): Uint8Array {
    if (this.done) throw new Error('SHA-384 hasher used after digest()');
    const bits = this.length * 8;
    const pad = new Uint8Array(this.fill < 112 ? 128 - this.fill : 256 - this.fill);
    pad[0] = 0x80;
    const view = new DataView(pad.buffer);
    view.setUint32(pad.length - 8, Math.floor(bits / 2 ** 32));
    view.setUint32(pad.length - 4, bits >>> 0);
    this.update(pad);
    this.done = true;
    const out = new Uint8Array(48);
    const o = new DataView(out.buffer);
    for (let k = 0; k < 12; k++) o.setInt32(k * 4, this.h[k]!);
    return out;
  }

  copy(): Hasher {
    const c = new Sha384();
    c.h.set(this.h);
    c.block.set(this.block);
    c.fill = this.fill;
    c.length = this.length;
    c.done = this.done;
    return c;
  }

  private compress(b: Uint8Array, off: number): void {
    const w = this.w;
    for (let t = 0; t < 32; t++) {
      const p = off + t * 4;
      w[t] = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    }
    for (let t = 16; t < 80; t++) {
      // sigma0 of w[t-15] and sigma1 of w[t-2], on (hi, lo) halves
      const xh = w[(t - 15) * 2]!;
      const xl = w[(t - 15) * 2 + 1]!;
      const s0h = ((xh >>> 1) | (xl << 31)) ^ ((xh >>> 8) | (xl << 24)) ^ (xh >>> 7);
      const s0l = ((xl >>> 1) | (xh << 31)) ^ ((xl >>> 8) | (xh << 24)) ^ ((xl >>> 7) | (xh << 25));
      const yh = w[(t - 2) * 2]!;
      const yl = w[(t - 2) * 2 + 1]!;
      const s1h = ((yh >>> 19) | (yl << 13)) ^ ((yl >>> 29) | (yh << 3)) ^ (yh >>> 6);
      const s1l = ((yl >>> 19) | (yh << 13)) ^ ((yh >>> 29) | (yl << 3)) ^ ((yl >>> 6) | (yh << 26));
      let lo = (s0l >>> 0) + (s1l >>> 0) + (w[(t - 7) * 2 + 1]! >>> 0) + (w[(t - 16) * 2 + 1]! >>> 0);
      const hi = s0h + s1h + w[(t - 7) * 2]! + w[(t - 16) * 2]! + Math.floor(lo / 2 ** 32);
      lo >>>= 0;
      w[t * 2] = hi | 0;
      w[t * 2 + 1] = lo | 0;
    }
    const h = this.h;
    let ah = h[0]!,
      al = h[1]!,
      bh = h[2]!,
      bl = h[3]!,
      ch = h[4]!,
      cl = h[5]!,
      dh = h[6]!,
      dl = h[7]!;
    let eh = h[8]!,
      el = h[9]!,
      fh = h[10]!,
      fl = h[11]!,
      gh = h[12]!,
      gl = h[13]!,
      hh = h[14]!,
      hl = h[15]!;
    for (let t = 0; t < 80; t++) {
      const S1h = ((eh >>> 14) | (el << 18)) ^ ((eh >>> 18) | (el << 14)) ^ ((el >>> 9) | (eh << 23));
      const S1l = ((el >>> 14) | (eh << 18)) ^ ((el >>> 18) | (eh << 14)) ^ ((eh >>> 9) | (el << 23));
      const chh = (eh & fh) ^ (~eh & gh);
      const chl = (el & fl) ^ (~el & gl);
      let t1l = (hl >>> 0) + (S1l >>> 0) + (chl >>> 0) + (K[t * 2 + 1]! >>> 0) + (w[t * 2 + 1]! >>> 0);
      const t1h = hh + S1h + chh + K[t * 2]! + w[t * 2]! + Math.floor(t1l / 2 ** 32);
      t1l >>>= 0;
      const S0h = ((ah >>> 28) | (al << 4)) ^ ((al >>> 2) | (ah << 30)) ^ ((al >>> 7) | (ah << 25));
      const S0l = ((al >>> 28) | (ah << 4)) ^ ((ah >>> 2) | (al << 30)) ^ ((ah >>> 7) | (al << 25));
      const mjh = (ah & bh) ^ (ah & ch) ^ (bh & ch);
      const mjl = (al & bl) ^ (al & cl) ^ (bl & cl);
      let t2l = (S0l >>> 0) + (mjl >>> 0);
      const t2h = S0h + mjh + Math.floor(t2l / 2 ** 32);
      t2l >>>= 0;
      hh = gh;
      hl = gl;
      gh = fh;
      gl = fl;
      fh = eh;
      fl = el;
      let nl = (dl >>> 0) + t1l;
      eh = (dh + t1h + Math.floor(nl / 2 ** 32)) | 0;
      el = nl | 0;
      dh = ch;
      dl = cl;
      ch = bh;
      cl = bl;
      bh = ah;
      bl = al;
      nl = t1l + t2l;
      ah = (t1h + t2h + Math.floor(nl / 2 ** 32)) | 0;
      al = nl | 0;
    }
    const add = (i: number, xh: number, xl: number) => {
      const lo = (h[i + 1]! >>> 0) + (xl >>> 0);
      h[i] = (h[i]! + xh + Math.floor(lo / 2 ** 32)) | 0;
      h[i + 1] = lo | 0;
    };
    add(0, ah, al);
    add(2, bh, bl);
    add(4, ch, cl);
    add(6, dh, dl);
    add(8, eh, el);
    add(10, fh, fl);
    add(12, gh, gl);
    add(14, hh, hl);
  }
}

/**
 * A new incremental SHA-384 hasher (pure TypeScript, any runtime).
 *
 * @example
 * ```ts
 * const h = createSha384();
 * h.update(utf8('ab'));
 * h.update(utf8('c'));
 * toHex(h.digest()); // 'cb00753f...a7' (= SHA-384 of 'abc')
 * ```
 */
export function createSha384(): Hasher {
  return new Sha384();
}
