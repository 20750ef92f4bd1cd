/**
 * Insert payloads of a target table in its format (target.ts): rows with ape-dts's two extra columns, encoded
 * into Buffers of `chunkBytes`, handed over whole.
 *
 * Invariants: a row that does not fit (IN001 naming the table, the column and the row's key) throws out of
 * {@link RowsPayload.add}; callers then drop the builder, so nothing of that payload is sent -- ClickHouse writes
 * whatever a request delivered, even one cut short. Columns absent from a row are left out of a JSON line (the
 * server puts their default) and get the type's default in RowBinary (a table whose columns have DEFAULT
 * expressions is never RowBinary).
 */
import { FerryError } from '../../core/errors.ts';
import type { ClickhouseApi } from './client.ts';
import type { Row } from '../../core/values.ts';
import { ByteChunks } from './bytes.ts';
import { FitError } from './fit.ts';
import { DELETED_COL, VERSION_COL } from './sql.ts';
import { keyText, type TargetColumn, type TargetShape } from './target.ts';

export interface RowsPayload {
  /** Appends one row; IN001 when a value does not fit its column. */
  add(row: Row, deleted: 0 | 1, version: number): void;
  /** Bytes so far (about: JSON text not yet copied counts one byte a character). */
  readonly bytes: number;
  /** The payload so far, in order, and a fresh start. */
  take(): Buffer[];
}

export function rowsPayload(shape: TargetShape, chunkBytes: number): RowsPayload {
  return shape.format === 'RowBinary' ? new RowBinaryPayload(shape, chunkBytes) : new JsonPayload(shape, chunkBytes);
}

function notFit(shape: TargetShape, c: TargetColumn, row: Row, e: FitError): FerryError {
  const key = keyText(row, shape.keyColumns);
  return new FerryError('IN001', `target ${shape.id}: value does not fit column ${c.name} (${e.message}) at key ${key}`, {
    details: { table: shape.id, column: c.name, key },
  });
}

/**
 * One JSONEachRow line for `row` with the extra columns. Columns absent from `row` are left out (the server
 * puts their default: delete markers carry only the key). IN001 naming the table and the row's key when a value
 * does not fit.
 */
export function encodeLine(shape: TargetShape, row: Row, deleted: 0 | 1, version: number): string {
  let s = '{';
  for (const c of shape.columns) {
    const v = row[c.name];
    if (v === undefined) continue;
    try {
      if (v === null) {
        if (!c.type.nullable) throw new FitError(`NULL in non-Nullable ${c.type.inner}`);
        s += c.prefix + 'null,';
      } else s += c.prefix + c.encode(v) + ',';
    } catch (e) {
      if (!(e instanceof FitError)) throw e;
      throw notFit(shape, c, row, e);
    }
  }
  return `${s}"${DELETED_COL}":${deleted},"${VERSION_COL}":${version}}\n`;
}

/** Writes `row` with the extra columns as one RowBinary row (format RowBinary only). */
export function writeRowBinary(shape: TargetShape, o: ByteChunks, row: Row, deleted: 0 | 1, version: number): void {
  for (const c of shape.columns) {
    try {
      c.write!(o, row[c.name]);
    } catch (e) {
      if (!(e instanceof FitError)) throw e;
      throw notFit(shape, c, row, e);
    }
  }
  shape.extras!.deleted(o, deleted);
  shape.extras!.version(o, version);
}

class RowBinaryPayload implements RowsPayload {
  private readonly out: ByteChunks;

  constructor(private readonly shape: TargetShape, chunkBytes: number) {
    this.out = new ByteChunks(chunkBytes);
  }

  add(row: Row, deleted: 0 | 1, version: number): void {
    writeRowBinary(this.shape, this.out, row, deleted, version);
  }

  get bytes(): number {
    return this.out.length;
  }

  take(): Buffer[] {
    return this.out.take();
  }
}

/** JSON lines gather in a short string, copied into the chunks ~64k characters at a time (one Buffer.write each). */
class JsonPayload implements RowsPayload {
  private readonly out: ByteChunks;
  private pending = '';
  private readonly pendingChars: number;
  private readonly enc: 'latin1' | 'utf8';
  /** A UTF-16 code unit takes at most 3 UTF-8 bytes (latin1: 1), so room checks never need byteLength. */
  private readonly perUnit: number;

  constructor(private readonly shape: TargetShape, chunkBytes: number) {
    this.out = new ByteChunks(chunkBytes);
    this.pendingChars = Math.min(1 << 16, chunkBytes >> 2);
    this.enc = shape.latin1 ? 'latin1' : 'utf8';
    this.perUnit = shape.latin1 ? 1 : 3;
  }

  add(row: Row, deleted: 0 | 1, version: number): void {
    this.pending += encodeLine(this.shape, row, deleted, version);
    if (this.pending.length >= this.pendingChars) this.flush();
  }

  private flush(): void {
    if (!this.pending) return;
    const o = this.out;
    o.room(this.pending.length * this.perUnit);
    o.pos += o.buf.write(this.pending, o.pos, this.enc);
    this.pending = '';
  }

  get bytes(): number {
    return this.out.length + this.pending.length;
  }

  take(): Buffer[] {
    this.flush();
    return this.out.take();
  }
}

/** Sends what `payload` holds (nothing when empty) as one INSERT in the table's format, and starts it afresh. */
export async function sendPayload(client: ClickhouseApi, shape: TargetShape, payload: RowsPayload, signal: AbortSignal): Promise<void> {
  const chunks = payload.take();
  if (chunks.length) await client.insert(shape.sql, shape.insertColumns, shape.format, chunks, signal, `target ${shape.id}`);
}
