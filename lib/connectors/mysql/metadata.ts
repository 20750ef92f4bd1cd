/**
 * MetadataAccessor for MySQL/MariaDB, read from information_schema.
 *
 * Key choice (TableMeta.keyColumns): PRIMARY KEY; else the unique key with the fewest columns that are all
 * NOT NULL; else the unique key with the fewest columns, some nullable (keyNullable = true); else none.
 * Ties go to the index name in byte order, so every run picks the same key.
 */
import { FerryError } from '../../core/errors.ts';
import type { MetadataAccessor } from '../../core/source.ts';
import { tableId, type ColumnMeta, type TableMeta, type TableRef } from '../../core/table.ts';
import type { KeyTuple } from '../../core/values.ts';
import type { MysqlClient } from './client.ts';
import { keyColumnsOf, keysetSelect, nullKeyCond, rangeConds } from './keyset.ts';
import { quoteTable, sqlString } from './sql.ts';
import { columnMetaOf, rowDecoder, type ColumnRow } from './type-map.ts';

/** Schemas that hold the server's own tables; never listed, never copied. */
export const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];

interface IndexRow {
  idx: string;
  nonUnique: number;
  seq: number;
  col: string | null;
}

export class MysqlMetadata implements MetadataAccessor {
  /** `onClose` releases the (possibly shared) client; by default the client is ended. */
  constructor(
    private readonly client: MysqlClient,
    private readonly onClose: () => Promise<void> = () => client.end(),
  ) {}

  async listDatabases(signal: AbortSignal): Promise<string[]> {
    const rows = await this.client.catalog<{ n: string }>(
      `SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN (${SYSTEM_SCHEMAS.map(sqlString).join(', ')}) ORDER BY SCHEMA_NAME`,
      signal,
    );
    return rows.map((r) => r.n);
  }

  async listTables(db: string, signal: AbortSignal): Promise<string[]> {
    const rows = await this.client.catalog<{ n: string }>(
      `SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${sqlString(db)}` +
        ` AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY TABLE_NAME`,
      signal,
    );
    return rows.map((r) => r.n);
  }

  async getTableMeta(t: TableRef, signal: AbortSignal): Promise<TableMeta> {
    const where = `TABLE_SCHEMA = ${sqlString(t.db)} AND TABLE_NAME = ${sqlString(t.tb)}`;
    const tables = await this.client.catalog<{ n: string; rows: number | bigint | null }>(
      `SELECT TABLE_NAME AS n, TABLE_ROWS AS \`rows\` FROM information_schema.TABLES WHERE ${where} AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')`,
      signal,
    );
    // information_schema compares names case-insensitively on some systems: prefer the exact spelling.
    const table = tables.find((r) => r.n === t.tb) ?? (tables.length === 1 ? tables[0] : undefined);
    if (!table) throw new FerryError('MD001', `source table ${tableId(t)} does not exist`, { details: { table: tableId(t) } });
    const exact = `TABLE_SCHEMA = ${sqlString(t.db)} AND TABLE_NAME = ${sqlString(table.n)}`;
    const columns: ColumnMeta[] = (await readColumns(this.client, exact, t, signal)).map(({ generated: _g, ...c }) => c);
    const indexes = await this.client.catalog<IndexRow>(
      `SELECT INDEX_NAME AS idx, NON_UNIQUE AS nonUnique, SEQ_IN_INDEX AS seq, COLUMN_NAME AS col FROM information_schema.STATISTICS` +
        ` WHERE ${exact} ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
      signal,
    );
    const key = chooseKey(indexes, columns);
    return {
      db: t.db,
      tb: table.n,
      columns,
      keyKind: key.kind,
      keyColumns: key.columns,
      keyNullable: key.nullable,
      uniqueKeys: key.others,
      estimatedRows: Number(table.rows ?? 0),
    };
  }

  async keyMinMax(meta: TableMeta, where: string | undefined, signal: AbortSignal): Promise<{ min: KeyTuple; max: KeyTuple } | null> {
    const min = await this.firstKey(meta, rangeConds(meta, null, null), where, 0, false, signal);
    if (!min) return null;
    const max = await this.firstKey(meta, rangeConds(meta, null, null), where, 0, true, signal);
    return max ? { min, max } : null;
  }

  async keyAtOffset(meta: TableMeta, after: KeyTuple | null, offset: number, where: string | undefined, signal: AbortSignal): Promise<KeyTuple | null> {
    if (offset < 1) throw new FerryError('RT002', `keyAtOffset: offset must be >= 1 (got ${offset})`);
    return this.firstKey(meta, rangeConds(meta, after, null), where, offset - 1, false, signal);
  }

  async hasNullKeys(meta: TableMeta, signal: AbortSignal): Promise<boolean> {
    if (!meta.keyNullable) return false;
    const rows = await this.client.query(`SELECT 1 FROM ${quoteTable(meta)} WHERE ${nullKeyCond(meta)} LIMIT 1`, signal, {
      context: `source ${tableId(meta)}`,
    });
    return rows.length > 0;
  }

  private async firstKey(meta: TableMeta, conds: string[], where: string | undefined, offset: number, desc: boolean, signal: AbortSignal) {
    if (meta.keyKind === 'none') throw new FerryError('RT002', `source ${tableId(meta)} has no key to split on`);
    const kc = keyColumnsOf(meta);
    const rows = await this.client.query<unknown[]>(keysetSelect(meta, kc, conds, where, 1, offset, desc), signal, {
      rowsAsArray: true,
      context: `source ${tableId(meta)}`,
    });
    if (!rows.length) return null;
    const row = rowDecoder(kc)(rows[0]);
    return kc.map((c) => row[c.name]);
  }

  async close(): Promise<void> {
    await this.onClose();
  }
}

/** Columns in ordinal order; MariaDB JSON (LONGTEXT + CHECK json_valid) is recognised as json. */
export async function readColumns(client: MysqlClient, where: string, t: TableRef, signal: AbortSignal): Promise<Array<ColumnMeta & { generated: boolean }>> {
  const rows = await client.catalog<ColumnRow & { gen: string | null }>(
    `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, IS_NULLABLE AS nullable,` +
      ` CHARACTER_MAXIMUM_LENGTH AS charLength, NUMERIC_PRECISION AS numPrecision, NUMERIC_SCALE AS numScale,` +
      ` DATETIME_PRECISION AS fsp, GENERATION_EXPRESSION AS gen FROM information_schema.COLUMNS WHERE ${where} ORDER BY ORDINAL_POSITION`,
    signal,
    `metadata ${tableId(t)}`,
  );
  let jsonCols = new Set<string>();
  if ((await client.server(signal)).isMariaDb && rows.some((r) => /text$/i.test(r.dataType))) {
    const checks = await client.catalog<{ n: string; c: string }>(
      `SELECT CONSTRAINT_NAME AS n, CHECK_CLAUSE AS c FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ${sqlString(t.db)}` +
        ` AND TABLE_NAME = ${sqlString(t.tb)}`,
      signal,
    );
    jsonCols = new Set(checks.filter((r) => r.c === `json_valid(\`${r.n.replace(/`/g, '``')}\`)`).map((r) => r.n));
  }
  return rows.map((r) => ({ ...columnMetaOf({ ...r, isJson: jsonCols.has(r.name) }), generated: !!r.gen }));
}

/** Picks the table's row identity from its indexes (see the module comment). */
export function chooseKey(
  indexes: IndexRow[],
  columns: ColumnMeta[],
): { kind: TableMeta['keyKind']; columns: string[]; nullable: boolean; others: string[][] } {
  const byName = new Map<string, string[]>();
  const skip = new Set<string>();
  for (const r of indexes) {
    if (Number(r.nonUnique) !== 0) continue;
    // A functional key part (MySQL 8) has no column: the index does not identify rows by columns.
    if (r.col === null) skip.add(r.idx);
    else byName.set(r.idx, [...(byName.get(r.idx) ?? []), r.col]);
  }
  for (const s of skip) byName.delete(s);
  const nullable = (cols: string[]) => cols.some((n) => columns.find((c) => c.name === n)?.nullable ?? true);
  const cmp = (a: [string, string[]], b: [string, string[]]) => a[1].length - b[1].length || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  const uniques = [...byName].filter(([n]) => n !== 'PRIMARY').sort(cmp);
  const pk = byName.get('PRIMARY');
  const chosen: [string, string[]] | undefined = pk ? ['PRIMARY', pk] : (uniques.find(([, c]) => !nullable(c)) ?? uniques[0]);
  if (!chosen) return { kind: 'none', columns: [], nullable: false, others: [] };
  const others = [...byName].filter(([n]) => n !== chosen[0]).map(([, c]) => c);
  return { kind: pk ? 'primary' : 'unique', columns: chosen[1], nullable: !pk && nullable(chosen[1]), others };
}
