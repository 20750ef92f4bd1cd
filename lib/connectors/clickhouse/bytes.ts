/**
 * A payload being built: bytes written straight into Buffers of `chunkBytes` (off the JS heap), kept in order.
 *
 * Invariant: writers call {@link ByteChunks.room} with the most bytes they may write before touching `buf` at
 * `pos`; a value never straddles two Buffers (a Buffer larger than `chunkBytes` is made for a value that needs it).
 * {@link ByteChunks.take} hands the filled Buffers over and starts afresh: they are never written again.
 */
export class ByteChunks {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  private chunks: Buffer[] = [];
  private done = 0;

  constructor(readonly chunkBytes: number) {}

  /** Bytes written since the last take. */
  get length(): number {
    return this.done + this.pos;
  }

  /** Makes `buf` hold at least `n` more bytes at `pos`. */
  room(n: number): void {
    if (this.pos + n > this.buf.length) this.next(n);
  }

  private next(n: number): void {
    if (this.pos) this.chunks.push(this.buf.subarray(0, this.pos));
    this.done += this.pos;
    this.buf = Buffer.allocUnsafe(Math.max(this.chunkBytes, n));
    this.pos = 0;
  }

  /** The Buffers written since the last take, in order (none when nothing was written). */
  take(): Buffer[] {
    if (this.pos) this.chunks.push(this.buf.subarray(0, this.pos));
    const out = this.chunks;
    this.chunks = [];
    this.done = 0;
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    return out;
  }
}
