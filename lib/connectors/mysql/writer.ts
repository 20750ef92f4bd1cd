/**
 * TableWriter for one MySQL/MariaDB table.
 *
 * Invariants:
 * - `write` is idempotent: rows are upserted by the target's primary/unique key (REPLACE or
 *   ON DUPLICATE KEY UPDATE). Rows whose key holds a NULL never conflict on a unique key, so they are
 *   written as "delete the equal rows, then insert" in the same transaction.
 * - A batch is one statement when it fits the byte budget, else several statements in one transaction:
 *   it commits whole or not at all. Deadlocks and lock wait timeouts are retried (the batch is atomic).
 * - A value the target cannot hold fails with IN001 naming the table, the column (when the server says)
 *   and the row's key; batches written before stay committed.
 */
import { Readable } from 'node:stream';
import type { PoolConnection } from 'mysql2/promise';
import { FerryError } from '../../core/errors.ts';
import { retry, throwIfAborted } from '../../core/signal.ts';
import type { TableWriter } from '../../core/sinker.ts';
import { tableId, type TableRef } from '../../core/table.ts';
import type { Row, Value } from '../../core/values.ts';
import { rollback, run, type MysqlClient } from './client.ts';
import { classify, columnOf, isIntegrity, shortReason, type DriverError } from './errors.ts';
import { literalFor } from './literal.ts';
import { loadable, loadSql, tsvChunks } from './load-data.ts';
import { keyLiteral, quoteIdent, quoteTable } from './sql.ts';
import { findBadRow, type Statement, type StatementBuilder, type WriteColumn, type WriteMode } from './statements.ts';

/** Server answers meaning "no LOAD DATA LOCAL here" (local_infile off, or not allowed for this client). */
const LOAD_REFUSED = new Set(['ER_NOT_ALLOWED_COMMAND', 'ER_CLIENT_LOCAL_FILES_DISABLED', 'ER_LOAD_INFILE_CAPABILITY_DISABLED']);

/** Families compared by bytes in the null-key delete (their collation may call 'a' and 'A' equal). */
const BYTE_COMPARED = new Set(['string', 'enum', 'set', 'json', 'uuid', 'inet', 'other']);

export interface WriterSetup {
  client: MysqlClient;
  table: TableRef;
  columns: WriteColumn[];
  keyColumns: string[];
  mode: WriteMode;
  builder: StatementBuilder;
  /** Attempts for a batch that hit a deadlock / lock wait timeout. */
  lockRetries: number;
  /** Target is MariaDB (JSON is LONGTEXT there). */
  mariadb: boolean;
  /** Use LOAD DATA LOCAL INFILE for `replace` batches (load-data.ts); turned off when the server refuses it. */
  loadData: boolean;
}

export class MysqlTableWriter implements TableWriter {
  /** LOAD DATA usable for these columns (and not refused by the server so far). */
  private loadData: boolean;

  constructor(private readonly s: WriterSetup) {
    this.loadData = s.loadData && loadable(s.columns);
  }

  private get id(): string {
    return tableId(this.s.table);
  }

  async write(rows: Row[], signal: AbortSignal): Promise<void> {
    if (!rows.length) return;
    if (!this.s.keyColumns.length) {
      throw new FerryError('RT002', `target ${this.id} is keyless: plain inserts are not idempotent, write it with replaceAll`);
    }
    const normal: Row[] = [];
    const nullKey: Row[] = [];
    for (const r of rows) (this.s.keyColumns.some((k) => r[k] === null || r[k] === undefined) ? nullKey : normal).push(r);
    // NULL-key rows: delete their exact copies, then insert the batch's copies (the source keeps copies in one batch).
    const deletes = new Map(nullKey.map((r) => this.deleteEqual(r)).map((st) => [st.sql, st]));
    const nullStmts = nullKey.length ? [...deletes.values(), ...this.s.builder.build(nullKey, this.s.mode)] : [];
    const retried = <T>(fn: (conn: PoolConnection) => Promise<T>) =>
      retry(() => this.s.client.withConnection(signal, fn), { attempts: this.s.lockRetries, baseMs: 50, maxMs: 1_000, signal });
    if (this.loadData && this.s.mode === 'replace' && normal.length) {
      const chunks = tsvChunks(normal, this.s.columns, (i, e) => {
        throw this.s.builder.rowError(normal[i], i, e.column, e.reason, e);
      });
      if (await retried((conn) => this.executeLoad(conn, chunks, nullStmts, signal))) return;
    }
    const stmts = this.s.builder.build(normal, this.s.mode);
    await retried((conn) => this.execute(conn, stmts, nullStmts, signal));
  }

  /**
   * BEGIN; LOAD DATA ... REPLACE; null-key statements; COMMIT -- unless the load warned or failed on a value,
   * then ROLLBACK and return false so the batch is redone with strict statements (which name the row).
   */
  private async executeLoad(conn: PoolConnection, chunks: Buffer[], nullStmts: Statement[], signal: AbortSignal): Promise<boolean> {
    await run(conn, 'BEGIN', signal);
    try {
      const res = (await run(conn, { sql: loadSql(this.s.table, this.s.columns), infileStreamFactory: () => Readable.from(chunks) }, signal)) as {
        warningStatus?: number;
      };
      if (res.warningStatus) {
        await rollback(conn);
        this.loadFellBack(`${res.warningStatus} warning(s)`);
        return false;
      }
      for (const st of nullStmts) await run(conn, st.sql, signal);
      await run(conn, 'COMMIT', signal);
      return true;
    } catch (e) {
      await rollback(conn);
      if (this.loadRejected(e)) return false;
      throw classify(e, `target ${this.id}`);
    }
  }

  /** replaceAll's batch by LOAD DATA inside the open transaction, undone to a savepoint when it must fall back. */
  private async loadInTransaction(conn: PoolConnection, rows: Row[], mode: WriteMode, signal: AbortSignal): Promise<boolean> {
    const chunks = tsvChunks(rows, this.s.columns, (i, e) => {
      throw this.s.builder.rowError(rows[i], i, e.column, e.reason, e);
    });
    await run(conn, 'SAVEPOINT ferry_load', signal);
    try {
      const sql = loadSql(this.s.table, this.s.columns, mode === 'replace');
      const res = (await run(conn, { sql, infileStreamFactory: () => Readable.from(chunks) }, signal)) as { warningStatus?: number };
      if (!res.warningStatus) return true;
      this.loadFellBack(`${res.warningStatus} warning(s)`);
    } catch (e) {
      if (!this.loadRejected(e)) throw e;
    }
    await run(conn, 'ROLLBACK TO SAVEPOINT ferry_load', signal);
    return false;
  }

  private loadFellBack(why: string): void {
    this.s.client.logger.warn('LOAD DATA warned; batch redone with statements', { table: this.id, why });
  }

  /** Whether a LOAD DATA error means "redo with statements" (a bad value, or LOCAL INFILE refused). */
  private loadRejected(e: unknown): boolean {
    if (isIntegrity(e)) {
      this.s.client.logger.debug('LOAD DATA rejected a value; batch redone with statements to name the row', { table: this.id });
      return true;
    }
    if (LOAD_REFUSED.has((e as DriverError).code ?? '')) {
      this.loadData = false;
      this.s.client.logger.info('LOAD DATA LOCAL refused by the server; writing with statements', { table: this.id });
      return true;
    }
    return false;
  }

  private async execute(conn: PoolConnection, stmts: Statement[], nullStmts: Statement[], signal: AbortSignal): Promise<void> {
    if (stmts.length === 1 && !nullStmts.length) {
      // One statement is atomic on its own (autocommit).
      try {
        await run(conn, stmts[0].sql, signal);
      } catch (e) {
        throw await this.failure(conn, e, stmts[0], signal, 'transaction');
      }
      return;
    }
    await run(conn, 'BEGIN', signal);
    let failed: Statement | undefined;
    try {
      for (const st of [...stmts, ...nullStmts]) {
        failed = st;
        await run(conn, st.sql, signal);
      }
      failed = undefined;
      await run(conn, 'COMMIT', signal);
    } catch (e) {
      await rollback(conn);
      throw await this.failure(conn, e, failed, signal, 'transaction');
    }
  }

  /**
   * Turns a failed statement's error into a FerryError; for integrity errors, finds the row: the server's
   * `at row N` when it gives one, else bisection with probes that are rolled back.
   */
  private async failure(conn: PoolConnection, e: unknown, st: Statement | undefined, signal: AbortSignal, undo: 'transaction' | 'savepoint'): Promise<FerryError> {
    if (!st || !isIntegrity(e) || signal.aborted || st.sql.startsWith('DELETE')) return classify(e, `target ${this.id}`);
    const b = this.s.builder;
    const err = e as DriverError;
    const named = b.serverRowError(err, st.rows);
    if (named) return named;
    if (st.rows.length === 1) return b.rowError(st.rows[0], 0, columnOf(err), shortReason(err), e);
    const mode = this.modeOf(st.sql);
    const probe = async (sql: string): Promise<unknown> => {
      await run(conn, undo === 'transaction' ? 'BEGIN' : 'SAVEPOINT ferry_probe', signal);
      try {
        await run(conn, sql, signal);
        return null;
      } catch (err) {
        return err;
      } finally {
        await run(conn, undo === 'transaction' ? 'ROLLBACK' : 'ROLLBACK TO SAVEPOINT ferry_probe', signal);
      }
    };
    const bad = await findBadRow(b, st.rows, mode, probe).catch(() => undefined);
    if (!bad) return classify(e, `target ${this.id}`);
    return b.serverRowError(bad.err, [st.rows[bad.index]], bad.index) ?? b.rowError(st.rows[bad.index], bad.index, columnOf(bad.err), shortReason(bad.err), bad.err);
  }

  private modeOf(sql: string): WriteMode {
    return sql.startsWith('REPLACE') ? 'replace' : sql.includes(' ON DUPLICATE KEY UPDATE ') ? 'upsert' : 'insert';
  }

  /**
   * DELETE of the target rows that are exact copies of `row` (every column, null-safe). Strings compare by
   * bytes (COLLATE utf8mb4_bin), so 'a' never deletes 'A'; FLOAT/DOUBLE by their exact value; MySQL 8 JSON
   * by JSON equality (its stored text is normalised).
   */
  private deleteEqual(row: Row): Statement {
    const conds = this.s.columns.map((c) => {
      const v = row[c.name] as Value;
      const col = quoteIdent(c.target.name);
      if (v === null || v === undefined) return `${col} IS NULL`;
      const fam = c.target.family;
      if (fam === 'float' && typeof v === 'number') return `${col} = ${keyLiteral(c.target, v)}`;
      const lit = literalFor(c.target, c.from, v);
      if (fam === 'json' && !this.s.mariadb) return `${col} = CAST(${lit} AS JSON)`;
      if (BYTE_COMPARED.has(fam) && lit.startsWith("'")) return `${col} = (${lit} COLLATE utf8mb4_bin)`;
      return `${col} <=> ${lit}`;
    });
    return { sql: `DELETE FROM ${quoteTable(this.s.table)} WHERE ${conds.join(' AND ')}`, rows: [row] };
  }

  async replaceAll(batches: AsyncIterable<Row[]>, signal: AbortSignal): Promise<number> {
    const mode: WriteMode = this.s.keyColumns.length ? this.s.mode : 'insert';
    return this.s.client.withConnection(signal, async (conn) => {
      await run(conn, 'BEGIN', signal);
      let n = 0;
      try {
        await run(conn, `DELETE FROM ${quoteTable(this.s.table)}`, signal);
        for await (const rows of batches) {
          throwIfAborted(signal);
          if (this.loadData && mode !== 'upsert' && rows.length && (await this.loadInTransaction(conn, rows, mode, signal))) {
            n += rows.length;
            continue;
          }
          for (const st of this.s.builder.build(rows, mode)) {
            try {
              await run(conn, st.sql, signal);
            } catch (e) {
              throw await this.failure(conn, e, st, signal, 'savepoint');
            }
          }
          n += rows.length;
        }
        await run(conn, 'COMMIT', signal);
        return n;
      } catch (e) {
        await rollback(conn);
        throw classify(e, `target ${this.id}`);
      }
    });
  }

  async close(): Promise<void> {}
}

