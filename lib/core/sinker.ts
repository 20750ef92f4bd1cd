import { FerryError } from './errors.ts';
import type { Row } from './values.ts';
import type { RawRows } from './source.ts';
import type { ColumnMeta, TableRef } from './table.ts';

/** What a sinker can do beyond idempotent row writes; checked when the task is planned. */
export interface SinkerCapabilities {
  /** Can replace a keyless table's whole content atomically (delete + insert in one transaction). */
  replaceAll: boolean;
  /** Can apply DDL events (CDC). */
  ddl: boolean;
}

/** The target table a writer is opened for, with source column metadata renamed to target names. */
export interface WriteTarget {
  table: TableRef;
  /** Columns that will be written, in the order rows carry them; `family` is the source's. */
  columns: ColumnMeta[];
  /** Target names of the key columns; empty for keyless tables. */
  keyColumns: string[];
  /** Source table id, for error messages. */
  source: TableRef;
}

/**
 * Writes rows into one target table.
 * Invariant (idempotency): writing the same rows any number of times, in any interleaving with itself,
 * leaves the target identical to writing them once (upsert by key). A batch is atomic: after `write`
 * resolves every row is durable; when it rejects none of that batch's rows need to be assumed written.
 * A row that cannot be stored raises FerryError IN001 naming the table and the row's key.
 */
export interface TableWriter {
  write(rows: Row[], signal: AbortSignal): Promise<void>;
  /**
   * The raw formats (see `RawRows`) this writer takes as they are for this table, most preferred first: only
   * formats whose bytes mean exactly the values `write` would store (same engine, source column types that make
   * it exact); empty or undefined when none. Invariant: `writeRaw` takes every format listed here.
   */
  readonly rawFormats?: readonly string[];
  /**
   * Rows this writer wants per write when that is more than a source page (ClickHouse: one INSERT is one part):
   * the chunk runner then streams consecutive raw pages into one `openRawStream` write, or merges consecutive pages
   * (up to its byte share) into one batch, up to this many rows, and saves progress only after that write is
   * acknowledged. Undefined: one page per call.
   */
  readonly batchRows?: number;
  /**
   * Writes a raw batch (its format one of `rawFormats`) with `write`'s invariants (atomic, idempotent, IN001
   * naming the table, column and key of a bad row). `rows` decodes the batch for a writer that takes the row
   * path (an existing key, a value the target rejects); for a format that cannot be decoded it throws RT002,
   * so the writer must settle those batches from the raw bytes alone.
   */
  writeRaw?(raw: RawRows, rows: () => Row[], signal: AbortSignal): Promise<void>;
  /**
   * Opens one write that takes raw pages of `format` (one of `rawFormats`) while they are still being read
   * (ClickHouse: one INSERT whose body is sent page by page). The chunk runner pushes up to `batchRows` rows of
   * consecutive pages into it, then ends it and saves progress; reading and writing overlap and ferry does not
   * hold the batch. Optional: without it the runner merges pages and calls `writeRaw`.
   */
  openRawStream?(format: string, signal: AbortSignal): RawWriteStream;
  /**
   * Keyless tables: replace the table's whole content with `batches` in one target transaction (delete all,
   * then insert), so a retry or a concurrent duplicate run converges. Only when capabilities.replaceAll.
   */
  replaceAll?(batches: AsyncIterable<Row[]>, signal: AbortSignal): Promise<number>;
  close(): Promise<void>;
}

/**
 * One streamed raw write (`TableWriter.openRawStream`).
 * Invariant: when `end` resolves, every page pushed is durable in the target, as if written by one `writeRaw`;
 * until then, and after `abort` or a rejection, nothing pushed may be assumed written (the target may hold some
 * whole pages of it, which the writer's idempotency makes harmless on the rerun).
 */
export interface RawWriteStream {
  /**
   * Sends one page. Resolves once the transport took it (waits while it is busy: memory stays bounded), or
   * `false` when this page cannot be sent raw (e.g. a date outside the target type's range): nothing of it was
   * sent, and the caller ends the stream and writes the page with `writeRaw`, which names the bad row.
   * Rejects when the write failed; the stream is then over.
   */
  push(raw: RawRows): Promise<boolean>;
  /** Ends the write and resolves when the target acknowledged it (see the invariant). */
  end(): Promise<void>;
  /** Abandons the write: the target is asked to drop it (see the invariant). */
  abort(): void;
}

/** A connection to a target database that opens table writers. */
export interface Sinker {
  readonly capabilities: SinkerCapabilities;
  /** Checks the target table exists (MD001 naming it otherwise) and has every column (MD001 naming it). */
  openTable(target: WriteTarget, signal: AbortSignal): Promise<TableWriter>;
  /** CDC apply (see ChangeApplier); absent when the sinker cannot apply changes. */
  openApplier?(signal: AbortSignal): Promise<ChangeApplier>;
  close(): Promise<void>;
}

/**
 * A row change routed to its target: target table and column names, canonical values.
 * - insert: `after` is the full row.
 * - update: `beforeKey` holds the key before the change (target key column names); `after` the new row.
 *   Columns absent from `after` (PostgreSQL unchanged TOAST values) stay as they are in the target.
 *   When the key changed, the old row is deleted and the new one written.
 * - delete: `beforeKey` identifies the row.
 */
export interface TargetChange {
  op: 'insert' | 'update' | 'delete';
  target: WriteTarget;
  beforeKey: Row | null;
  after: Row | null;
}

/** Checks a change carries what its op needs (`beforeKey` unless insert, `after` unless delete); RT002 otherwise. */
export function checkChangeShape(c: TargetChange, table: string): void {
  if (c.op !== 'insert' && !c.beforeKey) throw new FerryError('RT002', `${c.op} on ${table} without beforeKey`);
  if (c.op !== 'delete' && !c.after) throw new FerryError('RT002', `${c.op} on ${table} without after`);
}

/**
 * CDC apply: an optional sinker capability (`Sinker.openApplier`), declared, never a silent no-op.
 * Invariant: `apply` has the effect of applying `changes` one by one in the given order, inside ONE target
 * transaction that is committed when it resolves (and rolled back when it rejects); applying the same
 * changes again leaves the target unchanged (inserts are upserts, deletes of absent rows are no-ops), so a
 * transaction replayed after a crash is harmless. Implementations batch consecutive changes of one table
 * into multi-row statements where that keeps the result identical.
 */
export interface ChangeApplier {
  apply(changes: TargetChange[], signal: AbortSignal): Promise<void>;
  /**
   * Runs a DDL statement (already in the target's dialect) outside any open transaction, with `db` (MySQL
   * database / PostgreSQL schema) as the default for unqualified names.
   */
  applyDdl?(ddl: { db: string; sql: string }, signal: AbortSignal): Promise<void>;
  truncate?(table: TableRef, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * Per-target memo for appliers: what they derive from a WriteTarget (target column types, statements) is loaded
 * once per target table and reloaded when the router hands a different WriteTarget for it (new shape after DDL).
 * A failed load is forgotten so the next change retries it. `clear()` after DDL.
 */
export class TargetCache<T> {
  private readonly entries = new Map<string, { target: WriteTarget; value: Promise<T> }>();

  get(target: WriteTarget, load: (target: WriteTarget) => Promise<T>): Promise<T> {
    const id = `${target.table.db}\u0000${target.table.tb}`;
    const hit = this.entries.get(id);
    if (hit && hit.target === target) return hit.value;
    const value = load(target);
    this.entries.set(id, { target, value });
    value.catch(() => this.entries.delete(id));
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
