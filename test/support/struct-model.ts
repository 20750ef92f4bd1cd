/**
 * A SchemaModel for structure-migration tests, built from the data path's MetadataAccessor (TableMeta), until
 * the MySQL/PostgreSQL StructReaders land: columns as ColumnMeta, the key as primary key (or a unique index).
 */
import type { MetadataAccessor, SchemaModel, StructTable, TableMeta, TableRef } from '../../lib/core/index.ts';

export function structTableOf(meta: TableMeta): StructTable {
  const key = meta.keyColumns;
  return {
    db: meta.db,
    tb: meta.tb,
    columns: meta.columns.map((c) => ({ ...c })),
    primaryKey: meta.keyKind === 'primary' ? { columns: key } : undefined,
    indexes: meta.keyKind === 'unique' ? [{ name: 'uk', unique: true, parts: key.map((column) => ({ column })) }] : [],
    foreignKeys: [],
    checks: [],
  };
}

/** Reads `tables` through `meta`; `rename` maps a source table to its target (router). */
export async function schemaModelOf(
  meta: MetadataAccessor,
  tables: TableRef[],
  sourceDbType: string,
  rename: (t: TableRef) => TableRef = (t) => t,
): Promise<SchemaModel> {
  const out: StructTable[] = [];
  for (const t of tables) out.push({ ...structTableOf(await meta.getTableMeta(t, new AbortController().signal)), ...rename(t) });
  return { sourceDbType, databases: [...new Set(out.map((t) => t.db))].map((name) => ({ name })), tables: out, sequences: [], enumTypes: [] };
}
