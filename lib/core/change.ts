import type { Row } from './values.ts';
import type { TableRef } from './table.ts';

/**
 * A source position, owned by its connector (binlog file+pos / GTID set, LSN, resume token, repl offset).
 * Invariant: `order` strings compare (plain `<` on strings) in stream order for positions of one source, so
 * the core can compare positions without knowing the connector; `data` holds what the connector needs to
 * resume, and is JSON-serialisable.
 */
export interface Position {
  kind: string;
  order: string;
  data: Record<string, unknown>;
}

export const positionBefore = (a: Position, b: Position): boolean => a.order < b.order;

interface Stamped {
  position: Position;
  /** Source commit time of the transaction (epoch ms), when the source knows it. */
  sourceTs?: number;
}

/**
 * An insert, update or delete of one row. `before` is the old row (key columns at least; the full row with
 * MySQL binlog_row_image=FULL / PostgreSQL REPLICA IDENTITY FULL), `after` the new one.
 * Invariant: a column absent from `after` (PostgreSQL unchanged TOAST value) is unchanged in the target;
 * it is never written as NULL. Values are canonical (lib/core/values.ts).
 */
export interface RowChange extends Stamped {
  kind: 'row';
  op: 'insert' | 'update' | 'delete';
  table: TableRef;
  before: Row | null;
  after: Row | null;
  bytes: number;
}

/** A DDL statement as the source ran it, in the source's SQL dialect. */
export interface DdlChange extends Stamped {
  kind: 'ddl';
  db: string;
  table?: TableRef;
  sql: string;
}

export interface TruncateChange extends Stamped {
  kind: 'truncate';
  tables: TableRef[];
}

/** End of a source transaction: the only position CDC may commit (checkpoint and acknowledge) at. */
export interface CommitMark extends Stamped {
  kind: 'commit';
  txId?: string;
}

/** Keeps an idle source moving: a safe position with no pending changes (replication keepalive). */
export interface Heartbeat extends Stamped {
  kind: 'heartbeat';
}

export type ChangeEvent = RowChange | DdlChange | TruncateChange | CommitMark | Heartbeat;

/**
 * A change stream. Events come in source commit order, each transaction's changes followed by its
 * CommitMark. Batches are pulled, so a pushing driver is paused while the consumer is behind.
 * Invariant: streaming from a position P delivers every change of every transaction that committed after
 * P (duplicates of transactions at or before P are allowed: apply is idempotent).
 */
export interface CdcSource {
  stream(from: Position, signal: AbortSignal): AsyncIterable<ChangeEvent[]>;
  /**
   * Everything up to `position` (a CommitMark or Heartbeat position) is durable in the target; the source
   * may release it (PostgreSQL: confirm the flush LSN so the slot advances). Never called ahead of the target.
   */
  ack(position: Position, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Capturing where CDC starts: called before the snapshot plans, for a lossless handover. */
export interface CdcStartCapture {
  /** MySQL: the current binlog file/pos (+ GTID set); PostgreSQL: creates the slot, returns its consistent point. */
  currentPosition(signal: AbortSignal): Promise<Position>;
}

/**
 * Bounds every CDC source applies to its stream: batches handed to the runner, and the receive queue a pushing
 * driver fills (above it the connection is paused). Invariant: a source never holds more than `queueItems`
 * events and (one event beyond) `queueBytes` bytes that the runner has not taken.
 */
export interface CdcStreamBounds {
  /** Events per yielded batch (extractor.batch_size). */
  batchEvents: number;
  queueItems: number;
  queueBytes: number;
}

export const DEFAULT_CDC_QUEUE_ITEMS = 10_000;
export const DEFAULT_CDC_QUEUE_BYTES = 32 * 1024 * 1024;
