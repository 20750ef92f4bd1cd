/**
 * SnapshotSource for MySQL/MariaDB.
 *
 * - `range` (and `whole` on a table with a NOT NULL key): keyset pagination, one short query per page:
 *   `SELECT cols FROM t WHERE key > after AND key <= upper [AND (where)] ORDER BY key LIMIT batchSize`.
 *   No cursor or connection is held between pages; `lastKey` of every batch resumes exactly after it.
 * - `null-key`: rows of a nullable unique key with a NULL in it. `key > x` never matches them, so they are
 *   streamed by one query ordered by every selected column (strings by their bytes), and a batch never
 *   ends inside a run of identical rows: such rows have no identity, and the sinker replaces exact copies
 *   within one batch, which is idempotent only when all copies travel together. `lastKey` is null (a
 *   resumed null-key chunk starts over). Limit: values equal in their first max_sort_length bytes (1024)
 *   may sort apart, so copies of long TEXT/BLOB rows are not guaranteed adjacent.
 * - `whole` on a keyless table (or one whose key has NULLs): one streaming query over the whole table,
 *   cut into batches of batchSize; the driver pauses the socket while the consumer is not pulling.
 *   `lastKey` is null (nothing to resume from: the chunk restarts, and keyless targets are rewritten with
 *   replaceAll anyway).
 * The signal is checked between pages; on abort a running query's connection is destroyed.
 */
import type { Connection as CoreConnection } from 'mysql2';
import { FerryError } from '../../core/errors.ts';
import { abortError, throwIfAborted } from '../../core/signal.ts';
import { batchRows, type ChunkSpec, type ReadOptions, type RowBatch, type SnapshotSource } from '../../core/source.ts';
import { MYSQL_TEXT_TSV } from '../../core/tsv.ts';
import { column, tableId, type ColumnMeta, type TableMeta } from '../../core/table.ts';
import { rowBytes, type KeyTuple, type Row } from '../../core/values.ts';
import { destroy, raceAbort, release, type MysqlClient } from './client.ts';
import { classify } from './errors.ts';
import { keyColumnsOf, keysetSelect, nullKeyCond, rangeConds, selectList, whereClause } from './keyset.ts';
import { quoteIdent, quoteTable } from './sql.ts';
import { decodedRows, rowArrays } from './row-stream.ts';
import { rowDecoder } from './type-map.ts';
import { tsvPage, tsvReadable, tsvRows, tsvValue, type TsvPage } from './tsv-page.ts';

export class MysqlSnapshotSource implements SnapshotSource {
  constructor(
    private readonly client: MysqlClient,
    private readonly onClose: () => Promise<void> = () => client.end(),
  ) {}

  async *readChunk(meta: TableMeta, chunk: ChunkSpec, opts: ReadOptions): AsyncIterable<RowBatch> {
    const cols = selectedColumns(meta, opts.columns);
    const batchSize = Math.max(1, Math.floor(opts.batchSize));
    if (chunk.kind === 'null-key') {
      if (!meta.keyNullable) return;
      yield* this.readNullKey(meta, cols, opts, batchSize);
    } else if (meta.keyKind === 'none' || (chunk.kind === 'whole' && meta.keyNullable)) {
      if (chunk.kind === 'range') throw new FerryError('RT002', `source ${tableId(meta)}: a range chunk needs a key`);
      const sql = `SELECT ${selectList(cols.cols)} FROM ${quoteTable(meta)}${whereClause([], opts.where)}`;
      yield* this.stream(meta, sql, cols, opts, batchSize, false);
    } else {
      const lower = opts.after ?? (chunk.kind === 'range' ? chunk.lower : null);
      const upper = chunk.kind === 'range' ? chunk.upper : null;
      yield* this.readKeyset(meta, cols, lower, upper, opts, batchSize);
    }
  }

  private async *readKeyset(meta: TableMeta, sel: Selected, lower: KeyTuple | null, upper: KeyTuple | null, opts: ReadOptions, batchSize: number) {
    const kc = keyColumnsOf(meta);
    const tsv = opts.raw?.includes(MYSQL_TEXT_TSV) && !sel.projects && tsvReadable(sel.cols);
    const keyAt = kc.map((k) => sel.cols.findIndex((c) => c.name === k.name));
    let after = lower;
    for (;;) {
      throwIfAborted(opts.signal);
      const sql = keysetSelect(meta, sel.cols, rangeConds(meta, after, upper), opts.where, batchSize);
      let batch: RowBatch;
      if (tsv) {
        const page = await this.query(meta, opts.signal, (core) => tsvPage(core, sql, sel.cols));
        if (!page.count) return;
        after = keyAt.map((i) => tsvValue(sel.cols[i], page.last![i] ?? null));
        batch = tsvBatch(sel.cols, page, after);
      } else {
        const full = await this.query(meta, opts.signal, (core) => decodedRows(core, sql, sel.decode));
        if (!full.length) return;
        const last = full[full.length - 1];
        after = kc.map((c) => last[c.name]);
        batch = batchOf(sel.projects ? full.map(sel.project) : full, after);
      }
      yield batch;
      if (batchRows(batch) < batchSize) return;
    }
  }

  /** One query on a pooled connection; on abort the connection is destroyed (RT001). */
  private async query<T>(meta: TableMeta, signal: AbortSignal, run: (core: CoreConnection) => Promise<T>): Promise<T> {
    const conn = await this.client.connection(signal);
    try {
      // The promise wrapper's typings call this a promise Connection; at runtime it is the callback one.
      const core = conn.connection as unknown as CoreConnection;
      return await raceAbort(run(core), signal, undefined, () => destroy(conn));
    } catch (e) {
      if (signal.aborted) throw abortError(signal);
      throw classify(e, `source ${tableId(meta)}`);
    } finally {
      release(conn);
    }
  }

  private async *readNullKey(meta: TableMeta, sel: Selected, opts: ReadOptions, batchSize: number) {
    // Bytes order for strings: identical rows must be adjacent, and a case-insensitive collation would
    // interleave 'a', 'A', 'a'.
    const order = sel.cols.map((c) => (BYTE_ORDERED.has(c.family) ? `CAST(${quoteIdent(c.name)} AS BINARY)` : quoteIdent(c.name))).join(', ');
    const sql = `SELECT ${selectList(sel.cols)} FROM ${quoteTable(meta)}${whereClause([nullKeyCond(meta)], opts.where)} ORDER BY ${order}`;
    yield* this.stream(meta, sql, sel, opts, batchSize, true);
  }

  /**
   * One streaming query cut into batches; with `groupCopies`, a batch is extended past batchSize until the
   * next row differs from its last one.
   */
  private async *stream(meta: TableMeta, sql: string, sel: Selected, opts: ReadOptions, batchSize: number, groupCopies: boolean) {
    const { signal } = opts;
    const conn = await this.client.connection(signal);
    const onAbort = () => destroy(conn);
    signal.addEventListener('abort', onAbort, { once: true });
    let finished = false;
    let pending: Row[] = [];
    const cutAt = (ended: boolean): number => {
      let cut = Math.min(batchSize, pending.length);
      if (groupCopies) while (cut < pending.length && sameRow(pending[cut], pending[cut - 1])) cut++;
      return cut < pending.length || ended ? cut : -1;
    };
    const take = (cut: number): RowBatch => {
      const b = batchOf(pending.slice(0, cut).map(sel.project), null);
      pending = pending.slice(cut);
      return b;
    };
    try {
      // The promise wrapper's typings call this a promise Connection; at runtime it is the callback one.
      const core = conn.connection as unknown as CoreConnection;
      for await (const got of rowArrays(core, sql, sel.decode, batchSize * 2, signal)) {
        pending = pending.length ? pending.concat(got) : got;
        for (let cut; pending.length > batchSize && (cut = cutAt(false)) > 0; ) yield take(cut);
      }
      if (signal.aborted) throw abortError(signal);
      while (pending.length) yield take(cutAt(true));
      finished = true;
    } catch (e) {
      if (signal.aborted) throw abortError(signal);
      throw classify(e, `source ${tableId(meta)}`);
    } finally {
      signal.removeEventListener('abort', onAbort);
      // A result set not read to its end cannot go back to the pool: drop the connection instead.
      if (finished) release(conn);
      else destroy(conn);
    }
  }

  async close(): Promise<void> {
    await this.onClose();
  }
}

interface Selected {
  /** Columns selected: the requested ones plus any key column not requested. */
  cols: ColumnMeta[];
  decode: (arr: unknown[]) => Row;
  /** Drops the key columns that were selected only to compute lastKey. */
  project: (row: Row) => Row;
  /** False when `project` is the identity (no extra key column selected). */
  projects: boolean;
}

function selectedColumns(meta: TableMeta, names: string[]): Selected {
  const cols = names.map((n) => {
    const c = column(meta, n);
    if (!c) throw new FerryError('MD001', `source column ${tableId(meta)}.${n} does not exist`, { details: { table: tableId(meta), column: n } });
    return c;
  });
  const extra = meta.keyColumns.filter((k) => !names.includes(k));
  const all = [...cols, ...extra.map((k) => column(meta, k)!)];
  const project = extra.length
    ? (row: Row) => {
        const out: Row = {};
        for (const n of names) out[n] = row[n];
        return out;
      }
    : (row: Row) => row;
  return { cols: all, decode: rowDecoder(all), project, projects: extra.length > 0 };
}

/** Families whose ORDER BY must use bytes so that identical values sort next to each other. */
const BYTE_ORDERED = new Set(['string', 'enum', 'set', 'json', 'other', 'uuid', 'inet']);

/** Exact equality of two decoded rows (for keeping NULL-key copies in one batch; never for ordering). */
function sameRow(a: Row, b: Row): boolean {
  for (const k in a) {
    const x = a[k];
    const y = b[k];
    if (Buffer.isBuffer(x) && Buffer.isBuffer(y) ? !x.equals(y) : x !== y) return false;
  }
  return true;
}

/**
 * A `mysql-text-tsv` page as a batch: raw when its dates are all real calendar dates (the format's promise),
 * decoded otherwise; `rows` is decoded from the lines on first access only.
 */
function tsvBatch(cols: ColumnMeta[], page: TsvPage, lastKey: KeyTuple): RowBatch {
  if (!page.calendar) return { rows: tsvRows(cols, page.chunks), lastKey, bytes: page.bytes };
  let rows: Row[] | undefined;
  return {
    get rows(): Row[] {
      return (rows ??= tsvRows(cols, page.chunks));
    },
    lastKey,
    bytes: page.bytes,
    raw: { format: MYSQL_TEXT_TSV, chunks: page.chunks, count: page.count, bounds: page.bounds },
  };
}

function batchOf(rows: Row[], lastKey: KeyTuple | null): RowBatch {
  let bytes = 0;
  for (const r of rows) bytes += rowBytes(r);
  return { rows, lastKey, bytes };
}
