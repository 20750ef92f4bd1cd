import { FerryError, isFerryError } from '../../core/errors.ts';
import { TargetCache } from '../../core/sinker.ts';
import type { Logger } from '../../core/logger.ts';
import type { ChangeApplier, TargetChange, WriteTarget } from '../../core/sinker.ts';
import type { TableRef } from '../../core/table.ts';
import { tableId } from '../../core/table.ts';
import { ApplyPlanner, makeEncoders, type ApplyTable, type Stmt } from './apply-plan.ts';
import { readTableShape } from './catalog.ts';
import { isDataError, toFerryError } from './errors.ts';
import { columnOf } from './locate.ts';
import type { PgPool } from './pool.ts';
import { exec, inSavepoint, inTransaction, type Session } from './session.ts';
import { qualified, quoteIdent } from './sql.ts';
import { hashName } from './write-sql.ts';

function missingColumn(id: string, name: string): FerryError {
  return new FerryError('MD001', `target ${id} has no column "${name}" (PostgreSQL names are case-sensitive)`, { details: { table: id, column: name } });
}

/**
 * CDC apply into PostgreSQL (ChangeApplier). Each `apply` is ONE transaction on one pooled connection whose
 * statements come from {@link ApplyPlanner} (multi-row where the result is the same as one by one).
 * Inserts are upserts and deletes of absent rows are no-ops, so a transaction applied twice leaves the target
 * unchanged (keyed tables). A data error rolls everything back and is reported as IN001 naming the table and
 * the key of the change that fails, found by replaying the changes one by one under savepoints inside a
 * transaction that is rolled back too.
 */
export class PgChangeApplier implements ChangeApplier {
  private readonly tables = new TargetCache<ApplyTable>();

  constructor(
    private readonly pool: PgPool,
    private readonly logger: Logger,
  ) {}

  private table(target: WriteTarget, signal: AbortSignal): Promise<ApplyTable> {
    return this.tables.get(target, (t) => this.load(t, signal));
  }

  private async load(target: WriteTarget, signal: AbortSignal): Promise<ApplyTable> {
    const id = tableId(target.table);
    const shape = await readTableShape(this.pool, target.table, signal, 'target');
    const cols = new Map(shape.columns.map((c) => [c.name, c]));
    for (const c of target.columns) {
      const t = cols.get(c.name);
      if (!t) throw missingColumn(id, c.name);
      if (t.generated) throw new FerryError('MD001', `target ${id} column "${c.name}" is generated and cannot be written`, { details: { table: id, column: c.name } });
    }
    const keys = target.keyColumns;
    for (const k of keys) {
      if (!cols.has(k)) throw missingColumn(id, k);
      if (!target.columns.some((c) => c.name === k)) throw new FerryError('RT002', `target ${id}: key column "${k}" is not among the written columns`, { details: { table: id } });
    }
    const set = new Set(keys);
    const hasArbiter = keys.length > 0 && shape.uniques.some((u) => u.immediate && u.columns.length === set.size && u.columns.every((c) => set.has(c)));
    if (keys.length && !hasArbiter) this.logger.warn('target has no unique index on the key; CDC upserts by delete + insert', { table: id, key: keys });
    return {
      id,
      sql: qualified(target.table),
      keys,
      cols,
      written: target.columns.map((c) => c.name),
      hasArbiter,
      encoders: makeEncoders(cols, target.columns),
    };
  }

  async apply(changes: TargetChange[], signal: AbortSignal): Promise<void> {
    if (!changes.length) return;
    const byTarget = new Map<WriteTarget, ApplyTable>();
    for (const c of changes) if (!byTarget.has(c.target)) byTarget.set(c.target, await this.table(c.target, signal));
    const tableOf = (c: TargetChange) => byTarget.get(c.target)!;
    const stmts = new ApplyPlanner(tableOf).plan(changes);
    await this.pool.withClient(signal, async (client) => {
      const s: Session = { client, target: this.pool.target, signal, ctx: 'cdc apply' };
      try {
        await inTransaction(s, async () => {
          for (const st of stmts) await this.run(s, st);
        });
      } catch (e) {
        if (!isDataError(e) || (isFerryError(e) && e.cause === undefined)) throw e;
        throw await this.locate(s, changes, tableOf, e);
      }
    });
  }

  private async run(s: Session, st: Stmt): Promise<void> {
    try {
      await exec({ ...s, ctx: `target ${st.table}` }, st.text, st.values);
    } catch (e) {
      if (isFerryError(e)) e.details.table ??= st.table;
      throw e;
    }
  }

  /** Replays the changes one by one (savepoints, all rolled back) to name the one that fails. */
  private async locate(s: Session, changes: TargetChange[], tableOf: (c: TargetChange) => ApplyTable, first: unknown): Promise<FerryError> {
    await exec(s, 'BEGIN');
    try {
      for (const c of changes) {
        const t = tableOf(c);
        const stmts = new ApplyPlanner(() => t).plan([c]);
        try {
          await inSavepoint(s, async () => {
            for (const st of stmts) await this.run(s, st);
          });
        } catch (e) {
          if (!isDataError(e)) throw e;
          const d = (isFerryError(e) ? e.cause : e) as { message?: string; code?: string; constraint?: string };
          const column = columnOf(e, t.written) ?? (await this.probeColumn(s, t, c));
          const key = stmts[stmts.length - 1]?.keys[0] ?? '?';
          return new FerryError('IN001', `target ${t.id}: ${d?.message ?? String(e)}${column ? ` (column ${column})` : ''} at key ${key} (${c.op})`, {
            cause: d,
            details: { table: t.id, key, op: c.op, sqlstate: d?.code, ...(column ? { column } : {}), ...(d?.constraint ? { constraint: d.constraint } : {}) },
          });
        }
      }
      return toFerryError(first, `target (transaction of ${changes.length} changes)`);
    } finally {
      await s.client.query('ROLLBACK').catch(() => undefined);
    }
  }

  /**
   * The column whose value the target type refuses: each value is inserted alone into a constraint-free copy
   * of the table's column types (CREATE TABLE AS ... WITH NO DATA), with INSERT's assignment semantics
   * (a too-long varchar fails there, where a cast would truncate). Runs inside the rolled-back locate
   * transaction, so the probe table disappears with it.
   */
  private async probeColumn(s: Session, t: ApplyTable, c: TargetChange): Promise<string | undefined> {
    const row = c.after ?? c.beforeKey ?? {};
    const probe = `pg_temp.${quoteIdent(hashName('ferry_probe_', t.id, 16))}`;
    await inSavepoint(s, () => exec(s, `CREATE TEMP TABLE IF NOT EXISTS ${probe} AS SELECT * FROM ${t.sql} WITH NO DATA`)).catch(() => undefined);
    for (const name of t.written.filter((n) => n in row)) {
      try {
        await inSavepoint(s, () => exec(s, `INSERT INTO ${probe} (${quoteIdent(name)}) VALUES ($1)`, [t.encoders.get(name)!(row[name])]));
      } catch (e) {
        if (isDataError(e)) return name;
        return undefined;
      }
    }
    return undefined;
  }

  async truncate(table: TableRef, signal: AbortSignal): Promise<void> {
    await this.pool.query({ text: `TRUNCATE ${qualified(table)}` }, signal, `target ${tableId(table)}`);
  }

  /** Runs `sql` with `db` as the schema for unqualified names, then forgets cached table shapes. */
  async applyDdl(ddl: { db: string; sql: string }, signal: AbortSignal): Promise<void> {
    await this.pool.withClient(signal, async (client) => {
      const s: Session = { client, target: this.pool.target, signal, ctx: `ddl in ${ddl.db}` };
      await exec(s, `SET search_path TO ${quoteIdent(ddl.db)}, public`);
      try {
        await exec(s, ddl.sql);
      } finally {
        await client.query('RESET search_path').catch(() => undefined);
      }
    });
    this.tables.clear();
  }

  async close(): Promise<void> {
    this.tables.clear();
  }
}
