/**
 * A ClickHouse target table as the writers see it: columns with their target types and encoders, the engine, the
 * insert format, and the checks that make writes safe (every written column and ape-dts's two extra columns exist;
 * a keyed table is a ReplacingMergeTree, or a rerun would duplicate rows).
 *
 * Format (decided once per table, `sinker.clickhouse_format`): RowBinary when every written column and both extra
 * columns have an exact RowBinary writer (rowbinary.ts) and no written column has a DEFAULT-like expression (a row
 * without the column -- a delete marker, an incomplete update image -- would get the type's default instead of the
 * expression); otherwise JSONEachRow (`auto`), or MD001 naming the column (`rowbinary`). `json` keeps JSONEachRow.
 */
import { FerryError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { WriteTarget } from '../../core/sinker.ts';
import { tableId, type TableRef } from '../../core/table.ts';
import type { Row, TypeFamily } from '../../core/values.ts';
import type { ClickhouseApi } from './client.ts';
import { SUPPORTED_BASES, encoderFor, type Encode } from './encode.ts';
import { binaryColumn, dateTimeZone, type WriteValue } from './rowbinary.ts';
import { DELETED_COL, VERSION_COL, parseType, quoteIdent, quoteTable, sqlString, type ParsedType } from './sql.ts';
import { tsvPlan, type TsvPlan } from './tsv-fit.ts';
import { SNAPSHOT_VERSION } from './version.ts';

/** `sinker.clickhouse_format`: RowBinary where every column allows it (auto), RowBinary or MD001, JSONEachRow. */
export const FORMAT_CHOICES = ['auto', 'rowbinary', 'json'] as const;
export type FormatChoice = (typeof FORMAT_CHOICES)[number];

/** The insert format of a table, as the `FORMAT` clause names it. */
export type InsertFormat = 'RowBinary' | 'JSONEachRow';

export interface TargetColumn {
  name: string;
  type: ParsedType;
  family: TypeFamily;
  encode: Encode;
  /** `"name":` as it goes into each JSON line. */
  prefix: string;
  /** The RowBinary writer (format RowBinary only). */
  write?: WriteValue;
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
  format: InsertFormat;
  /** RowBinary writers of the two extra columns, by their target types (format RowBinary only). */
  extras?: { deleted: WriteValue; version: WriteValue };
  /** Why the table is not RowBinary (format JSONEachRow only; for logs). */
  jsonReason?: string;
  /**
   * Set when snapshot pages from MySQL can go as they came (`mysql-text-tsv`, `auto` only; tsv-fit.ts): the INSERT
   * then names the written columns only, and the extra columns get their defaults, the snapshot row's values.
   */
  tsv?: TsvPlan;
}

/** describeTarget for a writer or applier: says in the log when (and why) a table is written as JSONEachRow. */
export async function openShape(client: ClickhouseApi, target: WriteTarget, signal: AbortSignal, choice: FormatChoice, logger: Logger): Promise<TargetShape> {
  const shape = await describeTarget(client, target, signal, choice);
  if (shape.jsonReason) logger.info('clickhouse table written as JSONEachRow', { table: shape.id, reason: shape.jsonReason });
  return shape;
}

/**
 * Reads the target table and builds its shape for `target`, in the format `choice` allows; MD001 naming what is
 * missing, or (`rowbinary`) the column that cannot go as RowBinary.
 */
export async function describeTarget(client: ClickhouseApi, target: WriteTarget, signal: AbortSignal, choice: FormatChoice = 'auto'): Promise<TargetShape> {
  const t = target.table;
  const id = tableId(t);
  const where = `database = ${sqlString(t.db)} AND ${'name'} = ${sqlString(t.tb)}`;
  const tables = await client.rows<{ engine: string }>(`SELECT engine FROM system.tables WHERE ${where}`, signal, `target ${id}`);
  if (!tables.length) throw new FerryError('MD001', `target table ${id} does not exist`, { details: { table: id } });
  const cols = await client.rows<{ name: string; type: string; default_kind: string }>(
    `SELECT name, type, default_kind FROM system.columns WHERE database = ${sqlString(t.db)} AND table = ${sqlString(t.tb)}`,
    signal,
    `target ${id}`,
  );
  const types = new Map(cols.map((c) => [c.name, c.type]));
  const defaults = new Map(cols.map((c) => [c.name, c.default_kind]));
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
  const shape: TargetShape = {
    table: t,
    id,
    sql: quoteTable(t),
    columns,
    keyColumns: target.keyColumns,
    replacing,
    latin1,
    insertColumns: [...columns.map((c) => c.name), DELETED_COL, VERSION_COL].map(quoteIdent).join(', '),
    format: 'JSONEachRow',
  };
  if (choice === 'json') return shape;
  const extraTypes = { deleted: parseType(types.get(DELETED_COL)!), version: parseType(types.get(VERSION_COL)!) };
  const all = [...columns.map((c) => c.type), extraTypes.deleted, extraTypes.version];
  const zoneless = all.some((ty) => (ty.base === 'DateTime' || ty.base === 'DateTime64') && dateTimeZone(ty) === undefined);
  const serverZone = zoneless ? (await client.rows<{ tz: string }>('SELECT timezone() AS tz', signal, `target ${id}`))[0]?.tz : undefined;
  if (choice === 'auto' && target.keyColumns.length && SNAPSHOT_VERSION === 0) {
    const extrasDefaulted = !defaults.get(DELETED_COL) && !defaults.get(VERSION_COL);
    const plan = tsvPlan(target.columns.map((meta, i) => ({ meta, type: columns[i].type })), serverZone, extrasDefaulted);
    if ('bounds' in plan) shape.tsv = plan;
  }
  let refused: { column: string; reason: string } | undefined;
  const writers = columns.map((c) => {
    const w = binaryColumn(c.type, c.family, serverZone);
    if ('unsupported' in w) refused ??= { column: c.name, reason: w.unsupported };
    else if (defaults.get(c.name)) refused ??= { column: c.name, reason: `a ${defaults.get(c.name)} expression, which RowBinary rows without the column would not get` };
    return w;
  });
  const deleted = binaryColumn(extraTypes.deleted, 'uint', serverZone);
  const version = binaryColumn(extraTypes.version, 'int', serverZone);
  if ('unsupported' in deleted) refused ??= { column: DELETED_COL, reason: deleted.unsupported };
  if ('unsupported' in version) refused ??= { column: VERSION_COL, reason: version.unsupported };
  if (refused) {
    if (choice === 'rowbinary') {
      throw new FerryError('MD001', `target column ${id}.${refused.column} cannot be written as RowBinary (${refused.reason}); set sinker.clickhouse_format=auto or json`, {
        details: { table: id, column: refused.column },
      });
    }
    return { ...shape, jsonReason: `${refused.column}: ${refused.reason}` };
  }
  columns.forEach((c, i) => (c.write = writers[i] as WriteValue));
  return { ...shape, format: 'RowBinary', extras: { deleted: deleted as WriteValue, version: version as WriteValue } };
}

/** `(a=1, b=x)` for messages; `keyless row` without a key. */
export function keyText(row: Row, keys: string[]): string {
  if (!keys.length) return 'keyless row';
  return '(' + keys.map((k) => `${k}=${fmt(row[k])}`).join(', ') + ')';
}

const fmt = (v: unknown): string => (v === null || v === undefined ? 'NULL' : Buffer.isBuffer(v) ? `0x${v.toString('hex')}` : String(v));
