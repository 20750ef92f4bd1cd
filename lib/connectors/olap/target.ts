/**
 * A WriteTarget checked against the FE's table: the columns to send (target spelling and type), the key,
 * and the key model. MD001 names `db.tb` or `db.tb.column` for anything missing, and refuses a keyed write
 * into a table whose model would not upsert by that key (duplicate-key or aggregate tables).
 */
import { FerryError } from '../../core/errors.ts';
import type { WriteTarget } from '../../core/sinker.ts';
import { tableId, type TableRef } from '../../core/table.ts';
import type { Row, Value } from '../../core/values.ts';
import type { OlapDialect } from './dialect.ts';
import type { KeyModel, OlapCatalog } from './fe-client.ts';
import { rowObject, ValueError, type LoadColumn } from './json-body.ts';

export interface LoadTarget {
  table: TableRef;
  id: string;
  columns: LoadColumn[];
  /** Row fields of the key columns (WriteTarget names). */
  keyColumns: string[];
  model: KeyModel;
}

export async function resolveTarget(catalog: OlapCatalog, dialect: OlapDialect, target: WriteTarget, signal: AbortSignal): Promise<LoadTarget> {
  const id = tableId(target.table);
  const info = await catalog.describe(target.table, signal);
  if (!info) throw new FerryError('MD001', `target table ${id} does not exist`, { details: { table: id } });
  const columns: LoadColumn[] = target.columns.map((c) => {
    // Both engines compare column names case-insensitively.
    const t = info.columns.find((x) => x.name === c.name) ?? info.columns.find((x) => x.name.toLowerCase() === c.name.toLowerCase());
    if (!t) throw new FerryError('MD001', `target column ${id}.${c.name} does not exist`, { details: { table: id, column: c.name } });
    return { name: c.name, column: t.name, from: c.family, targetType: t.dataType };
  });
  if (target.keyColumns.length) {
    if (info.model !== dialect.upsertModel && info.model !== 'UNKNOWN') {
      throw new FerryError('MD001', `target table ${id} is a ${info.model} KEY table: ${dialect.title} upserts by key only into ${dialect.upsertModel} KEY tables, so writes would not be idempotent`, {
        details: { table: id, model: info.model },
      });
    }
    const want = target.keyColumns.map((k) => columns.find((c) => c.name === k)?.column.toLowerCase() ?? k.toLowerCase()).sort();
    const have = info.keyColumns.map((k) => k.toLowerCase()).sort();
    if (info.model !== 'UNKNOWN' && want.join('\u0000') !== have.join('\u0000')) {
      throw new FerryError('MD001', `target table ${id} has key (${info.keyColumns.join(', ')}) but the source key is (${target.keyColumns.join(', ')}): upserts would not match rows`, {
        details: { table: id },
      });
    }
  }
  return { table: target.table, id, columns, keyColumns: target.keyColumns, model: info.model };
}

function printable(v: Value | undefined): string {
  if (v === null || v === undefined) return 'NULL';
  if (Buffer.isBuffer(v)) return '0x' + v.toString('hex').slice(0, 64);
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.length > 64 ? s.slice(0, 61) + '...' : s;
}

/** `id=42, name=abc` for messages. */
export const keyText = (row: Row, keys: string[]): string => keys.map((k) => `${k}=${printable(row[k] as Value)}`).join(', ');

/** IN001 for a value that cannot travel: table, column and the row's key (or its place in a keyless batch). */
export function valueError(t: LoadTarget, row: Row, index: number, e: ValueError): FerryError {
  const where = t.keyColumns.length ? `at key ${keyText(row, t.keyColumns)}` : `at row ${index + 1} of the batch (keyless)`;
  return new FerryError('IN001', `target ${t.id}: value does not fit column ${e.column} (${e.reason}) ${where}`, {
    cause: e,
    details: { table: t.id, column: e.column },
  });
}

/** `rowObject` for row `index` of a batch, a ValueError turned into IN001 naming table, column and key. */
export function encodeRow(t: LoadTarget, cols: LoadColumn[], row: Row, index: number, op?: { column: string; value: 0 | 1 }): string {
  try {
    return rowObject(cols, row, op);
  } catch (e) {
    if (e instanceof ValueError) throw valueError(t, row, index, e);
    throw e;
  }
}
