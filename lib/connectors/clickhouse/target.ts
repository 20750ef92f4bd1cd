/**
 * A ClickHouse target table as the writers see it: columns with their target types and encoders, the engine,
 * and the checks that make writes safe (every written column and ape-dts's two extra columns exist; a keyed
 * table is a ReplacingMergeTree, or a rerun would duplicate rows).
 */
import { FerryError } from '../../core/errors.ts';
import type { WriteTarget } from '../../core/sinker.ts';
import { tableId, type TableRef } from '../../core/table.ts';
import type { Row, TypeFamily } from '../../core/values.ts';
import type { ClickhouseApi } from './client.ts';
import { FitError, SUPPORTED_BASES, encoderFor, type Encode } from './encode.ts';
import { DELETED_COL, VERSION_COL, parseType, quoteIdent, quoteTable, sqlString, type ParsedType } from './sql.ts';

export interface TargetColumn {
  name: string;
  type: ParsedType;
  family: TypeFamily;
  encode: Encode;
  /** `"name":` as it goes into each JSON line. */
  prefix: string;
}

export interface TargetShape {
  table: TableRef;
  id: string;
  sql: string;
  columns: TargetColumn[];
  keyColumns: string[];
  /** ReplacingMergeTree family: rows with the same sorting key collapse to the highest version. */
  replacing: boolean;
  /** The payload carries raw bytes (a binary source column): built as latin1 text. */
  latin1: boolean;
  /** `INSERT` column list: written columns then the two extra columns. */
  insertColumns: string;
}

/** Reads the target table and builds its shape for `target`; MD001 naming what is missing. */
export async function describeTarget(client: ClickhouseApi, target: WriteTarget, signal: AbortSignal): Promise<TargetShape> {
  const t = target.table;
  const id = tableId(t);
  const where = `database = ${sqlString(t.db)} AND ${'name'} = ${sqlString(t.tb)}`;
  const tables = await client.rows<{ engine: string }>(`SELECT engine FROM system.tables WHERE ${where}`, signal, `target ${id}`);
  if (!tables.length) throw new FerryError('MD001', `target table ${id} does not exist`, { details: { table: id } });
  const cols = await client.rows<{ name: string; type: string }>(
    `SELECT name, type FROM system.columns WHERE database = ${sqlString(t.db)} AND table = ${sqlString(t.tb)}`,
    signal,
    `target ${id}`,
  );
  const types = new Map(cols.map((c) => [c.name, c.type]));
  for (const extra of [DELETED_COL, VERSION_COL]) {
    if (!types.has(extra)) {
      throw new FerryError('MD001', `target table ${id} has no column ${extra} (ape-dts's extra columns: create the table with ferry struct)`, {
        details: { table: id, column: extra },
      });
    }
  }
  const engine = tables[0].engine;
  const replacing = /Replacing/.test(engine);
  if (target.keyColumns.length && !replacing) {
    throw new FerryError('MD001', `target table ${id} is ${engine}, not ReplacingMergeTree: keyed writes would not be idempotent`, { details: { table: id } });
  }
  const latin1 = target.columns.some((c) => c.family === 'binary' || c.family === 'geometry');
  const columns: TargetColumn[] = target.columns.map((c) => {
    const text = types.get(c.name);
    if (text === undefined) throw new FerryError('MD001', `target column ${id}.${c.name} does not exist`, { details: { table: id, column: c.name } });
    const type = parseType(text);
    if (!SUPPORTED_BASES.has(type.base)) {
      throw new FerryError('MD001', `target column ${id}.${c.name} has type ${text}, which ferry cannot write`, { details: { table: id, column: c.name } });
    }
    const prefix = JSON.stringify(latin1 ? Buffer.from(c.name, 'utf8').toString('latin1') : c.name) + ':';
    return { name: c.name, type, family: c.family, encode: encoderFor(type, c.family, latin1), prefix };
  });
  return {
    table: t,
    id,
    sql: quoteTable(t),
    columns,
    keyColumns: target.keyColumns,
    replacing,
    latin1,
    insertColumns: [...columns.map((c) => c.name), DELETED_COL, VERSION_COL].map(quoteIdent).join(', '),
  };
}

/** `(a=1, b=x)` for messages; `keyless row` without a key. */
export function keyText(row: Row, keys: string[]): string {
  if (!keys.length) return 'keyless row';
  return '(' + keys.map((k) => `${k}=${fmt(row[k])}`).join(', ') + ')';
}

const fmt = (v: unknown): string => (v === null || v === undefined ? 'NULL' : Buffer.isBuffer(v) ? `0x${v.toString('hex')}` : String(v));

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
      const key = keyText(row, shape.keyColumns);
      throw new FerryError('IN001', `target ${shape.id}: value does not fit column ${c.name} (${e.message}) at key ${key}`, {
        details: { table: shape.id, column: c.name, key },
      });
    }
  }
  return `${s}"${DELETED_COL}":${deleted},"${VERSION_COL}":${version}}\n`;
}

/** The payload bytes of encoded lines. */
export const payload = (shape: TargetShape, lines: string): Buffer => Buffer.from(lines, shape.latin1 ? 'latin1' : 'utf8');
