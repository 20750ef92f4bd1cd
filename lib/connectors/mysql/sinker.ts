/**
 * Sinker for MySQL/MariaDB: opens table writers after checking the target's shape.
 *
 * Invariants (beyond lib/core/sinker.ts):
 * - openTable fails with MD001 naming `db.tb` when the table is missing, `db.tb.col` when a column is,
 *   and `db.tb` when a keyed write has no primary/unique key among the written columns to upsert by
 *   (writes would not be idempotent).
 * - Values are converted by the TARGET column type read here (literal.ts), not by the JS type alone.
 * - Generated target columns are left out of the write: the server computes them.
 * - CDC: `openApplier` applies change batches transactionally (applier.ts); DDL is applied as written.
 */
import { FerryError } from '../../core/errors.ts';
import type { ChangeApplier, Sinker, SinkerCapabilities, TableWriter, WriteTarget } from '../../core/sinker.ts';
import { tableId, type TableRef } from '../../core/table.ts';
import { MysqlChangeApplier } from './applier.ts';
import type { MysqlClient } from './client.ts';
import { readColumns } from './metadata.ts';
import { sqlString } from './sql.ts';
import { StatementBuilder, type WriteColumn, type WriteMode } from './statements.ts';
import { MysqlTableWriter } from './writer.ts';

export interface MysqlSinkOptions {
  /** true: REPLACE INTO; false: INSERT ... ON DUPLICATE KEY UPDATE (ape-dts `sinker.replace`, default true). */
  replace: boolean;
  /** Soft limit of one statement's SQL text, in characters (default 4 MiB; never above max_allowed_packet/3). */
  statementBytes?: number;
  /** Attempts per batch on deadlock / lock wait timeout (default 5). */
  lockRetries?: number;
  /** `replace` mode: use LOAD DATA LOCAL INFILE when the server allows it (default true; the fastest path). */
  loadData?: boolean;
}

export const DEFAULT_STATEMENT_BYTES = 4 * 1024 * 1024;

export class MysqlSinker implements Sinker {
  readonly capabilities: SinkerCapabilities = { replaceAll: true, ddl: true };

  constructor(
    private readonly client: MysqlClient,
    private readonly opts: MysqlSinkOptions,
    private readonly onClose: () => Promise<void> = () => client.end(),
  ) {}

  /**
   * The target table as the server spells it and the columns that will be written (generated ones left out),
   * each with its target type: MD001 naming `db.tb` / `db.tb.col` when missing.
   */
  async describe(target: WriteTarget, signal: AbortSignal): Promise<{ table: TableRef; exact: string; columns: WriteColumn[] }> {
    const t = target.table;
    const id = tableId(t);
    const tables = await this.client.catalog<{ n: string }>(
      `SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${sqlString(t.db)} AND TABLE_NAME = ${sqlString(t.tb)}` +
        ` AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')`,
      signal,
      `target ${id}`,
    );
    const name = tables.find((r) => r.n === t.tb)?.n ?? (tables.length === 1 ? tables[0].n : undefined);
    if (!name) throw new FerryError('MD001', `target table ${id} does not exist`, { details: { table: id } });
    const exact = `TABLE_SCHEMA = ${sqlString(t.db)} AND TABLE_NAME = ${sqlString(name)}`;
    const targetCols = await readColumns(this.client, exact, { db: t.db, tb: name }, signal);
    const columns: WriteColumn[] = [];
    for (const c of target.columns) {
      const tc = targetCols.find((x) => x.name === c.name) ?? targetCols.find((x) => x.name.toLowerCase() === c.name.toLowerCase());
      if (!tc) throw new FerryError('MD001', `target column ${id}.${c.name} does not exist`, { details: { table: id, column: c.name } });
      if (!tc.generated) columns.push({ name: c.name, target: tc, from: c.family });
    }
    return { table: { db: t.db, tb: name }, exact, columns };
  }

  async openTable(target: WriteTarget, signal: AbortSignal): Promise<TableWriter> {
    const id = tableId(target.table);
    const { table, exact, columns } = await this.describe(target, signal);
    if (target.keyColumns.length) await this.checkKey(exact, id, columns, signal);

    const info = await this.client.server(signal);
    const budget = Math.max(64 * 1024, Math.min(this.opts.statementBytes ?? DEFAULT_STATEMENT_BYTES, Math.floor((info.maxAllowedPacket - 1024) / 3)));
    const shape = { table, columns, keyColumns: target.keyColumns, rowAlias: info.rowAlias };
    const mode: WriteMode = target.keyColumns.length ? (this.opts.replace ? 'replace' : 'upsert') : 'insert';
    return new MysqlTableWriter({
      client: this.client,
      table: shape.table,
      columns: shape.columns,
      keyColumns: target.keyColumns,
      mode,
      builder: new StatementBuilder(shape, budget),
      lockRetries: this.opts.lockRetries ?? 5,
      mariadb: info.isMariaDb,
      loadData: (this.opts.loadData ?? true) && info.localInfile,
    });
  }

  /** CDC apply (one transaction per `apply`, see applier.ts). */
  async openApplier(_signal: AbortSignal): Promise<ChangeApplier> {
    return new MysqlChangeApplier(this.client, this, { replace: this.opts.replace, lockRetries: this.opts.lockRetries ?? 5, statementBytes: this.opts.statementBytes ?? DEFAULT_STATEMENT_BYTES });
  }

  /** The target must have a primary/unique key made only of written columns, or upserts would duplicate rows. */
  async checkKey(exact: string, id: string, columns: WriteColumn[], signal: AbortSignal): Promise<void> {
    const idx = await this.client.catalog<{ idx: string; col: string | null }>(
      `SELECT INDEX_NAME AS idx, COLUMN_NAME AS col FROM information_schema.STATISTICS WHERE ${exact} AND NON_UNIQUE = 0`,
      signal,
    );
    const written = new Set(columns.map((c) => c.target.name));
    const byIndex = new Map<string, boolean>();
    for (const r of idx) byIndex.set(r.idx, (byIndex.get(r.idx) ?? true) && r.col !== null && written.has(r.col));
    if (![...byIndex.values()].some(Boolean)) {
      throw new FerryError('MD001', `target table ${id} has no primary or unique key among the written columns: writes would not be idempotent`, {
        details: { table: id },
      });
    }
  }

  async close(): Promise<void> {
    await this.onClose();
  }
}
