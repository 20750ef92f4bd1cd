import type { Row, KeyTuple } from './values.ts';
import type { TableMeta, TableRef } from './table.ts';

/**
 * One unit of snapshot work: a key range of one table.
 * - `range`: rows with lower < key <= upper (lexicographic over key columns); a null bound is open.
 * - `null-key`: rows whose (unique, nullable) key has a NULL in any column.
 * - `whole`: the entire table (keyless tables, or tables too small to split); filtered by `where` only.
 * Invariant: the chunks of one table are disjoint and together cover every row that passes the filter.
 */
export interface ChunkSpec {
  id: string;
  table: TableRef;
  kind: 'range' | 'null-key' | 'whole';
  lower: KeyTuple | null;
  upper: KeyTuple | null;
  estimatedRows: number;
}

/** What a snapshot read needs besides the chunk. */
export interface ReadOptions {
  /** Source column names to select (ignore_cols already removed). Key columns are always included. */
  columns: string[];
  /** Extra source-SQL predicate from `filter.where_conditions`, ANDed in. */
  where?: string;
  /** Rows per page (keyset pagination); each page is one batch. */
  batchSize: number;
  /** Resume point: continue after this key (exclusive) instead of the chunk's lower bound. */
  after?: KeyTuple | null;
  /**
   * The raw formats the writer takes as they are (`TableWriter.rawFormats`), most preferred first. A source may
   * attach keyed pages in the first of them it can produce for this read ({@link RawRows}); one that can produce
   * none sends rows. Invariant: a batch's `raw.format` is always one of these.
   */
  raw?: readonly string[];
  signal: AbortSignal;
}

/**
 * A page's rows in a wire form a writer can take without decoding them, e.g. PostgreSQL COPY text
 * (`pg-copy-data`: one line per row, the read columns in order) or binary COPY (`pg-copy-binary`).
 * Invariant: `chunks` hold exactly `count` whole rows (plus whatever framing the format has), the same rows
 * `RowBatch.rows` decodes to when the format can be decoded.
 */
export interface RawRows {
  format: string;
  chunks: Buffer[];
  count: number;
  /**
   * Per read column, in order: the page's smallest and largest value as text, for the columns the format reports
   * (see the format's contract), null for the others. A writer checks a target type's range with it without
   * reading the page.
   */
  bounds?: ReadonlyArray<readonly [string, string] | null>;
}

/**
 * A page of rows. `lastKey` is the key of the last row (null for keyless reads): the resume point.
 * With `raw`, `rows` is decoded from it on first access only (a writer that takes `raw` never pays for it);
 * count rows with {@link batchRows}. A raw format that cannot be decoded (binary COPY) makes `rows` throw
 * FerryError RT002: such a batch must go to the `writeRaw` of a writer that listed its format.
 */
export interface RowBatch {
  rows: Row[];
  lastKey: KeyTuple | null;
  bytes: number;
  raw?: RawRows;
}

/** Rows in a batch, without decoding a raw one. */
export const batchRows = (b: RowBatch): number => (b.raw ? b.raw.count : b.rows.length);

/**
 * Reads table metadata and the key statistics the planner needs.
 * Invariant: read-only; never changes the source.
 */
export interface MetadataAccessor {
  listDatabases(signal: AbortSignal): Promise<string[]>;
  listTables(db: string, signal: AbortSignal): Promise<string[]>;
  /** Throws FerryError MD001 when the table does not exist. */
  getTableMeta(t: TableRef, signal: AbortSignal): Promise<TableMeta>;
  /** min and max key (only rows with a non-null key); null when the table has no such row. */
  keyMinMax(meta: TableMeta, where: string | undefined, signal: AbortSignal): Promise<{ min: KeyTuple; max: KeyTuple } | null>;
  /**
   * The key of the row `offset` rows after `after` (exclusive) in key order, counting 1-based; null when
   * fewer rows remain. Used to cut exact chunk boundaries with one index range scan per chunk.
   */
  keyAtOffset(meta: TableMeta, after: KeyTuple | null, offset: number, where: string | undefined, signal: AbortSignal): Promise<KeyTuple | null>;
  /** Whether any row has a NULL in a key column (nullable unique keys only). */
  hasNullKeys(meta: TableMeta, signal: AbortSignal): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Reads the rows of one chunk as an async iterable of batches, one keyset page at a time, so backpressure
 * comes from the consumer pulling. Invariant: rows come in ascending key order; every batch's `lastKey` is a
 * valid `after` for resuming; no long-lived cursor is held between batches.
 */
export interface SnapshotSource {
  readChunk(meta: TableMeta, chunk: ChunkSpec, opts: ReadOptions): AsyncIterable<RowBatch>;
  close(): Promise<void>;
}
