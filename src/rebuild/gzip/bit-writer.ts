/**
 * Deflate's bit output: values are packed least significant bit first into bytes (RFC 1951
 * 3.1.1). The output buffer grows on demand and is handed out in pieces with `take`, so a
 * streaming encoder holds only what one block produces.
 */
export class BitWriter {
  /** Output bytes; valid up to `pos`. Hot loops may write here directly after `reserve`. */
  buf: Uint8Array;
  pos = 0;
  /** Pending bits not yet forming a whole 16-bit unit, lowest bit first. */
  bits = 0;
  /** Number of pending bits, always below 16 between calls. */
  count = 0;

  constructor(initialSize = 1 << 16) {
    this.buf = new Uint8Array(initialSize);
  }

  /** Makes room for `n` more bytes so callers can write without bounds checks. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }

  /** Appends the low `len` bits of `value` (len <= 16). The caller has reserved space. */
  send(value: number, len: number): void {
    this.bits |= value << this.count;
    this.count += len;
    if (this.count >= 16) {
      const b = this.bits;
      this.buf[this.pos++] = b & 0xff;
      this.buf[this.pos++] = (b >>> 8) & 0xff;
      this.bits = b >>> 16;
      this.count -= 16;
    }
  }

  /** Pads the pending bits with zeros to a byte boundary and writes them out. */
  alignToByte(): void {
    while (this.count > 0) {
      this.buf[this.pos++] = this.bits & 0xff;
      this.bits >>>= 8;
      this.count -= 8;
    }
    this.bits = 0;
    this.count = 0;
  }

  /** Appends whole bytes; only valid at a byte boundary. */
  writeBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Removes and returns the complete bytes written so far (pending bits stay). */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }
}
