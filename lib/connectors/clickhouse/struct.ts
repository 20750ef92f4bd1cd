/**
 * Structure migration into ClickHouse (StructWriter): CREATE DATABASE, and CREATE TABLE with ape-dts's two extra
 * columns. Keyed tables: ReplacingMergeTree versioned by `_ape_dts_timestamp` (plus `_ape_dts_is_deleted` as the
 * engine's delete flag from 23.2), ORDER BY the primary key (or the first unique key without nullable columns).
 * Keyless tables: MergeTree ORDER BY tuple() -- a ReplacingMergeTree with an empty sorting key would collapse
 * the whole table into one row. Secondary indexes, foreign keys, checks, sequences and defaults are not carried
 * (a ClickHouse replica has no use for them); nothing is planned for those phases.
 *
 * Invariant: `planDdl` is pure: the features it plans for are decided when the writer is created (the
 * server's version, or current ClickHouse for dry runs).
 */
import { FerryError } from '../../core/errors.ts';
import type { DdlPlan, DdlStatement, SchemaModel, StructFlag, StructTable, StructWriter } from '../../core/struct.ts';
import type { ClickhouseApi } from './client.ts';
import type { ServerFeatures } from './features.ts';
import { DELETED_COL, EXTRA_COLUMNS, VERSION_COL, quoteIdent, quoteTable, sqlString } from './sql.ts';
import { mapType } from './type-map.ts';

/** The sorting key: primary key, else the first unique index whose columns are all NOT NULL; [] when keyless. */
export function sortingKey(t: StructTable): string[] {
  if (t.primaryKey?.columns.length) return t.primaryKey.columns;
  for (const idx of t.indexes) {
    if (!idx.unique || idx.parts.some((p) => !p.column || p.prefixLength)) continue;
    const cols = idx.parts.map((p) => p.column!);
    if (cols.every((n) => t.columns.find((c) => c.name === n)?.nullable === false)) return cols;
  }
  return [];
}

/** CREATE TABLE for one table, with its flags. MD002 for a type ClickHouse cannot carry or a reserved column name. */
export function createTableSql(t: StructTable, f: ServerFeatures): { sql: string; flags: StructFlag[] } {
  const flags: StructFlag[] = [];
  const key = sortingKey(t);
  const defs = t.columns.map((c) => {
    const object = `${t.db}.${t.tb}.${c.name}`;
    if ((EXTRA_COLUMNS as readonly string[]).includes(c.name)) {
      throw new FerryError('MD002', `${object} (${c.nativeType}): the column name is reserved for ape-dts's extra columns on ClickHouse; rename it (router col_map)`, { details: { object, type: c.nativeType } });
    }
    const m = mapType(c, f, object);
    if (m.flag) flags.push({ object, ...m.flag });
    const inKey = key.includes(c.name);
    const type = c.nullable && !inKey ? `Nullable(${m.type})` : m.type;
    if (c.nullable && inKey) flags.push({ object, from: c.nativeType, to: m.type, reason: 'nullable key column cannot be Nullable in the sorting key: NULL becomes the type default' });
    const comment = c.comment && f.dateTime64 ? ` COMMENT ${sqlString(c.comment)}` : '';
    return `  ${quoteIdent(c.name)} ${type}${comment}`;
  });
  defs.push(`  ${quoteIdent(DELETED_COL)} UInt8`, `  ${quoteIdent(VERSION_COL)} Int64`);
  const engine = !key.length
    ? 'MergeTree'
    : f.isDeletedEngine
      ? `ReplacingMergeTree(${quoteIdent(VERSION_COL)}, ${quoteIdent(DELETED_COL)})`
      : `ReplacingMergeTree(${quoteIdent(VERSION_COL)})`;
  const order = key.length ? `(${key.map(quoteIdent).join(', ')})` : 'tuple()';
  if (!key.length) flags.push({ object: `${t.db}.${t.tb}`, from: 'table without key', to: 'MergeTree ORDER BY tuple()', reason: 'keyless: rows are appended, a snapshot replaces the whole table, deletes remove every identical row' });
  return { sql: `CREATE TABLE ${quoteTable(t)} (\n${defs.join(',\n')}\n) ENGINE = ${engine} ORDER BY ${order}`, flags };
}

export class ClickhouseStructWriter implements StructWriter {
  constructor(
    private readonly features: ServerFeatures,
    private readonly client?: ClickhouseApi,
  ) {}

  planDdl(model: SchemaModel): DdlPlan {
    const statements: DdlStatement[] = [];
    const flags: StructFlag[] = [];
    const dbs = new Set([...model.databases.map((d) => d.name), ...model.tables.map((t) => t.db)]);
    for (const db of [...dbs].sort()) statements.push({ phase: 'database', kind: 'database', names: [db], object: db, sql: `CREATE DATABASE ${quoteIdent(db)}` });
    for (const t of model.tables) {
      const { sql, flags: f } = createTableSql(t, this.features);
      statements.push({ phase: 'table', kind: 'table', names: [t.db, t.tb], object: `${t.db}.${t.tb}`, sql });
      flags.push(...f);
    }
    return { statements, flags };
  }

  async exists(stmt: DdlStatement, signal?: AbortSignal): Promise<boolean> {
    const client = this.need();
    if (stmt.kind === 'database') {
      const r = await client.rows(`SELECT name FROM system.databases WHERE name = ${sqlString(stmt.names[0])}`, signal, `target ${stmt.object}`);
      return r.length > 0;
    }
    const [db, tb] = stmt.names;
    const r = await client.rows(`SELECT name FROM system.tables WHERE database = ${sqlString(db)} AND name = ${sqlString(tb)}`, signal, `target ${stmt.object}`);
    return r.length > 0;
  }

  async execute(stmt: DdlStatement, signal?: AbortSignal): Promise<void> {
    await this.need().command(stmt.sql, signal, `ddl ${stmt.object}`);
  }

  async close(): Promise<void> {
    await this.client?.close();
  }

  private need(): ClickhouseApi {
    if (!this.client) throw new FerryError('RT002', 'ClickHouse struct writer opened without a connection (plan only)');
    return this.client;
  }
}

