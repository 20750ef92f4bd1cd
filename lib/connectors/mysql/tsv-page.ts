/**
 * A keyset page read as `mysql-text-tsv` (core/tsv.ts): each text-protocol row packet is turned into one
 * TabSeparated line as it arrives, without building a row, a string or a value.
 *
 * How: mysql2's Query asks its row parser for each row packet; this page's query gets a parser of its own that
 * writes the packet's fields into the page's Buffers and returns nothing. A row whose fields all have one-byte
 * lengths, no NULL and no byte to escape -- most rows -- is copied in one piece: the packet minus its first length
 * byte, with the other length bytes overwritten by tabs, then the format's guard field (core/tsv.ts). Bytes to
 * escape are found per socket chunk with the native byte search (an index of their positions), not byte by byte.
 * Any other row is copied byte by byte.
 *
 * Invariants: `chunks` hold exactly `count` lines and a line never spans chunks; date and datetime values are
 * checked to be real calendar dates (`calendar` false otherwise: the caller sends the page decoded) and their
 * smallest and largest texts are kept in `bounds`. The driver's parser hook is internal API, pinned by the
 * mysql2 version in package-lock.json and covered by test/integration/mysql-clickhouse-tsv.test.ts.
 */
import type { Connection as CoreConnection } from 'mysql2';
import { FerryError } from '../../core/errors.ts';
import type { ColumnMeta } from '../../core/table.ts';
import { forEachTsvLine, MYSQL_TEXT_TSV_FAMILIES, TSV_ESCAPE, tsvFields } from '../../core/tsv.ts';
import type { Row, Value } from '../../core/values.ts';
import { intValue } from './type-map.ts';

export interface TsvPage {
  chunks: Buffer[];
  count: number;
  bytes: number;
  /** The last line's fields (escapes undone), or null for an empty page. */
  last: Array<Buffer | null> | null;
  /** Every date / datetime value is a real calendar date (no zero date, month or day). */
  calendar: boolean;
  /** Per column: [smallest, largest] text of a date / datetime column; null for other columns or no value. */
  bounds: Array<[string, string] | null>;
}

/** Whether every column can travel as `mysql-text-tsv`. */
export const tsvReadable = (cols: readonly ColumnMeta[]): boolean => cols.every((c) => MYSQL_TEXT_TSV_FAMILIES.has(c.family));

const KIND_PLAIN = 0;
const KIND_DATE = 1;
const KIND_DATETIME = 2;
const NONE = 0x7fffffff;
/** The bytes TabSeparated escapes (core/tsv.ts), searched for once per socket buffer. */
const ESCAPED_BYTES = Array.from(TSV_ESCAPE.keys()).filter((b) => TSV_ESCAPE[b] !== 0);
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Digits b[i, i+n) as a number, -1 when one is no digit. */
function digits(b: Uint8Array, i: number, n: number): number {
  let r = 0;
  for (let k = i; k < i + n; k++) {
    const c = b[k] - 48;
    if (c < 0 || c > 9) return -1;
    r = r * 10 + c;
  }
  return r;
}

/** YYYYMMDD[hhmmss] of a real calendar date at b[i, end), or -1. */
function calendarKey(b: Uint8Array, i: number, end: number, withTime: boolean): number {
  if (end - i < (withTime ? 19 : 10)) return -1;
  const y = digits(b, i, 4);
  const m = digits(b, i + 5, 2);
  const d = digits(b, i + 8, 2);
  if (y < 0 || m < 1 || m > 12 || d < 1) return -1;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (d > (m === 2 && leap ? 29 : DAYS[m - 1])) return -1;
  const day = y * 10000 + m * 100 + d;
  if (!withTime) return day;
  const t = digits(b, i + 11, 2) * 10000 + digits(b, i + 14, 2) * 100 + digits(b, i + 17, 2);
  return t < 0 ? -1 : day * 1000000 + t;
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

function keyText(key: number, withTime: boolean): string {
  const day = withTime ? Math.floor(key / 1000000) : key;
  const s = `${pad(Math.floor(day / 10000), 4)}-${pad(Math.floor(day / 100) % 100, 2)}-${pad(day % 100, 2)}`;
  if (!withTime) return s;
  const t = key % 1000000;
  return `${s} ${pad(Math.floor(t / 10000), 2)}:${pad(Math.floor(t / 100) % 100, 2)}:${pad(t % 100, 2)}`;
}

/** A row packet: `buf[start, end)` with its 4-byte header at `start`, the payload from `start + 4`. */
interface RowPacket {
  buffer: Buffer;
  start: number;
  end: number;
}

/**
 * Turns row packets into TabSeparated lines, where it can inside the packets' own buffer: a row's line is never
 * longer than its packet (header included) unless it holds NULLs or bytes to escape, and rows come in order, so
 * each line is written over the packets already read (a packet's bytes are read before anything is written over
 * them). Lines that would outgrow the room left go to a side buffer. The page is the list of these runs, in order.
 */
class TsvWriter {
  readonly chunks: Buffer[] = [];
  count = 0;
  calendar = true;
  /** Why the rows cannot be read (set instead of throwing: mysql2 swallows a row parser's exception). */
  broken: string | undefined;
  private readonly kinds: Uint8Array;
  private readonly min: number[];
  private readonly max: number[];
  /** Field layout of the row being written: length-byte position, data start, data length, per column. */
  private readonly at: Int32Array;
  private readonly from: Int32Array;
  private readonly len: Float64Array;
  private readonly escaped: Uint8Array;
  // The run being written in place: `run[runStart, w)`; undefined while lines go to the side buffer.
  private run: Buffer | undefined;
  private runStart = 0;
  private w = 0;
  private side: Buffer | undefined;
  private sideStart = 0;
  private sidePos = 0;
  private last: { buf: Buffer; start: number; end: number } | undefined;
  // Positions of bytes to escape in `escBuf` (the packet buffer being read), ascending, then NONE.
  private escBuf: Buffer | undefined;
  private esc = new Int32Array(64);
  private k = 0;

  constructor(
    private readonly n: number,
    kinds: number[],
    private readonly sideBytes: number,
  ) {
    this.kinds = Uint8Array.from(kinds);
    this.min = kinds.map(() => Infinity);
    this.max = kinds.map(() => -Infinity);
    this.at = new Int32Array(n);
    this.from = new Int32Array(n);
    this.len = new Float64Array(n);
    this.escaped = new Uint8Array(n);
  }

  private index(b: Buffer): void {
    this.escBuf = b;
    let n = 0;
    for (const byte of ESCAPED_BYTES) {
      for (let at = b.indexOf(byte); at >= 0; at = b.indexOf(byte, at + 1)) {
        if (n + 1 >= this.esc.length) {
          const grown = new Int32Array(this.esc.length * 2);
          grown.set(this.esc);
          this.esc = grown;
        }
        this.esc[n++] = at;
      }
    }
    this.esc.subarray(0, n).sort();
    this.esc[n] = NONE;
    this.k = 0;
  }

  private temporal(c: number, b: Uint8Array, from: number, to: number): void {
    const key = calendarKey(b, from, to, this.kinds[c] === KIND_DATETIME);
    if (key < 0) this.calendar = false;
    else {
      if (key < this.min[c]) this.min[c] = key;
      if (key > this.max[c]) this.max[c] = key;
    }
  }

  /** Ends the current run (in place or side) as a chunk of the page. */
  private cut(): void {
    if (this.run) {
      if (this.w > this.runStart) this.chunks.push(this.run.subarray(this.runStart, this.w));
      this.run = undefined;
    } else if (this.side && this.sidePos > this.sideStart) {
      this.chunks.push(this.side.subarray(this.sideStart, this.sidePos));
      this.sideStart = this.sidePos;
    }
  }

  /** mysql2's row parser entry point (rows it frames itself, see {@link tsvPage}). */
  next(packet: RowPacket): undefined {
    this.row(packet.buffer, packet.start, packet.end);
    return undefined;
  }

  /** One row packet `b[start, end)` (header included) into one line. */
  row(b: Buffer, start: number, end: number): void {
    if (this.broken) return;
    if (b !== this.escBuf) this.index(b);
    const esc = this.esc;
    let k = this.k;
    const n = this.n;
    const i = start + 4;
    while (esc[k] < i) k++;
    // Field layout, and what the line needs beyond the packet's own bytes.
    let j = i;
    let fast = true;
    let growth = 0;
    for (let c = 0; c < n; c++) {
      if (j >= end) {
        this.broken = `a row packet holds fewer than ${n} fields`;
        return;
      }
      this.at[c] = j;
      let len = b[j++];
      if (len === 0xfb) {
        this.len[c] = -1;
        fast = false;
        growth += 2;
        continue;
      }
      if (len >= 0xfc) {
        fast = false;
        if (len === 0xfc) {
          len = b[j] | (b[j + 1] << 8);
          j += 2;
        } else if (len === 0xfd) {
          len = b[j] | (b[j + 1] << 8) | (b[j + 2] << 16);
          j += 3;
        } else {
          len = b.readUInt32LE(j) + b.readUInt32LE(j + 4) * 4294967296;
          j += 8;
        }
      }
      this.from[c] = j;
      this.len[c] = len;
      const stop = j + len;
      while (esc[k] < j) k++;
      let e = 0;
      while (esc[k] < stop) {
        e++;
        k++;
      }
      this.escaped[c] = e ? 1 : 0;
      if (e) {
        fast = false;
        growth += e;
      }
      if (this.kinds[c] !== KIND_PLAIN) this.temporal(c, b, j, stop);
      j = stop;
    }
    this.k = k;
    if (j !== end) {
      this.broken = `a row packet holds more than ${n} fields`;
      return;
    }
    if (this.run !== b) {
      this.cut();
      this.run = b;
      this.runStart = this.w = start;
    }
    const w = this.w;
    if (fast) {
      // The payload minus its first length byte, the other length bytes turned into tabs, then the guard field
      // and a line feed: 2 bytes shorter than the packet with its header, so it never reaches the next packet.
      const size = end - i + 2;
      b.copyWithin(w, i + 1, end);
      for (let c = 1; c < n; c++) b[w + this.at[c] - i - 1] = 0x09;
      b[w + size - 3] = 0x09;
      b[w + size - 2] = 0x30;
      b[w + size - 1] = 0x0a;
      this.w = w + size;
      this.wrote(b, w, w + size);
    } else if (i - w > growth + 3) this.w = this.fields(b, w, b);
    else {
      this.cut();
      const need = end - i + growth + n + 3;
      if (!this.side || this.side.length - this.sidePos < need) {
        this.side = Buffer.allocUnsafe(Math.max(this.sideBytes, need));
        this.sideStart = this.sidePos = 0;
      }
      this.sidePos = this.fields(b, this.sidePos, this.side);
    }
    this.count++;
  }

  /** Writes the fields laid out by `row` (from `b`) as one line into `o` at `p`; returns the end of the line. */
  private fields(b: Buffer, p: number, o: Buffer): number {
    const start = p;
    for (let c = 0; c < this.n; c++) {
      if (c) o[p++] = 0x09;
      const len = this.len[c];
      if (len < 0) {
        o[p++] = 0x5c;
        o[p++] = 0x4e;
        continue;
      }
      const from = this.from[c];
      if (!this.escaped[c]) {
        if (o === b) b.copyWithin(p, from, from + len);
        else b.copy(o, p, from, from + len);
        p += len;
        continue;
      }
      for (let x = from; x < from + len; x++) {
        const byte = b[x];
        const e = TSV_ESCAPE[byte];
        if (e) {
          o[p++] = 0x5c;
          o[p++] = e;
        } else o[p++] = byte;
      }
    }
    o[p++] = 0x09;
    o[p++] = 0x30;
    o[p++] = 0x0a;
    this.wrote(o, start, p);
    return p;
  }

  private wrote(buf: Buffer, start: number, end: number): void {
    const l = (this.last ??= { buf, start, end });
    l.buf = buf;
    l.start = start;
    l.end = end;
  }

  finish(): TsvPage {
    this.cut();
    // The last line, copied out: its bytes sit in a socket buffer the page keeps anyway, but decoding must not
    // depend on that.
    const l = this.last;
    const last = l ? tsvFields(Buffer.from(l.buf.subarray(l.start, l.end - 1)), 0, l.end - 1 - l.start) : null;
    let bytes = 0;
    for (const ch of this.chunks) bytes += ch.length;
    const bounds = Array.from(this.kinds, (kind, c) =>
      kind === KIND_PLAIN || this.min[c] === Infinity ? null : ([keyText(this.min[c], kind === KIND_DATETIME), keyText(this.max[c], kind === KIND_DATETIME)] as [string, string]),
    );
    return { chunks: this.chunks, count: this.count, bytes, last, calendar: this.calendar, bounds };
  }
}

/** mysql2 internals this module touches (see the module note). */
interface QueryInternals {
  next: unknown;
  row: unknown;
}
interface ConnectionInternals {
  packetParser: { execute(chunk: Buffer): void };
  sequenceId: number;
}

/**
 * Frames the connection's packets itself while `q` runs: packets before the rows and the one that ends them are
 * handed to mysql2's parser one whole packet at a time (its state machine sees a clean packet stream); row packets
 * go straight to `w`, with the connection's sequence id kept in step. A row packet of 16 MB or more (split on the
 * wire) hands the rest of the stream back to mysql2, whose row-parser hook still feeds `w`.
 */
function framePackets(conn: ConnectionInternals, q: QueryInternals, w: TsvWriter): () => void {
  const real = conn.packetParser;
  let pending: Buffer | undefined;
  const give = (b: Buffer) => {
    if (b.length) real.execute(b);
  };
  const mine = () => conn.packetParser === proxy;
  /** One whole packet `b[at, end)`: a row to `w`, anything else to mysql2. */
  const packet = (b: Buffer, at: number, end: number): void => {
    const first = b[at + 4];
    const len = end - at - 4;
    if (q.next === q.row && first !== 0xff && !(first === 0xfe && len < 13)) {
      // The sequence id first: w.row rewrites the packet, header included, in place.
      conn.sequenceId = (b[at + 3] + 1) % 256;
      w.row(b, at, end);
    } else give(b.subarray(at, end));
  };
  const lengthAt = (b: Buffer, at: number): number => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
  const proxy = {
    execute(chunk: Buffer): void {
      if (!mine()) return give(chunk);
      let b = chunk;
      let at = 0;
      if (pending) {
        const p = pending;
        pending = undefined;
        if (p.length < 4) b = Buffer.concat([p, chunk]);
        else {
          const total = 4 + lengthAt(p, 0);
          if (total - 4 === 0xffffff || p.length + chunk.length < total) b = Buffer.concat([p, chunk]);
          else {
            // Only the packet split between the two chunks is copied; the rest is read where it arrived.
            const take = total - p.length;
            const head = Buffer.concat([p, chunk.subarray(0, take)], total);
            packet(head, 0, total);
            at = take;
          }
        }
      }
      while (b.length - at >= 4 && mine()) {
        const len = lengthAt(b, at);
        if (len === 0xffffff) {
          // A packet of 16 MB or more comes in parts: mysql2 joins them, and frames the rest of the result.
          conn.packetParser = real;
          return give(b.subarray(at));
        }
        const end = at + 4 + len;
        if (end > b.length) break;
        packet(b, at, end);
        at = end;
      }
      if (at < b.length) {
        if (mine()) pending = Buffer.from(b.subarray(at));
        else give(b.subarray(at));
      }
    },
  };
  conn.packetParser = proxy;
  return () => {
    if (!mine()) return;
    conn.packetParser = real;
    const p = pending;
    pending = undefined;
    if (p) give(p);
  };
}

/**
 * Runs `sql` (selecting `cols`, in order) and returns its rows as `mysql-text-tsv` (see the module note).
 * Rejects with the driver's error; the caller handles aborts (it destroys the connection).
 */
export function tsvPage(core: CoreConnection, sql: string, cols: readonly ColumnMeta[], sideBytes = 1 << 20): Promise<TsvPage> {
  const kinds = cols.map((c) => (c.family === 'date' ? KIND_DATE : c.family === 'datetime' ? KIND_DATETIME : KIND_PLAIN));
  const w = new TsvWriter(cols.length, kinds, sideBytes);
  return new Promise((resolve, reject) => {
    const q = core.query({ sql });
    // mysql2 assigns its own row parser once the column definitions are in; this one stays in place.
    Object.defineProperty(q, '_rowParser', { get: () => w, set: () => undefined, configurable: true });
    // Compressed connections frame packets inside compressed frames: those keep mysql2's framing (and the hook).
    const compressed = Boolean((core as unknown as { config?: { compress?: boolean } }).config?.compress);
    const restore = compressed ? () => undefined : framePackets(core as unknown as ConnectionInternals, q as unknown as QueryInternals, w);
    // mysql2 only warns when a packet's sequence id is not the one it expects; with ferry framing the packets,
    // that means the framing is out of step with the stream, so the page is refused.
    const warn = (e: { message?: string }) => {
      w.broken ??= `mysql2: ${e.message ?? 'warning'}`;
    };
    core.on('warn', warn);
    q.on('fields', (fields: unknown[]) => {
      if (fields.length !== cols.length) w.broken = `${fields.length} columns came back, ${cols.length} were selected`;
    });
    q.on('error', (e) => {
      core.off('warn', warn);
      restore();
      reject(e);
    });
    q.on('end', () => {
      core.off('warn', warn);
      restore();
      if (w.broken) reject(new FerryError('RT002', `mysql-text-tsv page: ${w.broken}`));
      else resolve(w.finish());
    });
  });
}

/** A field of a `mysql-text-tsv` line as the value ferry's MySQL source decodes (rowDecoder) for its family. */
export function tsvValue(c: ColumnMeta, f: Buffer | null): Value {
  if (f === null) return null;
  if (c.family === 'int' || c.family === 'uint' || c.family === 'year') return intValue(f.toString('latin1'));
  if (c.family === 'binary') return Buffer.from(f);
  return f.toString('utf8');
}

/** The rows of `mysql-text-tsv` chunks, keyed by `cols` names. */
export function tsvRows(cols: readonly ColumnMeta[], chunks: readonly Buffer[]): Row[] {
  const rows: Row[] = [];
  forEachTsvLine(chunks, (buf, start, end) => {
    const f = tsvFields(buf, start, end);
    const row: Row = {};
    for (let i = 0; i < cols.length; i++) row[cols[i].name] = tsvValue(cols[i], f[i] ?? null);
    rows.push(row);
  });
  return rows;
}
