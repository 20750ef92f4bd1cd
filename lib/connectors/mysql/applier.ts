import type { PoolConnection } from 'mysql2/promise';
import { TargetCache } from '../../core/sinker.ts';
import { FerryError, isFerryError } from '../../core/errors.ts';
import { retry } from '../../core/signal.ts';
import type { ChangeApplier, TargetChange, WriteTarget } from '../../core/sinker.ts';
import { tableId, type TableRef } from '../../core/table.ts';
import { ApplyPlanner, type ApplyTable, type Stmt } from './apply-plan.ts';
import { rollback, run, type MysqlClient } from './client.ts';
import { classify, columnOf, isIntegrity, shortReason, type DriverError } from './errors.ts';
import { quoteIdent, quoteTable } from './sql.ts';
import type { WriteColumn } from './statements.ts';
import { keyText } from './statements.ts';

/** What the applier needs from the sinker: the target's written columns, checked (sinker.ts describe). */
export interface TargetDescriber {
  describe(target: WriteTarget, signal: AbortSignal): Promise<{ table: TableRef; exact: string; columns: WriteColumn[] }>;
  checkKey(exact: string, id: string, columns: WriteColumn[], signal: AbortSignal): Promise<void>;
}

export interface ApplierOptions {
  replace: boolean;
  /** Attempts for a transaction that hit a deadlock / lock wait timeout. */
  lockRetries: number;
  statementBytes: number;
}

/** DDL that may run without a default database (the database it names may not exist yet). */
const DATABASE_DDL = /^\s*(CREATE|DROP|ALTER)\s+(DATABASE|SCHEMA)\b/i;

/**
 * CDC apply into MySQL/MariaDB (ChangeApplier). Each `apply` is ONE transaction on one pooled connection, its
 * statements planned by {@link ApplyPlanner}. Inserts are upserts and deletes of absent rows are no-ops, so a
 * transaction applied twice leaves a keyed target unchanged. Deadlocks and lock wait timeouts roll back and
 * retry the whole transaction (then surface as a retryable ST001). A value the target refuses rolls
 * everything back and is reported as IN001 naming the table and the key of the failing change, found by
 * replaying the changes one by one under savepoints inside a transaction that is rolled back too.
 */
export class MysqlChangeApplier implements ChangeApplier {
  private readonly tables = new TargetCache<ApplyTable>();

  constructor(
    private readonly client: MysqlClient,
    private readonly sinker: TargetDescriber,
    private readonly o: ApplierOptions,
  ) {}

  private table(target: WriteTarget, signal: AbortSignal): Promise<ApplyTable> {
    return this.tables.get(target, (t) => this.load(t, signal));
  }

  private async load(target: WriteTarget, signal: AbortSignal): Promise<ApplyTable> {
    const { table, exact, columns } = await this.sinker.describe(target, signal);
    const id = tableId(table);
    for (const k of target.keyColumns) {
      if (!columns.some((c) => c.name === k)) throw new FerryError('RT002', `target ${id}: key column "${k}" is not among the written columns`, { details: { table: id } });
    }
    if (target.keyColumns.length) await this.sinker.checkKey(exact, id, columns, signal);
    return { id, sql: quoteTable(table), keys: target.keyColumns, cols: new Map(columns.map((c) => [c.name, c])), written: columns.map((c) => c.name) };
  }

  async apply(changes: TargetChange[], signal: AbortSignal): Promise<void> {
    if (!changes.length) return;
    const byTarget = new Map<WriteTarget, ApplyTable>();
    for (const c of changes) if (!byTarget.has(c.target)) byTarget.set(c.target, await this.table(c.target, signal));
    const tableOf = (c: TargetChange) => byTarget.get(c.target)!;
    const info = await this.client.server(signal);
    const plan = { replace: this.o.replace, rowAlias: info.rowAlias, budget: Math.max(64 * 1024, Math.min(this.o.statementBytes, Math.floor((info.maxAllowedPacket - 1024) / 3))) };
    const stmts = new ApplyPlanner(tableOf, plan).plan(changes);
    await retry(
      () =>
        this.client.withConnection(signal, async (conn) => {
          try {
            await this.transaction(conn, stmts, signal);
          } catch (e) {
            if (!isIntegrity(e) || signal.aborted) throw classify(e, `target ${failedTable(e) ?? 'cdc apply'}`);
            throw await this.locate(conn, changes, tableOf, plan, e, signal);
          }
        }),
      { attempts: this.o.lockRetries, baseMs: 50, maxMs: 1_000, signal },
    );
  }

  private async transaction(conn: PoolConnection, stmts: Stmt[], signal: AbortSignal): Promise<void> {
    await run(conn, 'BEGIN', signal);
    try {
      for (const st of stmts) {
        try {
          await run(conn, st.sql, signal);
        } catch (e) {
          (e as { ferryTable?: string }).ferryTable = st.table;
          throw e;
        }
      }
      await run(conn, 'COMMIT', signal);
    } catch (e) {
      await rollback(conn);
      throw e;
    }
  }

  /** Replays the changes one by one (savepoints, all rolled back) to name the one that fails. */
  private async locate(
    conn: PoolConnection,
    changes: TargetChange[],
    tableOf: (c: TargetChange) => ApplyTable,
    plan: { replace: boolean; rowAlias: boolean; budget: number },
    first: unknown,
    signal: AbortSignal,
  ): Promise<FerryError> {
    await run(conn, 'BEGIN', signal);
    try {
      for (const c of changes) {
        const t = tableOf(c);
        await run(conn, 'SAVEPOINT ferry_sp', signal);
        try {
          for (const st of new ApplyPlanner(() => t, plan).plan([c])) await run(conn, st.sql, signal);
        } catch (e) {
          if (!isIntegrity(e)) throw classify(e, `target ${t.id}`);
          const d = e as DriverError;
          const column = columnOf(d);
          const key = c.beforeKey && t.keys.length ? keyText(c.beforeKey, t.keys) : c.after && t.keys.length ? keyText(c.after, t.keys) : 'keyless row';
          return new FerryError('IN001', `target ${t.id}: ${column ? `value does not fit column ${column} ` : ''}(${shortReason(d)}) at key ${key} (${c.op})`, {
            cause: e,
            details: { table: t.id, key, op: c.op, driverCode: d.code, ...(column ? { column } : {}) },
          });
        }
        await run(conn, 'RELEASE SAVEPOINT ferry_sp', signal);
      }
      return classify(first, `target (transaction of ${changes.length} changes)`);
    } finally {
      await rollback(conn);
    }
  }

  async truncate(table: TableRef, signal: AbortSignal): Promise<void> {
    await this.client.query(`TRUNCATE TABLE ${quoteTable(table)}`, signal, { context: `target ${tableId(table)}` });
  }

  /**
   * Runs `sql` outside any transaction with `db` as the default database (`USE db`), then forgets cached
   * table shapes. A database-level statement runs without `USE` when `db` does not exist on the target.
   */
  async applyDdl(ddl: { db: string; sql: string }, signal: AbortSignal): Promise<void> {
    await this.client.withConnection(signal, async (conn) => {
      const ctx = `ddl in ${ddl.db || '(no database)'}`;
      if (ddl.db) {
        try {
          await run(conn, `USE ${quoteIdent(ddl.db)}`, signal);
        } catch (e) {
          const fe = classify(e, ctx);
          if (!(fe.code === 'MD001' && DATABASE_DDL.test(ddl.sql))) throw fe;
        }
      }
      try {
        await run(conn, ddl.sql, signal);
      } catch (e) {
        throw classify(e, ctx);
      }
    });
    this.tables.clear();
  }

  async close(): Promise<void> {
    this.tables.clear();
  }
}

const failedTable = (e: unknown): string | undefined => (isFerryError(e) ? undefined : (e as { ferryTable?: string })?.ferryTable);

