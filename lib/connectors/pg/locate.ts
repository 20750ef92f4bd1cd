import { FerryError, isFerryError } from '../../core/errors.ts';
import type { TableRef } from '../../core/table.ts';
import { tableId } from '../../core/table.ts';
import { isDataError, toFerryError, type PgDriverError } from './errors.ts';
import type { EncodedRow } from './row-encoding.ts';
import { exec, inSavepoint, type Session } from './session.ts';

export interface LocateSpec {
  table: TableRef;
  columns: string[];
  describe(r: EncodedRow): string;
  /** Writes `rows` the way the failed batch did (inside a savepoint the locator owns). */
  attempt(rows: EncodedRow[]): Promise<void>;
  /** Writes one row through COPY, whose error context names the failing column. */
  probe(row: EncodedRow): Promise<void>;
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

async function bisect(s: Session, rows: EncodedRow[], spec: LocateSpec): Promise<{ row: EncodedRow; err: unknown } | null> {
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
export async function locateBadRow(s: Session, rows: EncodedRow[], first: unknown, spec: LocateSpec): Promise<FerryError> {
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
    const d = driverError(found.err);
    const key = spec.describe(found.row);
    return new FerryError('IN001', `target ${id}: ${d.message ?? String(found.err)}${column ? ` (column ${column})` : ''} at key ${key}`, {
      cause: d,
      details: { table: id, key, sqlstate: d.code, ...(column ? { column } : {}), ...(d.constraint ? { constraint: d.constraint } : {}) },
    });
  } finally {
    if (!spec.nested) await s.client.query('ROLLBACK').catch(() => undefined);
  }
}
