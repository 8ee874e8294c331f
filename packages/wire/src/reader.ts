// Bounds-checked cursor over a Buffer. Reads return undefined past the end instead of throwing,
// so decoders stay total.

export class Reader {
  private pos: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  u8(): number | undefined {
    if (this.pos + 1 > this.end) return undefined;
    const v = this.buf[this.pos];
    this.pos += 1;
    return v;
  }

  u16(): number | undefined {
    if (this.pos + 2 > this.end) return undefined;
    const b = this.buf;
    const v = ((b[this.pos] ?? 0) << 8) | (b[this.pos + 1] ?? 0);
    this.pos += 2;
    return v;
  }

  u32(): number | undefined {
    if (this.pos + 4 > this.end) return undefined;
    const b = this.buf;
    const v = ((b[this.pos] ?? 0) * 0x1000000 + (((b[this.pos + 1] ?? 0) << 16) | ((b[this.pos + 2] ?? 0) << 8) | (b[this.pos + 3] ?? 0)));
    this.pos += 4;
    return v;
  }

  /** A view (not a copy) of the next n bytes. */
  bytes(n: number): Uint8Array | undefined {
    if (n < 0 || this.pos + n > this.end) return undefined;
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  skip(n: number): boolean {
    if (n < 0 || this.pos + n > this.end) return false;
    this.pos += n;
    return true;
  }
}
