import type { Row } from './values.ts';
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
   * Keyless tables: replace the table's whole content with `batches` in one target transaction (delete all,
   * then insert), so a retry or a concurrent duplicate run converges. Only when capabilities.replaceAll.
   */
  replaceAll?(batches: AsyncIterable<Row[]>, signal: AbortSignal): Promise<number>;
  close(): Promise<void>;
}

/** A connection to a target database that opens table writers. */
export interface Sinker {
  readonly capabilities: SinkerCapabilities;
  /** Checks the target table exists (MD001 naming it otherwise) and has every column (MD001 naming it). */
  openTable(target: WriteTarget, signal: AbortSignal): Promise<TableWriter>;
  close(): Promise<void>;
}
