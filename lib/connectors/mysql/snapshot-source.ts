/**
 * SnapshotSource for MySQL/MariaDB.
 *
 * - `range` (and `whole` on a table with a NOT NULL key): keyset pagination, one short query per page:
 *   `SELECT cols FROM t WHERE key > after AND key <= upper [AND (where)] ORDER BY key LIMIT batchSize`.
 *   No cursor or connection is held between pages; `lastKey` of every batch resumes exactly after it.
 * - `null-key`: rows of a nullable unique key with a NULL in it. `key > x` never matches them, so they are
 *   paged by LIMIT/OFFSET ordered by every selected column (rare and usually few rows; rows inserted or
 *   deleted concurrently can shift pages -- CDC repairs that as it does for any snapshot). `lastKey` is null:
 *   a resumed null-key chunk starts over, which the sinker's null-key write path makes harmless.
 * - `whole` on a keyless table (or one whose key has NULLs): one streaming query over the whole table,
 *   cut into batches of batchSize; the driver pauses the socket while the consumer is not pulling.
 *   `lastKey` is null (nothing to resume from: the chunk restarts, and keyless targets are rewritten with
 *   replaceAll anyway).
 * The signal is checked between pages; on abort a running query's connection is destroyed.
 */
import type { Connection as CoreConnection } from 'mysql2';
import { FerryError } from '../../core/errors.ts';
import { abortError, throwIfAborted } from '../../core/signal.ts';
import type { ChunkSpec, ReadOptions, RowBatch, SnapshotSource } from '../../core/source.ts';
import { column, tableId, type ColumnMeta, type TableMeta } from '../../core/table.ts';
import { rowBytes, type KeyTuple, type Row } from '../../core/values.ts';
import { destroy, release, type MysqlClient } from './client.ts';
import { classify } from './errors.ts';
import { keyColumnsOf, keysetSelect, nullKeyCond, orderBy, rangeConds, selectList, whereClause } from './keyset.ts';
import { quoteTable } from './sql.ts';
import { rowDecoder } from './type-map.ts';

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
      yield* this.stream(meta, cols, opts, batchSize);
    } else {
      const lower = opts.after ?? (chunk.kind === 'range' ? chunk.lower : null);
      const upper = chunk.kind === 'range' ? chunk.upper : null;
      yield* this.readKeyset(meta, cols, lower, upper, opts, batchSize);
    }
  }

  private async *readKeyset(meta: TableMeta, sel: Selected, lower: KeyTuple | null, upper: KeyTuple | null, opts: ReadOptions, batchSize: number) {
    const kc = keyColumnsOf(meta);
    let after = lower;
    for (;;) {
      throwIfAborted(opts.signal);
      const sql = keysetSelect(meta, sel.cols, rangeConds(meta, after, upper), opts.where, batchSize);
      const raw = await this.client.query<unknown[]>(sql, opts.signal, { rowsAsArray: true, context: `source ${tableId(meta)}` });
      if (!raw.length) return;
      const full = raw.map(sel.decode);
      const last = full[full.length - 1];
      after = kc.map((c) => last[c.name]);
      yield batchOf(full.map(sel.project), after);
      if (raw.length < batchSize) return;
    }
  }

  private async *readNullKey(meta: TableMeta, sel: Selected, opts: ReadOptions, batchSize: number) {
    const order = orderBy(sel.cols.map((c) => c.name));
    for (let offset = 0; ; offset += batchSize) {
      throwIfAborted(opts.signal);
      const sql =
        `SELECT ${selectList(sel.cols)} FROM ${quoteTable(meta)}${whereClause([nullKeyCond(meta)], opts.where)}` +
        ` ORDER BY ${order} LIMIT ${batchSize}${offset ? ` OFFSET ${offset}` : ''}`;
      const raw = await this.client.query<unknown[]>(sql, opts.signal, { rowsAsArray: true, context: `source ${tableId(meta)}` });
      if (!raw.length) return;
      yield batchOf(raw.map((r) => sel.project(sel.decode(r))), null);
      if (raw.length < batchSize) return;
    }
  }

  private async *stream(meta: TableMeta, sel: Selected, opts: ReadOptions, batchSize: number) {
    const { signal } = opts;
    const sql = `SELECT ${selectList(sel.cols)} FROM ${quoteTable(meta)}${whereClause([], opts.where)}`;
    const conn = await this.client.connection(signal);
    const onAbort = () => destroy(conn);
    signal.addEventListener('abort', onAbort, { once: true });
    let finished = false;
    try {
      // The promise wrapper's typings call this a promise Connection; at runtime it is the callback one.
      const core = conn.connection as unknown as CoreConnection;
      const rows = core.query({ sql, rowsAsArray: true }).stream({ highWaterMark: Math.min(batchSize, 1000) });
      let batch: Row[] = [];
      for await (const arr of rows) {
        batch.push(sel.project(sel.decode(arr as unknown[])));
        if (batch.length >= batchSize) {
          yield batchOf(batch, null);
          batch = [];
        }
      }
      if (signal.aborted) throw abortError(signal);
      if (batch.length) yield batchOf(batch, null);
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
  return { cols: all, decode: rowDecoder(all), project };
}

function batchOf(rows: Row[], lastKey: KeyTuple | null): RowBatch {
  let bytes = 0;
  for (const r of rows) bytes += rowBytes(r);
  return { rows, lastKey, bytes };
}
