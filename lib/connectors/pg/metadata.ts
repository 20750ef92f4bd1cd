import type { MetadataAccessor } from '../../core/source.ts';
import type { ColumnMeta, TableMeta, TableRef } from '../../core/table.ts';
import { tableId } from '../../core/table.ts';
import type { KeyTuple } from '../../core/values.ts';
import { asTargetCol, encoderFor } from './codec-in.ts';
import { readTableShape, type PgTableShape, type PgUniqueIndex } from './catalog.ts';
import type { PgPool } from './pool.ts';
import { identList, keyCompare, keyHasNull, keyNotNull, placeholders, qualified, whereClause } from './sql.ts';
import { decoderFor } from './type-map.ts';

const bySize = (a: PgUniqueIndex, b: PgUniqueIndex) =>
  a.columns.length - b.columns.length || Number(b.immediate) - Number(a.immediate) || a.name.localeCompare(b.name);

/**
 * The key ferry splits and upserts by: PRIMARY KEY; else the smallest unique index whose columns are all
 * NOT NULL; else the smallest unique index with nullable columns (keyNullable: NULL-key rows get their own
 * chunk); else none. Partial and expression indexes never qualify (they do not identify every row).
 */
export function chooseKey(shape: PgTableShape): Pick<TableMeta, 'keyKind' | 'keyColumns' | 'keyNullable' | 'uniqueKeys'> {
  const nullable = new Set(shape.columns.filter((c) => c.nullable).map((c) => c.name));
  const pk = shape.uniques.find((u) => u.primary);
  const strict = shape.uniques.filter((u) => !u.primary && u.columns.every((c) => !nullable.has(c))).sort(bySize);
  const loose = shape.uniques.filter((u) => !u.primary && u.columns.some((c) => nullable.has(c))).sort(bySize);
  const chosen = pk ?? strict[0] ?? loose[0];
  const uniqueKeys = shape.uniques.filter((u) => u !== chosen).map((u) => u.columns);
  if (!chosen) return { keyKind: 'none', keyColumns: [], keyNullable: false, uniqueKeys };
  return {
    keyKind: pk ? 'primary' : 'unique',
    keyColumns: chosen.columns,
    keyNullable: chosen.columns.some((c) => nullable.has(c)),
    uniqueKeys,
  };
}

/** TableMeta (the core contract) from a catalog shape. PgColumn extras stay on the columns; they are JSON-safe. */
export function toTableMeta(shape: PgTableShape): TableMeta {
  return { db: shape.ref.db, tb: shape.ref.tb, columns: shape.columns, ...chooseKey(shape), estimatedRows: shape.estimatedRows };
}

/** Key column metadata, in key order. */
export function keyColumnsOf(meta: TableMeta): ColumnMeta[] {
  return meta.keyColumns.map((k) => {
    const c = meta.columns.find((x) => x.name === k);
    if (!c) throw new Error(`key column ${k} missing from ${tableId(meta)}`);
    return c;
  });
}

/** Key tuple -> text parameters (the same text the server printed, so it parses back exactly). */
export function keyParams(meta: TableMeta, key: KeyTuple): Array<string | null> {
  return keyColumnsOf(meta).map((c, i) => encoderFor(asTargetCol(c), c.family)(key[i]));
}

/** Row of key texts -> canonical key tuple. */
export function decodeKey(meta: TableMeta, raw: Array<string | Buffer | null>): KeyTuple {
  return keyColumnsOf(meta).map((c, i) => (raw[i] === null ? null : decoderFor(c)(raw[i]!)));
}

const SCHEMAS_SQL = `
SELECT nspname FROM pg_namespace
WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp\\_%'
ORDER BY nspname`;

const TABLES_SQL = `
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname`;

/**
 * PostgreSQL metadata: `db` is the schema, the database comes from the URL.
 * Invariant: read-only; every statement is a catalog read or an index-ordered key query.
 */
export class PgMetadata implements MetadataAccessor {
  constructor(private readonly pool: PgPool) {}

  async listDatabases(signal: AbortSignal): Promise<string[]> {
    const rows = await this.pool.query<string[]>({ text: SCHEMAS_SQL }, signal, 'list schemas');
    return rows.map((r) => r[0]);
  }

  async listTables(db: string, signal: AbortSignal): Promise<string[]> {
    const rows = await this.pool.query<string[]>({ text: TABLES_SQL, values: [db] }, signal, `list tables of ${db}`);
    return rows.map((r) => r[0]);
  }

  async getTableMeta(t: TableRef, signal: AbortSignal): Promise<TableMeta> {
    return toTableMeta(await readTableShape(this.pool, t, signal));
  }

  async keyMinMax(meta: TableMeta, where: string | undefined, signal: AbortSignal): Promise<{ min: KeyTuple; max: KeyTuple } | null> {
    if (!meta.keyColumns.length) return null;
    const cols = identList(meta.keyColumns);
    const base = `SELECT ${cols} FROM ${qualified(meta)}${whereClause([keyNotNull(meta.keyColumns), where])}`;
    const desc = meta.keyColumns.map((k) => `${identList([k])} DESC`).join(', ');
    const ctx = `source ${tableId(meta)}`;
    const [lo, hi] = await Promise.all([
      this.pool.query<Array<string | null>>({ text: `${base} ORDER BY ${cols} LIMIT 1` }, signal, ctx),
      this.pool.query<Array<string | null>>({ text: `${base} ORDER BY ${desc} LIMIT 1` }, signal, ctx),
    ]);
    if (!lo.length || !hi.length) return null;
    return { min: decodeKey(meta, lo[0]), max: decodeKey(meta, hi[0]) };
  }

  async keyAtOffset(meta: TableMeta, after: KeyTuple | null, offset: number, where: string | undefined, signal: AbortSignal): Promise<KeyTuple | null> {
    if (!meta.keyColumns.length) return null;
    const n = Math.max(1, Math.floor(offset));
    const cols = identList(meta.keyColumns);
    const values = after ? keyParams(meta, after) : [];
    const afterSql = after ? keyCompare(meta.keyColumns, '>', placeholders(values.length)) : null;
    const text = `SELECT ${cols} FROM ${qualified(meta)}${whereClause([keyNotNull(meta.keyColumns), afterSql, where])} ORDER BY ${cols} OFFSET ${n - 1} LIMIT 1`;
    const rows = await this.pool.query<Array<string | null>>({ text, values }, signal, `source ${tableId(meta)}`);
    return rows.length ? decodeKey(meta, rows[0]) : null;
  }

  async hasNullKeys(meta: TableMeta, signal: AbortSignal): Promise<boolean> {
    if (!meta.keyColumns.length || !meta.keyNullable) return false;
    const text = `SELECT EXISTS (SELECT 1 FROM ${qualified(meta)} WHERE ${keyHasNull(meta.keyColumns)})::text`;
    const rows = await this.pool.query<string[]>({ text }, signal, `source ${tableId(meta)}`);
    return rows[0][0] === 'true';
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
