import { FerryError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { ChangeApplier, Sinker, SinkerCapabilities, TableWriter, WriteTarget } from '../../core/sinker.ts';
import { tableId } from '../../core/table.ts';
import { PgChangeApplier } from './applier.ts';
import { readTableShape } from './catalog.ts';
import type { PgPool } from './pool.ts';
import { PgTableWriter, type PgWriteMode } from './table-writer.ts';
import type { PgColumn } from './type-map.ts';

export interface PgSinkerOptions {
  mode: PgWriteMode;
  overwrite: boolean;
  insertRows: number;
  logger: Logger;
}

function missingColumn(id: string, name: string, cols: PgColumn[]): FerryError {
  const near = cols.find((c) => c.name.toLowerCase() === name.toLowerCase());
  const hint = near ? ` (did you mean "${near.name}"? PostgreSQL names are case-sensitive)` : '';
  return new FerryError('MD001', `target ${id} has no column "${name}"${hint}`, { details: { table: id, column: name } });
}

/**
 * PostgreSQL sinker: upserts by key (ON CONFLICT) and replaces keyless tables in one transaction; CDC changes
 * are applied transaction by transaction through `openApplier` (which also runs DDL and TRUNCATE).
 * Invariant: `openTable` fails fast with MD001 for a missing table or column, so no batch is ever sent to a
 * table that cannot take it.
 */
export class PgSinker implements Sinker {
  readonly capabilities: SinkerCapabilities = { replaceAll: true, ddl: true };
  /** Tables already warned about (openTable runs once per chunk). */
  private readonly warned = new Set<string>();

  constructor(
    private readonly pool: PgPool,
    private readonly o: PgSinkerOptions,
  ) {}

  async openTable(target: WriteTarget, signal: AbortSignal): Promise<TableWriter> {
    const id = tableId(target.table);
    const shape = await readTableShape(this.pool, target.table, signal, 'target');
    const byName = new Map(shape.columns.map((c) => [c.name, c]));
    const cols = target.columns.map((c) => {
      const t = byName.get(c.name);
      if (!t) throw missingColumn(id, c.name, shape.columns);
      if (t.generated) throw new FerryError('MD001', `target ${id} column "${c.name}" is generated and cannot be written`, { details: { table: id, column: c.name } });
      return t;
    });
    for (const k of target.keyColumns) {
      if (!byName.has(k)) throw missingColumn(id, k, shape.columns);
      if (!target.columns.some((c) => c.name === k)) {
        throw new FerryError('RT002', `target ${id}: key column "${k}" is not among the written columns`, { details: { table: id, column: k } });
      }
    }
    const keys = new Set(target.keyColumns);
    const hasArbiter =
      keys.size > 0 && shape.uniques.some((u) => u.immediate && u.columns.length === keys.size && u.columns.every((c) => keys.has(c)));
    if (keys.size && !hasArbiter && !this.warned.has(id)) {
      this.warned.add(id);
      // Still idempotent (delete by key + insert under a table advisory lock), only slower than ON CONFLICT.
      this.o.logger.warn('target has no unique index on the key; upserting by delete + insert', { table: id, key: target.keyColumns });
    }
    return new PgTableWriter(this.pool, target, cols, {
      mode: this.o.mode,
      overwrite: this.o.overwrite,
      hasArbiter,
      nullableKey: target.keyColumns.some((k) => byName.get(k)!.nullable),
      insertRows: this.o.insertRows,
      oid: shape.oid,
      logger: this.o.logger,
    });
  }

  /** A CDC applier on this sinker's pool (each `apply` takes one connection for its transaction). */
  async openApplier(_signal: AbortSignal): Promise<ChangeApplier> {
    return new PgChangeApplier(this.pool, this.o.logger);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
