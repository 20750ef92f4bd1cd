/**
 * Multi-row write statements for one target table, cut by a byte budget, and the search for the row a
 * rejected statement choked on.
 */
import { FerryError } from '../../core/errors.ts';
import { tableId, type ColumnMeta, type TableRef } from '../../core/table.ts';
import type { Row, TypeFamily, Value } from '../../core/values.ts';
import { columnOf, rowOf, shortReason, type DriverError } from './errors.ts';
import { literalFor, ValueError } from './literal.ts';
import { quoteIdent, quoteTable } from './sql.ts';

/**
 * - `upsert`: INSERT ... ON DUPLICATE KEY UPDATE every non-key column (sinker `replace = false`).
 * - `replace`: REPLACE INTO (delete + insert on any unique conflict; ape-dts default `replace = true`).
 * - `insert`: plain INSERT, only for replaceAll into keyless tables.
 */
export type WriteMode = 'upsert' | 'replace' | 'insert';

/** A written column: the row field `name` (WriteTarget name), its target column as the server spells it, and the source family. */
export interface WriteColumn {
  name: string;
  target: ColumnMeta;
  from: TypeFamily;
}

export interface Statement {
  sql: string;
  rows: Row[];
}

export interface StatementShape {
  table: TableRef;
  columns: WriteColumn[];
  /** Row fields of the key columns. */
  keyColumns: string[];
  /** MySQL >= 8.0.19 row alias instead of the deprecated VALUES(). */
  rowAlias: boolean;
}

/** Builds the statements of one batch; keeps each under `budget` characters (one row may exceed it alone). */
export class StatementBuilder {
  private readonly cols: WriteColumn[];
  private readonly names: string[];

  constructor(
    private readonly shape: StatementShape,
    private readonly budget: number,
  ) {
    this.cols = shape.columns;
    this.names = shape.columns.map((c) => c.target.name);
  }

  head(mode: WriteMode): string {
    const verb = mode === 'replace' ? 'REPLACE' : 'INSERT';
    return `${verb} INTO ${quoteTable(this.shape.table)} (${this.names.map(quoteIdent).join(', ')}) VALUES `;
  }

  tail(mode: WriteMode): string {
    if (mode !== 'upsert') return '';
    const keys = new Set(this.shape.keyColumns);
    // All-key tables still need an assignment; re-assigning a key column to itself is a no-op update.
    const upd = this.cols.filter((c) => !keys.has(c.name)).map((c) => c.target.name);
    const set = (upd.length ? upd : this.names.slice(0, 1)).map((n) =>
      this.shape.rowAlias ? `${quoteIdent(n)} = ferry_new.${quoteIdent(n)}` : `${quoteIdent(n)} = VALUES(${quoteIdent(n)})`,
    );
    return `${this.shape.rowAlias ? ' AS ferry_new' : ''} ON DUPLICATE KEY UPDATE ${set.join(', ')}`;
  }

  /** `(lit, lit, ...)` for one row; IN001 naming table, column and key for a value no MySQL column holds. */
  tuple(row: Row, rowIndex: number): string {
    const lits = new Array<string>(this.cols.length);
    for (let i = 0; i < this.cols.length; i++) {
      const c = this.cols[i];
      try {
        lits[i] = literalFor(c.target, c.from, row[c.name] as Value);
      } catch (e) {
        if (e instanceof ValueError) throw this.rowError(row, rowIndex, e.column, e.reason, e);
        throw e;
      }
    }
    return '(' + lits.join(', ') + ')';
  }

  build(rows: Row[], mode: WriteMode): Statement[] {
    const head = this.head(mode);
    const tail = this.tail(mode);
    const out: Statement[] = [];
    let parts: string[] = [];
    let batch: Row[] = [];
    let size = head.length + tail.length;
    rows.forEach((row, i) => {
      const t = this.tuple(row, i);
      if (parts.length && size + t.length + 1 > this.budget) {
        out.push({ sql: head + parts.join(',') + tail, rows: batch });
        parts = [];
        batch = [];
        size = head.length + tail.length;
      }
      parts.push(t);
      batch.push(row);
      size += t.length + 1;
    });
    if (parts.length) out.push({ sql: head + parts.join(',') + tail, rows: batch });
    return out;
  }

  /** IN001 for a row: `target db.tb: value does not fit column c (Data too long) at key id=42`. */
  rowError(row: Row, rowIndex: number, column: string | undefined, reason: string, cause: unknown): FerryError {
    const id = tableId(this.shape.table);
    const what = column ? `value does not fit column ${column}` : 'row rejected';
    const where = this.shape.keyColumns.length ? `at key ${keyText(row, this.shape.keyColumns)}` : `at row ${rowIndex + 1} of the batch (keyless)`;
    return new FerryError('IN001', `target ${id}: ${what} (${reason}) ${where}`, {
      cause,
      details: { table: id, column, key: this.shape.keyColumns.length ? this.shape.keyColumns.map((k) => printable(row[k])) : undefined },
    });
  }

  /** IN001 from a server error on `rows`; uses the row number the server names, if any. */
  serverRowError(err: DriverError, rows: Row[], offset = 0): FerryError | undefined {
    const n = rowOf(err);
    if (n === undefined || n < 1 || n > rows.length) return undefined;
    return this.rowError(rows[n - 1], offset + n - 1, columnOf(err), shortReason(err), err);
  }
}

/**
 * Finds the first row of `rows` whose statement fails, by bisection: `probe` runs a statement and undoes
 * it (ROLLBACK / ROLLBACK TO SAVEPOINT), returning the error or null. About 2·log2(n) probes.
 */
export async function findBadRow(
  builder: StatementBuilder,
  rows: Row[],
  mode: WriteMode,
  probe: (sql: string) => Promise<unknown>,
): Promise<{ index: number; err: DriverError } | undefined> {
  let lo = 0;
  let hi = rows.length;
  let lastErr: DriverError | undefined;
  const fails = async (a: number, b: number) => {
    const e = await probe(builder.head(mode) + rows.slice(a, b).map((r, i) => builder.tuple(r, a + i)).join(',') + builder.tail(mode));
    if (e) lastErr = e as DriverError;
    return !!e;
  };
  if (!(await fails(lo, hi))) return undefined;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (await fails(lo, mid)) hi = mid;
    else if (await fails(mid, hi)) lo = mid;
    // Neither half fails alone: the rows conflict with each other (e.g. a duplicate); blame the second half.
    else return { index: mid, err: lastErr! };
  }
  await fails(lo, hi);
  return { index: lo, err: lastErr! };
}

function printable(v: Value | undefined): string {
  if (v === null || v === undefined) return 'NULL';
  if (Buffer.isBuffer(v)) return '0x' + v.toString('hex').slice(0, 64);
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.length > 64 ? s.slice(0, 61) + '...' : s;
}

/** `id=42, name=abc` for messages. */
export const keyText = (row: Row, keys: string[]): string => keys.map((k) => `${k}=${printable(row[k])}`).join(', ');
