import type { DdlPlan, DdlStatement, SchemaModel, StructWriter } from '../../core/struct.ts';
import type { TableRef } from '../../core/table.ts';
import type { PgPool } from './pool.ts';
import { planPgDdl } from './struct-ddl.ts';
import { PgStructReader } from './struct-reader.ts';

const NOT_NEEDED = new AbortController().signal;

/** Catalog lookups by a statement's names ($1 schema, $2 relation or table, $3 constraint). */
const EXISTS_SQL: Record<DdlStatement['kind'], string> = {
  database: 'SELECT 1 FROM pg_namespace WHERE nspname = $1',
  type: 'SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1 AND t.typname = $2',
  sequence: 'SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2',
  table: 'SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2',
  // Index names live in the schema's namespace (a unique constraint has an index of the same name).
  index: 'SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $3 AND $2::text IS NOT NULL',
  unique: 'SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $3 AND $2::text IS NOT NULL',
  check: `SELECT 1 FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relname = $2 AND k.conname = $3`,
  foreign_key: `SELECT 1 FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relname = $2 AND k.conname = $3`,
};

/**
 * StructWriter for PostgreSQL targets. `exists` asks pg_catalog by the statement's names; `execute` runs the
 * statement text (one or several `;`-separated statements, e.g. CREATE TABLE + its COMMENTs) in one
 * simple-protocol round trip, which PostgreSQL runs as one transaction.
 */
export class PgStructWriter implements StructWriter {
  constructor(private readonly pool: PgPool) {}

  planDdl(model: SchemaModel): DdlPlan {
    return planPgDdl(model);
  }

  async exists(stmt: DdlStatement, signal: AbortSignal = NOT_NEEDED): Promise<boolean> {
    const text = EXISTS_SQL[stmt.kind];
    const n = (text.match(/\$\d/g) ?? []).reduce((m, p) => Math.max(m, Number(p.slice(1))), 0);
    const rows = await this.pool.query({ text, values: stmt.names.slice(0, n) }, signal, `struct ${stmt.object}`);
    return rows.length > 0;
  }

  async execute(stmt: DdlStatement, signal: AbortSignal = NOT_NEEDED): Promise<void> {
    await this.pool.query({ text: stmt.sql }, signal, `struct ${stmt.object}`);
  }

  async readSchema(tables: TableRef[], signal?: AbortSignal): Promise<SchemaModel> {
    // The reader would end the pool on close; the writer owns it, so it is never closed here.
    return new PgStructReader(this.pool).readSchema(tables, signal);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
