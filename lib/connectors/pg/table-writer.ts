import type { PoolClient } from 'pg';
import { FerryError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { TableWriter, WriteTarget } from '../../core/sinker.ts';
import { sleep, throwIfAborted } from '../../core/signal.ts';
import { tableId } from '../../core/table.ts';
import type { Row } from '../../core/values.ts';
import type { RawRows } from '../../core/source.ts';
import type { ColumnMeta } from '../../core/table.ts';
import { isDataError, isTransientConflict, isUniqueViolation, sqlstateOf } from './errors.ts';
import { binaryKeyTypes, PG_COPY_BINARY, sameCopyBinary } from './copy-binary.ts';
import { BinaryPageWriter } from './binary-page-writer.ts';
import { locateBadRow } from './locate.ts';
import type { PgPool } from './pool.ts';
import { RowEncoder, type EncodedRow } from './row-encoding.ts';
import { PG_COPY_DATA } from './copy.ts';
import { copyIn, copyRaw, exec, inSavepoint, inTransaction, type Session } from './session.ts';
import type { PgColumn } from './type-map.ts';
import { hashName, WriteSql } from './write-sql.ts';

/**
 * How rows reach the table:
 * - `auto`: COPY straight into the table; a batch that meets an existing key (a rerun, a resumed chunk, a
 *   concurrent duplicate) rolls back and is written again as `insert`. See {@link CopyFirst}.
 * - `insert`: multi-row `INSERT ... ON CONFLICT`.
 * - `copy`: COPY into a staging table + one `INSERT ... SELECT ... ON CONFLICT`.
 */
export type PgWriteMode = 'auto' | 'copy' | 'insert';

export interface WriterOptions {
  mode: PgWriteMode;
  /** Upsert overwrites conflicting rows (sinker.replace=true) or keeps them (DO NOTHING). */
  overwrite: boolean;
  /** The target has a non-deferrable unique index on exactly the key columns (ON CONFLICT can use it). */
  hasArbiter: boolean;
  /** A key column of the target is nullable: NULL-key rows take the exact-copy replace path. */
  nullableKey: boolean;
  /** Max rows per multi-row INSERT (further capped by the 65535 parameter limit). */
  insertRows: number;
  oid: string;
  logger: Logger;
}


/**
 * When `auto` mode tries COPY. A batch whose keys are new (the normal case: an empty target) costs a COPY;
 * one that meets existing keys costs a wasted COPY plus the upsert. After `n` conflicts in a row the next
 * 2^n - 1 batches (at most 63) go straight to the upsert, so re-copying a full table wastes little, while a
 * resumed chunk (one conflicting batch, then new keys) is back on COPY after one batch.
 */
export class CopyFirst {
  private streak = 0;
  private skip = 0;

  shouldTry(): boolean {
    if (this.skip === 0) return true;
    this.skip -= 1;
    return false;
  }

  succeeded(): void {
    this.streak = 0;
  }

  conflicted(): void {
    this.streak = Math.min(this.streak + 1, 6);
    this.skip = 2 ** this.streak - 1;
  }
}

/**
 * Whether a PostgreSQL source column's COPY text means the same value to the target column: same base type,
 * both arrays or neither, and for enums the same labels. Length / precision limits may differ: the target
 * applies them to raw text exactly as to ferry's encoded text (same rounding, same errors). MySQL columns
 * carry no `udtName` and never match (they never come as COPY text anyway).
 */
export function sameCopyText(src: ColumnMeta, dst: PgColumn): boolean {
  if (src.udtName === undefined || src.udtName !== dst.baseType) return false;
  if ((src.family === 'array') !== dst.isArray) return false;
  if (src.family === 'enum' || dst.family === 'enum') return JSON.stringify(src.members ?? []) === JSON.stringify(dst.members ?? []);
  return true;
}

/**
 * Whether source pages can travel as binary COPY into this table: every written column has the same built-in
 * type of `BINARY_EXACT` on both sides ({@link sameCopyBinary}: no arrays, enums, extension or user types), and
 * every key column is one whose binary form ferry reads back into the resume key (`binaryKeyTypes`).
 */
export function binaryExact(target: WriteTarget, targetCols: PgColumn[]): boolean {
  return target.columns.every((c, i) => sameCopyBinary(c, targetCols[i])) && binaryKeyTypes(target.columns, target.keyColumns) !== null;
}

/** Clients that already have a given staging table (TEMP tables live as long as the session). */
const stagedOn = new WeakMap<PoolClient, Set<string>>();

const DEADLOCK_ATTEMPTS = 4;
/** Row counts per writer whose INSERT is prepared (named); see insertRows. */
const MAX_NAMED_SHAPES = 8;

/**
 * Writes rows into one PostgreSQL table.
 * Invariants: every `write` is one transaction (all rows or none); upsert by key makes it idempotent, also
 * against concurrent duplicates (ON CONFLICT, rows applied in key order so overlapping writers cannot
 * deadlock; NULL-key rows and arbiter-less targets serialise on a per-table advisory lock); a data error is
 * pinned to its row by bisecting inside a rolled-back transaction and raised as IN001 naming table, column
 * and key.
 */
export class PgTableWriter implements TableWriter {
  private readonly sql: WriteSql;
  private readonly enc: RowEncoder;
  private readonly insertText = new Map<string, { text: string; name?: string }>();
  private readonly ctx: string;
  private readonly copyFirst = new CopyFirst();
  /**
   * `auto` mode, keyed table with an arbiter: `pg-copy-binary` first when every column has the same built-in
   * type on both sides and the key can be read from binary (see {@link binaryExact}), then `pg-copy-data` when
   * every column's COPY text means the same value ({@link sameCopyText}); empty otherwise.
   */
  readonly rawFormats: readonly string[];
  private readonly binary?: BinaryPageWriter;

  constructor(
    private readonly pool: PgPool,
    private readonly target: WriteTarget,
    targetCols: PgColumn[],
    private readonly o: WriterOptions,
  ) {
    this.ctx = `target ${tableId(target.table)}`;
    this.enc = new RowEncoder(target, targetCols);
    this.sql = new WriteSql(target.table, o.oid, this.enc.names, target.keyColumns, o);
    const formats: string[] = [];
    if (o.mode === 'auto' && o.hasArbiter && target.keyColumns.length) {
      if (binaryExact(target, targetCols)) {
        formats.push(PG_COPY_BINARY);
        this.binary = new BinaryPageWriter({
          pool,
          sql: this.sql,
          table: target.table,
          ctx: this.ctx,
          columns: target.columns,
          keyColumns: target.keyColumns,
          gate: this.copyFirst,
          logger: o.logger,
          describe: (key) => this.enc.describe({ row: key, ord: 0 }),
          ensureStaging: (s) => this.ensureStaging(s),
          deadlockAttempts: DEADLOCK_ATTEMPTS,
        });
      }
      if (target.columns.every((c, i) => sameCopyText(c, targetCols[i]))) formats.push(PG_COPY_DATA);
    }
    this.rawFormats = formats;
  }

  /**
   * A source page straight into the table (`auto` mode's fast path without decoding or encoding a value).
   * Binary pages: see {@link BinaryPageWriter}. COPY text pages: anything COPY cannot settle alone -- an
   * existing key, a value the target rejects, a deadlock -- rolls the COPY back and the decoded rows take
   * `write`, which upserts and pins a bad value to its row.
   */
  async writeRaw(raw: RawRows, rows: () => Row[], signal: AbortSignal): Promise<void> {
    if (!this.rawFormats.includes(raw.format)) throw new FerryError('RT002', `${this.ctx}: cannot take raw format ${raw.format}`);
    if (raw.format === PG_COPY_BINARY) return this.binary!.write(raw, signal);
    if (!raw.count) return;
    if (this.copyFirst.shouldTry()) {
      try {
        // One COPY statement is atomic on its own: no BEGIN / COMMIT round trips.
        await this.pool.withClient(signal, (client) => copyRaw({ client, target: this.pool.target, signal, ctx: this.ctx }, this.sql.copyTarget, raw.chunks));
        this.copyFirst.succeeded();
        return;
      } catch (e) {
        if (isUniqueViolation(e)) this.copyFirst.conflicted();
        else if (!(isDataError(e) || isTransientConflict(e))) throw e;
        this.o.logger.debug('raw COPY batch takes the row path', { table: tableId(this.target.table), rows: raw.count, sqlstate: sqlstateOf(e) });
      }
    }
    await this.write(rows(), signal);
  }

  async write(rows: Row[], signal: AbortSignal): Promise<void> {
    if (!rows.length) return;
    if (!this.target.keyColumns.length) {
      throw new FerryError('RT002', `${this.ctx}: keyless table rows are written with replaceAll, not write`, {
        details: { table: tableId(this.target.table) },
      });
    }
    const { keyed, nullKey } = this.enc.split(this.enc.encode(rows));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.pool.withClient(signal, (client) => this.writeOnce({ client, target: this.pool.target, signal, ctx: this.ctx }, keyed, nullKey));
        return;
      } catch (e) {
        // Deadlock / serialization failure: the batch rolled back whole, so running it again is safe. Other
        // retryable errors (timeouts, connection loss) go back to the runner, which backs off for longer.
        if (!isTransientConflict(e) || attempt >= DEADLOCK_ATTEMPTS || signal.aborted) throw e;
        this.o.logger.debug('retrying batch after a transient failure', { table: tableId(this.target.table), attempt, error: e });
        await sleep(25 * 2 ** attempt * (0.5 + Math.random()), signal);
      }
    }
  }

  /**
   * `auto` mode's fast path: the batch COPYed into the table in its own transaction. False (nothing written)
   * when a row's key already exists there, so the caller upserts instead; data errors fall through too (the
   * upsert path pins them to their row).
   */
  private async tryCopyDirect(s: Session, keyed: EncodedRow[], nullKey: EncodedRow[]): Promise<boolean> {
    if (this.o.mode !== 'auto' || !this.o.hasArbiter || nullKey.length || !keyed.length || !this.copyFirst.shouldTry()) return false;
    try {
      await inTransaction(s, () => copyIn(s, this.sql.copyTarget, keyed.map((r) => r.fields)));
      this.copyFirst.succeeded();
      return true;
    } catch (e) {
      if (isUniqueViolation(e)) {
        this.copyFirst.conflicted();
        return false;
      }
      if (isDataError(e)) return false;
      throw e;
    }
  }

  private usesStaging(nullKey: EncodedRow[]): boolean {
    return this.o.mode === 'copy' || nullKey.length > 0 || !this.o.hasArbiter;
  }

  private async writeOnce(s: Session, keyed: EncodedRow[], nullKey: EncodedRow[]): Promise<void> {
    if (await this.tryCopyDirect(s, keyed, nullKey)) return;
    // Key order fixes the row-lock order of multi-row INSERTs, so overlapping writers cannot deadlock (the
    // staging path orders in SQL; a COPY into the table does not need it). On a retry the batch is already in order.
    if (this.o.mode !== 'copy') keyed.sort((a, b) => (this.enc.keyText(a) < this.enc.keyText(b) ? -1 : 1));
    if (this.usesStaging(nullKey)) await this.ensureStaging(s);
    try {
      await inTransaction(s, () => this.apply(s, keyed, nullKey, false));
    } catch (e) {
      if (!isDataError(e)) throw e;
      await this.ensureStaging(s); // the probe for the failing column copies into staging
      throw await locateBadRow(s, [...keyed, ...nullKey], e, {
        table: this.target.table,
        columns: this.enc.names,
        describe: (r) => this.enc.describe(r),
        attempt: (rows) => this.apply(s, rows.filter((r) => !r.nullKey), rows.filter((r) => r.nullKey), true),
        probe: (row) => copyIn(s, this.sql.copyStaging, [row.fields]),
      });
    }
  }

  /** The statements of one batch, inside the caller's transaction. */
  private async apply(s: Session, keyed: EncodedRow[], nullKey: EncodedRow[], clear: boolean): Promise<void> {
    const staged = this.o.mode === 'copy' || !this.o.hasArbiter ? [...keyed, ...nullKey] : nullKey;
    if (clear && this.usesStaging(nullKey)) await exec(s, this.sql.clearStaging);
    if (staged.length) {
      if (this.o.mode === 'copy') await copyIn(s, this.sql.copyStaging, staged.map((r) => r.fields));
      else await this.insertRows(s, staged, 'staging');
    }
    if (this.o.hasArbiter && keyed.length) {
      if (this.o.mode === 'copy') await exec(s, this.sql.upsertFromStaging);
      else await this.insertRows(s, keyed, 'target');
    }
    if (nullKey.length || !this.o.hasArbiter) {
      await exec(s, this.sql.lock);
      if (!this.o.hasArbiter) await exec(s, this.sql.deleteByKey);
      if (nullKey.length) await exec(s, this.sql.deleteNullKeyCopies);
      await exec(s, this.o.hasArbiter ? this.sql.insertNullKeyFromStaging : this.sql.insertAllFromStaging);
    }
  }

  /**
   * Multi-row INSERTs under the parameter limit. The first few row counts seen become named (prepared once
   * per connection); later odd sizes run unnamed, so CDC's varying batch sizes cannot pile up server-side
   * prepared statements.
   */
  private async insertRows(s: Session, rows: EncodedRow[], into: 'target' | 'staging' | 'plain'): Promise<void> {
    const per = this.sql.rowsPerInsert(this.o.insertRows);
    for (let i = 0; i < rows.length; i += per) {
      const part = rows.slice(i, i + per);
      const k = `${into}:${part.length}`;
      let stmt = this.insertText.get(k);
      if (!stmt) {
        const text = this.sql.insertValues(part.length, into);
        stmt = { text, name: this.insertText.size < MAX_NAMED_SHAPES ? hashName('ferry_w_', text) : undefined };
        if (stmt.name || this.insertText.size < MAX_NAMED_SHAPES) this.insertText.set(k, stmt);
      }
      const values: Array<string | null> = [];
      for (const r of part) for (const f of r.fields) values.push(f);
      await exec(s, stmt.text, values, stmt.name);
    }
  }

  private async ensureStaging(s: Session): Promise<void> {
    let set = stagedOn.get(s.client);
    if (set?.has(this.sql.staging)) return;
    await exec(s, this.sql.createStaging);
    if (!set) stagedOn.set(s.client, (set = new Set()));
    set.add(this.sql.staging);
  }

  /**
   * Keyless tables: the whole content replaced in one transaction. The SHARE ROW EXCLUSIVE lock makes a second
   * concurrent replaceAll wait and then delete what the first inserted (a plain DELETE would miss rows
   * committed after its snapshot), so duplicate runs converge; readers are never blocked. Not TRUNCATE:
   * it is not MVCC-safe for concurrent readers.
   */
  async replaceAll(batches: AsyncIterable<Row[]>, signal: AbortSignal): Promise<number> {
    return this.pool.withClient(signal, (client) => {
      const s: Session = { client, target: this.pool.target, signal, ctx: this.ctx };
      return inTransaction(s, async () => {
        await exec(s, `LOCK TABLE ${this.sql.target} IN SHARE ROW EXCLUSIVE MODE`);
        await exec(s, `DELETE FROM ${this.sql.target}`);
        let n = 0;
        for await (const batch of batches) {
          throwIfAborted(signal);
          const rows = this.enc.encode(batch, n);
          const append = (part: EncodedRow[]) =>
            this.o.mode !== 'insert' ? copyIn(s, this.sql.copyTarget, part.map((r) => r.fields)) : this.insertRows(s, part, 'plain');
          try {
            await inSavepoint(s, () => append(rows));
          } catch (e) {
            if (!isDataError(e)) throw e;
            throw await locateBadRow(s, rows, e, {
              table: this.target.table,
              columns: this.enc.names,
              describe: (r) => this.enc.describe(r),
              attempt: append,
              probe: (row) => copyIn(s, this.sql.copyTarget, [row.fields]),
              nested: true,
            });
          }
          n += batch.length;
        }
        return n;
      });
    });
  }

  async close(): Promise<void> {
    // Connections belong to the sinker's pool; staging tables go with their sessions.
  }
}
