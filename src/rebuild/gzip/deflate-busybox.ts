/**
 * The match finder of busybox 1.37.0 gzip as configured by `make defconfig` (GZIP_FAST=0,
 * FEATURE_GZIP_LEVELS off): gzip 1.2.4's lazy-matching deflate with level-6 parameters, a
 * 13-bit hash and an 8 KiB symbol buffer. It reproduces busybox's decisions exactly, which is
 * why it mirrors its window layout: a 64 KiB buffer whose upper half slides down, hash chains
 * that store window positions, 0 meaning "no entry", and stale bytes left past the end of the
 * data (they influence the last matches of a stream, see `fill`).
 */
import { EnclaveVerifyError } from '../../errors.js';
import { BitWriter } from './bit-writer.js';
import { BlockWriter } from './block-writer.js';

const WSIZE = 0x8000;
const WMASK = WSIZE - 1;
const WINDOW_SIZE = 2 * WSIZE;
const HASH_BITS = 13;
const HASH_MASK = (1 << HASH_BITS) - 1;
/** Shift per byte so that after 3 bytes the oldest one has left the 13-bit hash. */
const HASH_SHIFT = 5;
const MIN_MATCH = 3;
const MAX_MATCH = 258;
/** A match needs MAX_MATCH bytes ahead, plus MIN_MATCH to hash the string after it. */
const MIN_LOOKAHEAD = MAX_MATCH + MIN_MATCH + 1;
/** Matches reach back at most this far (less than 32 KiB so the window can slide in halves). */
const MAX_DIST = WSIZE - MIN_LOOKAHEAD;
/** A 3-byte match farther than this costs more than three literals; it is dropped. */
const TOO_FAR = 4096;
// Level 6 of gzip, the only level busybox has when levels are compiled out (`--best` is
// accepted and ignored).
const MAX_CHAIN = 128;
const MAX_LAZY = 16;
const GOOD_MATCH = 8;
const NICE_MATCH = 128;
/**
 * Bytes readable past the window. Near the end of a stream busybox compares (and hashes) up to
 * 258 bytes beyond the data, which can run past its 64 KiB window; those bytes never become
 * part of a match (lengths are clipped to the data), and we model them as zeros.
 */
const WINDOW_SLACK = MAX_MATCH + 8;
/** Input accepted ahead of the window: enough for the largest single read busybox makes. */
const STAGING_SIZE = WINDOW_SIZE;

/** Subtracts WSIZE from every stored position, flooring at 0 (branch-free: it runs often). */
function rebase(positions: Uint16Array): void {
  for (let i = 0; i < positions.length; i++) {
    const d = positions[i]! - WSIZE;
    positions[i] = d & ~(d >> 31);
  }
}

/**
 * Streaming deflate encoder producing busybox gzip's exact raw deflate stream (no gzip
 * header). Feed input with `write`, then call `finish`; both return the compressed bytes
 * completed so far. Memory stays bounded whatever the input size: about half a MiB of tables
 * and window, plus the compressed bytes a single call returns.
 *
 * @example
 * ```ts
 * const d = new BusyboxDeflater();
 * const parts = [d.write(utf8('hello hello hello')), d.finish()];
 * ```
 */
export class BusyboxDeflater {
  private readonly window = new Uint8Array(WINDOW_SIZE + WINDOW_SLACK);
  /**
   * `pairs[i]` = window[i] | window[i + 1] << 8, kept in step with the window. Purely a speed
   * aid: the match finder's four single-byte screening tests become two 16-bit ones.
   */
  private readonly pairs = new Uint16Array(WINDOW_SIZE + WINDOW_SLACK);
  /** Previous position with the same hash, per position modulo 32 KiB. */
  private readonly prev = new Uint16Array(WSIZE);
  /** Most recent position per hash value (0: none, so position 0 can never be matched). */
  private readonly head = new Uint16Array(1 << HASH_BITS);
  private readonly out = new BitWriter();
  private readonly blocks = new BlockWriter(this.out);

  /** Input received but not yet moved into the window. */
  private readonly staging = new Uint8Array(STAGING_SIZE);
  private stagedFrom = 0;
  private stagedTo = 0;

  private strstart = 0;
  private lookahead = 0;
  /** Window position where the current block starts; negative once slid out. */
  private blockStart = 0;
  private insH = 0;
  private matchStart = 0;
  private matchLength = MIN_MATCH - 1;
  private matchAvailable = false;
  private eof = false;
  private started = false;
  private finished = false;

  /** Accepts more input; returns the compressed bytes completed so far (often empty). */
  write(chunk: Uint8Array): Uint8Array {
    if (this.finished)
      throw new EnclaveVerifyError(
        'ERR_USAGE',
        'BusyboxDeflater.write called after finish(); create a new deflater for each stream',
      );
    let off = 0;
    while (off < chunk.length) {
      if (this.stagedFrom > 0 && this.stagedTo === STAGING_SIZE) {
        this.staging.copyWithin(0, this.stagedFrom, this.stagedTo);
        this.stagedTo -= this.stagedFrom;
        this.stagedFrom = 0;
      }
      const n = Math.min(chunk.length - off, STAGING_SIZE - this.stagedTo);
      this.staging.set(chunk.subarray(off, off + n), this.stagedTo);
      this.stagedTo += n;
      off += n;
      this.pump(false);
    }
    return this.out.take();
  }

  /** Ends the input; returns the rest of the deflate stream, ending on a byte boundary. */
  finish(): Uint8Array {
    if (!this.finished) {
      this.pump(true);
      this.finished = true;
    }
    return this.out.take();
  }

  /**
   * Moves staged input into the window the way busybox reads its input file: every read asks
   * for all free window space and (from a regular file) gets it all, or everything left at the
   * end. Reproducing those read sizes matters because they decide when the window slides,
   * which bytes sit past the end of the data, and thus some matches. When the staging area
   * cannot yet satisfy a full read and more input may come, nothing changes and false is
   * returned so the caller waits for more.
   */
  private fill(final: boolean): boolean {
    while (this.lookahead < MIN_LOOKAHEAD && !this.eof) {
      let more = WINDOW_SIZE - this.lookahead - this.strstart;
      const slide = this.strstart >= WSIZE + MAX_DIST;
      if (slide) more += WSIZE;
      const avail = this.stagedTo - this.stagedFrom;
      if (avail < more && !final) return false;
      if (slide) this.slide();
      const n = Math.min(more, avail);
      if (n === 0) {
        this.eof = true;
      } else {
        this.take(this.strstart + this.lookahead, n);
        this.lookahead += n;
      }
    }
    return true;
  }

  private take(at: number, n: number): void {
    const win = this.window;
    win.set(this.staging.subarray(this.stagedFrom, this.stagedFrom + n), at);
    this.stagedFrom += n;
    this.updatePairs(at > 0 ? at - 1 : 0, at + n);
  }

  private updatePairs(from: number, to: number): void {
    const win = this.window;
    const pairs = this.pairs;
    let low = win[from]!;
    for (let i = from; i < to; i++) {
      const high = win[i + 1]!;
      pairs[i] = low | (high << 8);
      low = high;
    }
  }

  /**
   * Moves the upper half of the window down and rebases every stored position. Entries that
   * fall out become 0 ("no entry"), including one that pointed exactly at the old upper half's
   * start: busybox loses that candidate too.
   */
  private slide(): void {
    this.window.copyWithin(0, WSIZE, WINDOW_SIZE);
    this.pairs.copyWithin(0, WSIZE, WINDOW_SIZE);
    this.updatePairs(WSIZE - 1, WSIZE);
    this.matchStart -= WSIZE;
    this.strstart -= WSIZE;
    this.blockStart -= WSIZE;
    rebase(this.head);
    rebase(this.prev);
  }

  /** The first read fills the whole 64 KiB window (busybox reads 2 * WSIZE up front). */
  private start(final: boolean): boolean {
    const avail = this.stagedTo - this.stagedFrom;
    if (avail < WINDOW_SIZE && !final) return false;
    this.started = true;
    const n = Math.min(WINDOW_SIZE, avail);
    if (n === 0) {
      this.eof = true;
      return true;
    }
    this.take(0, n);
    this.lookahead = n;
    this.fill(final);
    const w = this.window;
    this.insH = ((w[0]! << HASH_SHIFT) ^ w[1]!) & HASH_MASK;
    return true;
  }

  /** Runs the lazy matcher as far as the available input allows (to the end if `final`). */
  private pump(final: boolean): void {
    if (!this.started && !this.start(final)) return;
    const win = this.window;
    const prev = this.prev;
    const head = this.head;
    const blocks = this.blocks;
    for (;;) {
      if (!this.fill(final)) return;
      if (this.lookahead === 0) break;

      let strstart = this.strstart;
      let lookahead = this.lookahead;
      let blockStart = this.blockStart;
      let insH = this.insH;
      let matchLength = this.matchLength;
      let matchAvailable = this.matchAvailable;
      const eof = this.eof;
      // Steps until the lookahead runs low (then the window must be refilled first) or the
      // data ends.
      while (lookahead !== 0 && (eof || lookahead >= MIN_LOOKAHEAD)) {
        insH = ((insH << HASH_SHIFT) ^ win[strstart + 2]!) & HASH_MASK;
        const hashHead = head[insH]!;
        prev[strstart & WMASK] = hashHead;
        head[insH] = strstart;

        // Lazy evaluation: the match found at the previous position is only emitted if this
        // position does not have a longer one.
        const prevLength = matchLength;
        const prevMatch = this.matchStart;
        matchLength = MIN_MATCH - 1;
        if (hashHead !== 0 && prevLength < MAX_LAZY && strstart - hashHead <= MAX_DIST) {
          matchLength = this.longestMatch(hashHead, strstart, prevLength);
          if (matchLength > lookahead) matchLength = lookahead;
          if (matchLength === MIN_MATCH && strstart - this.matchStart > TOO_FAR) matchLength--;
        }

        if (prevLength >= MIN_MATCH && matchLength <= prevLength) {
          const full = blocks.tallyMatch(strstart - 1 - prevMatch, prevLength, strstart - blockStart);
          lookahead -= prevLength - 1;
          // Every position inside the match is hashed too (level 6 inserts them all).
          for (let k = prevLength - 2; k !== 0; k--) {
            strstart++;
            insH = ((insH << HASH_SHIFT) ^ win[strstart + 2]!) & HASH_MASK;
            prev[strstart & WMASK] = head[insH]!;
            head[insH] = strstart;
          }
          matchAvailable = false;
          matchLength = MIN_MATCH - 1;
          strstart++;
          if (full) {
            blocks.flush(win, blockStart, strstart - blockStart, blockStart >= 0, false);
            blockStart = strstart;
          }
        } else if (matchAvailable) {
          if (blocks.tallyLiteral(win[strstart - 1]!, strstart - blockStart)) {
            blocks.flush(win, blockStart, strstart - blockStart, blockStart >= 0, false);
            blockStart = strstart;
          }
          strstart++;
          lookahead--;
        } else {
          matchAvailable = true;
          strstart++;
          lookahead--;
        }
      }
      this.strstart = strstart;
      this.lookahead = lookahead;
      this.blockStart = blockStart;
      this.insH = insH;
      this.matchLength = matchLength;
      this.matchAvailable = matchAvailable;
    }

    if (this.matchAvailable) {
      this.blocks.tallyLiteral(win[this.strstart - 1]!, this.strstart - this.blockStart);
      this.matchAvailable = false;
    }
    const bs = this.blockStart;
    this.blocks.flush(win, bs, this.strstart - bs, bs >= 0, true);
  }

  /**
   * Longest match for the string at `strstart` along its hash chain, considering only matches
   * longer than `prevLength`. Sets `matchStart` when it finds one. busybox's choices: walk at
   * most 128 links (32 if the previous match was already 8 or longer), stop at the first
   * match of 128 or more, keep the nearest of equally long matches, and never compare byte 2,
   * which equal hashes imply for genuine chain entries.
   */
  private longestMatch(cur: number, strstart: number, prevLength: number): number {
    const win = this.window;
    const prev = this.prev;
    let chain = prevLength >= GOOD_MATCH ? MAX_CHAIN >> 2 : MAX_CHAIN;
    let best = prevLength;
    const limit = strstart > MAX_DIST ? strstart - MAX_DIST : 0;
    const pairs = this.pairs;
    const startPair = pairs[strstart]!;
    let endPair = pairs[strstart + best - 1]!;
    do {
      if (pairs[cur + best - 1] === endPair && pairs[cur] === startPair) {
        // Bytes 3..257 decide the length (a mismatch at 258 no longer matters). Compare two
        // bytes at a time, checking the end only every 8 bytes; the slack after the window
        // makes the overshoot safe.
        let p = strstart + 3;
        let q = cur + 3;
        const end = strstart + MAX_MATCH;
        for (;;) {
          if (pairs[p] !== pairs[q]) break;
          p += 2;
          q += 2;
          if (pairs[p] !== pairs[q]) break;
          p += 2;
          q += 2;
          if (pairs[p] !== pairs[q]) break;
          p += 2;
          q += 2;
          if (pairs[p] !== pairs[q]) break;
          p += 2;
          q += 2;
          if (p >= end) break;
        }
        if (p < end && win[p] === win[q]) p++;
        const len = p < end ? p - strstart : MAX_MATCH;
        if (len > best) {
          this.matchStart = cur;
          best = len;
          if (len >= NICE_MATCH) break;
          endPair = pairs[strstart + best - 1]!;
        }
      }
      cur = prev[cur & WMASK]!;
    } while (cur > limit && --chain !== 0);
    return best;
  }
}
