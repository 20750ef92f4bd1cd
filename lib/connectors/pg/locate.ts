import { FerryError, isFerryError } from '../../core/errors.ts';
import type { TableRef } from '../../core/table.ts';
import { tableId } from '../../core/table.ts';
import { isDataError, toFerryError, type PgDriverError } from './errors.ts';
import { exec, inSavepoint, type Session } from './session.ts';

/** How to write, probe and name the rows of a failed batch (encoded rows, or a binary COPY page's tuples). */
export interface LocateSpec<R> {
  table: TableRef;
  columns: string[];
  describe(r: R): string;
  /** Writes `rows` the way the failed batch did (inside a savepoint the locator owns). */
  attempt(rows: R[]): Promise<void>;
  /** Writes one row through COPY, whose error context names the failing column. */
  probe(row: R): Promise<void>;
  /** Already inside a transaction (replaceAll): use savepoints only, leave commit/rollback to the caller. */
  nested?: boolean;
}

const driverError = (e: unknown): PgDriverError => ((isFerryError(e) ? e.cause : e) ?? {}) as PgDriverError;

/** The failing column, from the server's `column` field or COPY's context line (`COPY t, line 1, column c: "..."`). */
export function columnOf(e: unknown, columns: string[]): string | undefined {
  const d = driverError(e);
  if (d.column && columns.includes(d.column)) return d.column;
  const where = d.where ?? '';
  return [...columns]
    .sort((a, b) => b.length - a.length)
    .find((c) => where.includes(`, column ${c}:`) || where.endsWith(`, column ${c}`));
}

/**
 * The 1-based row of a COPY's error context (`COPY t, line 7[, column c...]`, the last context line) when the
 * failing COPY was into one of `tables` (relation names as the server prints them, unqualified).
 */
export function copyLineOf(e: unknown, tables: string[]): number | undefined {
  const where = driverError(e).where ?? '';
  const last = where.slice(where.lastIndexOf('\n') + 1);
  for (const t of tables) {
    const head = `COPY ${t}, line `;
    if (!last.startsWith(head)) continue;
    const m = /^\d+/.exec(last.slice(head.length));
    if (m) return Number(m[0]);
  }
  return undefined;
}

/**
 * IN001 for one row: `target schema.tb: <server message> (column c) at key k=v`. The error's DETAIL and COPY
 * context line, which may quote the value, are left out.
 */
export function badRowError(table: TableRef, err: unknown, column: string | undefined, key: string): FerryError {
  const id = tableId(table);
  const d = driverError(err);
  return new FerryError('IN001', `target ${id}: ${d.message ?? String(err)}${column ? ` (column ${column})` : ''} at key ${key}`, {
    cause: d,
    details: { table: id, key, sqlstate: d.code, ...(column ? { column } : {}), ...(d.constraint ? { constraint: d.constraint } : {}) },
  });
}

async function bisect<R>(s: Session, rows: R[], spec: LocateSpec<R>): Promise<{ row: R; err: unknown } | null> {
  try {
    await inSavepoint(s, () => spec.attempt(rows));
    return null;
  } catch (e) {
    if (!isDataError(e)) throw e;
    if (rows.length === 1) return { row: rows[0], err: e };
    const mid = rows.length >> 1;
    return (await bisect(s, rows.slice(0, mid), spec)) ?? (await bisect(s, rows.slice(mid), spec));
  }
}

/**
 * Pins a batch's data error to one row: bisects with savepoints inside a transaction that is always rolled
 * back (the batch stays unwritten, earlier batches stay committed) and returns IN001
 * `target schema.tb: <server message> (column c) at key k=v`. When no single row fails alone (rows that
 * conflict only together), the batch-level error is returned.
 */
export async function locateBadRow<R>(s: Session, rows: R[], first: unknown, spec: LocateSpec<R>): Promise<FerryError> {
  const id = tableId(spec.table);
  if (!spec.nested) await exec(s, 'BEGIN');
  try {
    const found = await bisect(s, rows, spec);
    if (!found) return toFerryError(first, `target ${id} (batch of ${rows.length} rows)`, { table: id });
    let column = columnOf(found.err, spec.columns);
    if (!column) {
      try {
        await inSavepoint(s, () => spec.probe(found.row));
      } catch (e) {
        if (!isDataError(e)) throw e;
        column = columnOf(e, spec.columns);
      }
    }
    return badRowError(spec.table, found.err, column, spec.describe(found.row));
  } finally {
    if (!spec.nested) await s.client.query('ROLLBACK').catch(() => undefined);
  }
}
