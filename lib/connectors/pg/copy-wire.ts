/**
 * COPY pages at the wire level, for the PG -> PG pass-through. In copy-out mode the server sends one CopyData
 * message ('d', int32 length, payload) per row (binary COPY: the file header rides in the first row's message,
 * the trailer comes in a message of its own), and in copy-in mode the client sends CopyData messages of the
 * very same shape (the server reads them as one byte stream, boundaries do not matter); so a keyed page can
 * travel from the source socket to the target socket as the bytes it came in, with no per-row object on the way. pg-copy-streams makes one Buffer per row when reading, which is most
 * of the CPU a pass-through page costs, so these two pg "submittables" (the extension point node-postgres gives
 * COPY, cursors and streams) are written here.
 *
 * Invariant: a page is complete or an error: `readCopyPage` resolves only after CopyDone / CommandComplete /
 * ReadyForQuery; `writeCopyPage` only after the server acknowledged the COPY (CommandComplete, ReadyForQuery).
 */
import type { PoolClient } from 'pg';

const COPY_DATA = 0x64; // 'd'
const COPY_OUT_RESPONSE = 0x48; // 'H'
/** Asynchronous messages the server may interleave in copy-out mode; ignored, as libpq's COPY readers do. */
const INTERLEAVED = new Set([0x4e /* N notice */, 0x53 /* S parameter status */, 0x41 /* A notification */]);

/**
 * Raw CopyData messages of one page: `chunks` hold exactly `messages` whole messages, protocol headers included.
 * `rows` is the server's own count (CommandComplete `COPY n`), never derived from the messages: text COPY sends
 * one message per row, binary COPY also sends its file header and trailer (see copy-binary.ts).
 */
export interface CopyPage {
  chunks: Buffer[];
  rows: number;
  messages: number;
  bytes: number;
  /** The last message's payload (text: the last row's COPY line, newline included); empty without messages. */
  last: Buffer;
  /** The payload of the message before the last; empty with fewer than two messages. */
  beforeLast: Buffer;
}

/** What node-postgres calls on a submitted query; only the methods used here. */
type OnData = (b: Buffer) => void;

interface PgConnection {
  stream: {
    listeners(e: 'data'): OnData[];
    on(e: 'data', fn: OnData): void;
    removeListener(e: 'data', fn: OnData): void;
    write(b: Buffer): boolean;
    cork(): void;
    uncork(): void;
  };
  query(text: string): void;
  endCopyFrom(): void;
}

abstract class WireQuery<T> {
  callback?: (err: Error | null) => void;
  protected error: Error | null = null;
  readonly done: Promise<T>;
  private settle!: { resolve: (v: T) => void; reject: (e: Error) => void };

  constructor(protected readonly text: string) {
    this.done = new Promise<T>((resolve, reject) => (this.settle = { resolve, reject }));
  }

  protected abstract result(): T;

  /**
   * node-postgres drops a query from its active slot when an ErrorResponse arrives, so it never sees the
   * ReadyForQuery after it: the error settles the query here. The client still waits for that ReadyForQuery
   * before it sends anything else.
   */
  handleError(err: Error): void {
    if (this.error) return;
    this.error = err;
    this.settle.reject(err);
    this.callback?.(err);
  }

  handleCommandComplete(_msg?: { text?: string }): void {}

  handleEmptyQuery(): void {}

  handleReadyForQuery(): void {
    if (this.error) return;
    let out: T;
    try {
      out = this.result();
    } catch (e) {
      this.error = e as Error;
      this.settle.reject(this.error);
      this.callback?.(this.error);
      return;
    }
    this.settle.resolve(out);
    this.callback?.(null);
  }
}

/** `COPY (...) TO STDOUT` read as raw CopyData messages, from the socket straight into a page. */
class CopyOutPageQuery extends WireQuery<CopyPage> {
  private connection?: PgConnection;
  private pgOnData?: (b: Buffer) => void;
  private readonly chunks: Buffer[] = [];
  private messages = 0;
  private rows = -1;
  private bytes = 0;
  /** Bytes of the current CopyData message still to come in later socket chunks. */
  private need = 0;
  /** An incomplete message header (or non-data message) carried over to the next socket chunk. */
  private carry: Buffer | null = null;
  /**
   * Where the last CopyData payload starts (chunk index, offset) and its length, and the same for the one before
   * it; plain numbers, as this is updated once per row (idx -1: none yet).
   */
  private lastIdx = -1;
  private lastOff = 0;
  private lastLen = 0;
  private prevIdx = -1;
  private prevOff = 0;
  private prevLen = 0;
  private readonly onData = (b: Buffer) => this.consume(b);

  submit(connection: PgConnection): void {
    this.connection = connection;
    const stream = connection.stream;
    const handlers = stream.listeners('data');
    if (handlers.length !== 1) throw new Error(`COPY page reader: expected one data listener on the connection, found ${handlers.length}`);
    this.pgOnData = handlers[0];
    stream.removeListener('data', this.pgOnData);
    stream.on('data', this.onData);
    connection.query(this.text);
  }

  private keep(b: Buffer, start: number, end: number): void {
    if (end > start) {
      this.chunks.push(b.subarray(start, end));
      this.bytes += end - start;
    }
  }

  private consume(input: Buffer): void {
    let b = input;
    if (this.carry) {
      b = Buffer.concat([this.carry, input]);
      this.carry = null;
    }
    let pos = 0;
    // Bytes from 0 are data: the rest of a message begun in an earlier chunk, or a carried header.
    let runStart = 0;
    if (this.need > 0) {
      const n = Math.min(this.need, b.length);
      this.need -= n;
      pos = n;
      if (this.need > 0) return this.keep(b, 0, b.length);
    }
    while (pos < b.length) {
      if (b.length - pos < 5) break;
      const code = b[pos];
      const len = b.readUInt32BE(pos + 1);
      if (code === COPY_DATA) {
        this.messages++;
        // The current run becomes chunk number chunks.length when it is kept.
        this.prevIdx = this.lastIdx;
        this.prevOff = this.lastOff;
        this.prevLen = this.lastLen;
        this.lastIdx = this.chunks.length;
        this.lastOff = pos - runStart + 5;
        this.lastLen = len - 4;
        const end = pos + 1 + len;
        if (end > b.length) {
          this.need = end - b.length;
          return this.keep(b, runStart, b.length);
        }
        pos = end;
        continue;
      }
      this.keep(b, runStart, pos);
      runStart = pos;
      if (code === COPY_OUT_RESPONSE || INTERLEAVED.has(code)) {
        if (pos + 1 + len > b.length) break;
        pos += 1 + len;
        runStart = pos;
        continue;
      }
      // CopyDone, an ErrorResponse or anything else: node-postgres takes the connection back from here.
      return this.detach(b.subarray(pos));
    }
    this.keep(b, runStart, pos);
    if (pos < b.length) this.carry = Buffer.from(b.subarray(pos));
  }

  private detach(rest: Buffer): void {
    const stream = this.connection!.stream;
    stream.removeListener('data', this.onData);
    stream.on('data', this.pgOnData!);
    this.pgOnData!(rest);
  }

  /** CommandComplete of the COPY: `COPY n`, the rows the server sent. */
  override handleCommandComplete(msg?: { text?: string }): void {
    const m = /^COPY (\d+)$/.exec(msg?.text ?? '');
    if (m) this.rows = Number(m[1]);
  }

  /** The socket's own Buffers, sliced (never concatenated: a copy per page would double the bytes allocated). */
  protected result(): CopyPage {
    if (this.rows < 0) throw new Error('COPY page reader: the server did not report a row count (CommandComplete COPY n)');
    const at = (idx: number, off: number, len: number) => (idx < 0 ? Buffer.alloc(0) : copyAcross(this.chunks, { idx, off, len }));
    const last = at(this.lastIdx, this.lastOff, this.lastLen);
    return { chunks: this.chunks, rows: this.rows, messages: this.messages, bytes: this.bytes, last, beforeLast: at(this.prevIdx, this.prevOff, this.prevLen) };
  }

  override handleError(err: Error): void {
    super.handleError(err);
    // A connection error while this reader holds the socket: give it back so the client can tear down.
    if (this.connection && this.connection.stream.listeners('data').includes(this.onData)) this.detach(Buffer.alloc(0));
  }
}

/** `COPY ... FROM STDIN` fed with CopyData messages as they are. */
class CopyInPageQuery extends WireQuery<void> {
  constructor(
    text: string,
    private readonly chunks: Buffer[],
  ) {
    super(text);
  }

  submit(connection: PgConnection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: PgConnection): void {
    // Corked: the page's slices leave in one writev.
    connection.stream.cork();
    for (const c of this.chunks) connection.stream.write(c);
    connection.endCopyFrom();
    process.nextTick(() => connection.stream.uncork());
  }

  protected result(): void {}
}

/** Reads one page as raw CopyData messages. `sql` is a complete `COPY (...) TO STDOUT` statement. */
export async function readCopyPage(client: PoolClient, sql: string): Promise<CopyPage> {
  const q = new CopyOutPageQuery(sql);
  client.query(q as never);
  return q.done;
}

/** Writes raw CopyData messages (e.g. a page from `readCopyPage`) through `sql`, a `COPY ... FROM STDIN`. */
export async function writeCopyPage(client: PoolClient, sql: string, chunks: Buffer[]): Promise<void> {
  const q = new CopyInPageQuery(sql, chunks);
  client.query(q as never);
  return q.done;
}

/** Walks whole CopyData messages laid end to end over `chunks`, calling `fn` with each payload. */
export function forEachPayload(chunks: Buffer[], fn: (payload: Buffer) => void): void {
  const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  for (let pos = 0; pos + 5 <= all.length; ) {
    const len = all.readUInt32BE(pos + 1);
    fn(all.subarray(pos + 5, pos + 1 + len));
    pos += 1 + len;
  }
}

/** Copies `len` bytes starting at chunk `idx`, offset `off`, across chunk borders. */
function copyAcross(chunks: Buffer[], at: { idx: number; off: number; len: number }): Buffer {
  const out = Buffer.allocUnsafe(at.len);
  let idx = at.idx;
  let off = at.off;
  for (let n = 0; n < at.len; idx++, off = 0) {
    while (off >= chunks[idx].length) {
      off -= chunks[idx].length;
      idx++;
    }
    n += chunks[idx].copy(out, n, off, Math.min(chunks[idx].length, off + at.len - n));
  }
  return out;
}
