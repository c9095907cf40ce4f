/**
 * Small growable byte writer and a cursor reader with varints and strings (UTF-8).
 *
 * "Binary strings" (one character per byte, 0–255, as Node's 'latin1' encoding makes them) carry encoded
 * records inside the index: V8 keeps them as compact one-byte strings, and a snapshot loader turns a record's
 * bytes into one with a single latin1 decode when it is first read.
 */
export class ByteWriter {
  buf: Buffer;
  view: DataView;
  length = 0;

  constructor(capacity = 64 * 1024) {
    this.buf = Buffer.alloc(capacity);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = Buffer.alloc(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  varint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.length++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.length++] = v;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  /** Varint byte length, then UTF-8. */
  string(s: string): void {
    this.utf8(s, false);
  }

  /**
   * A string whose UTF-8 length is recorded with a tag bit: varint(2·bytes + (ASCII ? 0 : 1)), then the bytes.
   * A reader can take an ASCII string's bytes as latin1 (one byte, one character) without UTF-8 decoding.
   */
  taggedString(s: string): void {
    this.utf8(s, true);
  }

  private utf8(s: string, tagged: boolean): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(tagged ? 2 * n + (n === s.length ? 0 : 1) : n);
    this.ensure(n);
    this.length += this.buf.write(s, this.length, n, 'utf8');
  }

  /** A binary string (see above): varint length, then one byte per character. */
  binary(s: string): void {
    this.varint(s.length);
    this.ensure(s.length);
    this.length += this.buf.write(s, this.length, s.length, 'latin1');
  }

  /** The bytes written so far as a binary string; resets the writer. */
  takeBinary(): string {
    const out = this.buf.toString('latin1', 0, this.length);
    this.length = 0;
    return out;
  }
}

export class ByteReader {
  pos = 0;
  private readonly view: DataView;
  private readonly buffer: Buffer;

  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.buffer = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.buf.length) throw new RangeError('varint past end');
      const b = this.buf[this.pos++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    throw new RangeError('varint too long');
  }

  u8(): number {
    if (this.pos >= this.buf.length) throw new RangeError('u8 past end');
    return this.buf[this.pos++];
  }

  u32(): number {
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(): number {
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  string(): string {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new RangeError('string past end');
    const s = this.buffer.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}
