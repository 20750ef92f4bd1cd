import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { FerryError } from '../../core/errors.ts';
import { abortError, throwIfAborted } from '../../core/signal.ts';
import { batchRows, type ChunkSpec, type ReadOptions, type RowBatch, type SnapshotSource } from '../../core/source.ts';
import type { TableMeta } from '../../core/table.ts';
import { tableId } from '../../core/table.ts';
import type { KeyTuple, Row } from '../../core/values.ts';
import { CopyLineSplitter, parseCopyText, PG_COPY_DATA } from './copy.ts';
import { forEachPayload, readCopyPage, type CopyPage } from './copy-wire.ts';
import { binaryKeyTypes, keyFieldText, lastTuple, PG_COPY_BINARY } from './copy-binary.ts';
import { toFerryError } from './errors.ts';
import { keyParams } from './metadata.ts';
import { cancellable, runQuery, sendCancel, type PgPool } from './pool.ts';
import { identList, keyCompare, keyHasNull, keyNotNull, placeholders, qualified, quoteLiteral, whereClause } from './sql.ts';
import { decoderFor, type Decoder } from './type-map.ts';

/** How a keyset page is fetched: a parameterised SELECT (row protocol) or `COPY (SELECT ...) TO STDOUT`. */
export type PgReadMode = 'select' | 'copy';

/** What one read needs, computed once per chunk. */
interface ReadPlan {
  meta: TableMeta;
  columns: string[];
  decoders: Decoder[];
  keyIdx: number[];
  /** Base types of the key columns when binary pages can give the resume key (BINARY_KEY_TYPES), else null. */
  binaryKeys: string[] | null;
  from: string;
  ctx: string;
}

function plan(meta: TableMeta, opts: ReadOptions): ReadPlan {
  const columns = [...opts.columns];
  for (const k of meta.keyColumns) if (!columns.includes(k)) columns.push(k);
  const decoders = columns.map((name) => {
    const c = meta.columns.find((x) => x.name === name);
    if (!c) throw new FerryError('MD001', `source ${tableId(meta)} has no column "${name}"`, { details: { table: tableId(meta), column: name } });
    return decoderFor(c);
  });
  const keyIdx = meta.keyColumns.map((k) => columns.indexOf(k));
  return { meta, columns, decoders, keyIdx, binaryKeys: binaryKeyTypes(meta.columns, meta.keyColumns), from: qualified(meta), ctx: `source ${tableId(meta)}` };
}

/**
 * The first of the writer's raw formats (`opts.raw`, in its order of preference) this read can produce: only
 * COPY pages holding exactly the requested columns (no key column appended for resuming), and binary pages only
 * when the key columns' binary form can be read back into the resume key.
 */
function rawFormatOf(p: ReadPlan, opts: ReadOptions, mode: PgReadMode): string | undefined {
  if (mode !== 'copy' || !opts.raw || p.columns.length !== opts.columns.length) return undefined;
  return opts.raw.find((f) => f === PG_COPY_DATA || (f === PG_COPY_BINARY && p.binaryKeys !== null));
}

/** Raw field texts -> canonical rows; byte size estimated from the wire texts (cheap, close enough). */
function toBatch(p: ReadPlan, raws: Array<Array<string | Buffer | null>>): RowBatch {
  const rows: Row[] = new Array(raws.length);
  let bytes = 0;
  for (let r = 0; r < raws.length; r++) {
    const raw = raws[r];
    const row: Row = {};
    for (let i = 0; i < p.columns.length; i++) {
      const v = raw[i];
      if (v === null) row[p.columns[i]] = null;
      else {
        bytes += v.length;
        row[p.columns[i]] = p.decoders[i](v);
      }
    }
    rows[r] = row;
    bytes += 16 + p.columns.length * 8;
  }
  const last = rows[rows.length - 1];
  const lastKey = last && p.keyIdx.length ? p.keyIdx.map((i) => last[p.columns[i]]) : null;
  return { rows, lastKey, bytes };
}

/**
 * A COPY text page kept as the CopyData messages it came in (one per row): rows counted by the server, the last
 * row parsed for the resume key, every other row decoded only if someone reads `rows`.
 */
function rawBatch(p: ReadPlan, page: CopyPage): RowBatch {
  if (page.messages !== page.rows) throw new FerryError('RT002', `${p.ctx}: COPY text page of ${page.rows} rows came in ${page.messages} messages`);
  let lastKey: KeyTuple | null = null;
  if (page.rows) {
    parseCopyText(page.last.toString('utf8', 0, page.last.length - 1), (f) => {
      lastKey = p.keyIdx.map((i) => (f[i] === null ? null : p.decoders[i](f[i]!)));
    });
  }
  let rows: Row[] | undefined;
  return {
    get rows(): Row[] {
      if (!rows) {
        const raws: Array<Array<string | null>> = [];
        forEachPayload(page.chunks, (line) => parseCopyText(line.toString('utf8', 0, line.length - 1), (f) => raws.push(f)));
        rows = toBatch(p, raws).rows;
      }
      return rows;
    },
    lastKey,
    bytes: page.bytes,
    raw: { format: PG_COPY_DATA, chunks: page.chunks, count: page.rows },
  };
}

/**
 * A binary COPY page kept as the CopyData messages it came in: rows counted by the server, the resume key read
 * from the last tuple's key fields (binary -> the text the server prints -> the same decoders as text pages).
 * Its values are never decoded: `rows` throws RT002.
 */
function binaryBatch(p: ReadPlan, page: CopyPage): RowBatch {
  const last = lastTuple(page, p.columns.length);
  const keyTypes = p.binaryKeys!;
  const lastKey = last ? p.keyIdx.map((i, j) => (last[i] === null ? null : p.decoders[i](keyFieldText(keyTypes[j], last[i]!)))) : null;
  const ctx = p.ctx;
  return {
    get rows(): Row[] {
      throw new FerryError('RT002', `${ctx}: a ${PG_COPY_BINARY} page cannot be decoded into rows; only a writer that takes it as it is may get it`);
    },
    lastKey,
    bytes: page.bytes,
    raw: { format: PG_COPY_BINARY, chunks: page.chunks, count: page.rows },
  };
}

const sameRow = (a: Array<string | null>, b: Array<string | null>): boolean => a.every((x, i) => x === b[i]);

const stmtName = (text: string) => `ferry_r_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;

/**
 * PostgreSQL snapshot reads. Keyed tables are read in keyset pages (`(k) > after AND (k) <= upper ORDER BY k
 * LIMIT n`), each on a pooled connection taken for that page only; keyless tables and NULL-key rows stream
 * through one COPY. Invariant: rows of keyed pages come in key order and `lastKey` resumes exactly; an abort
 * cancels the running statement on the server.
 */
export class PgSnapshotSource implements SnapshotSource {
  constructor(
    private readonly pool: PgPool,
    private readonly mode: PgReadMode = 'copy',
  ) {}

  readChunk(meta: TableMeta, chunk: ChunkSpec, opts: ReadOptions): AsyncIterable<RowBatch> {
    return this.read(meta, chunk, opts);
  }

  private async *read(meta: TableMeta, chunk: ChunkSpec, opts: ReadOptions): AsyncGenerator<RowBatch> {
    const p = plan(meta, opts);
    const raw = rawFormatOf(p, opts, this.mode);
    const keyed = meta.keyColumns.length > 0;
    if (!keyed) {
      yield* this.stream(p, opts.where, opts, null);
      return;
    }
    if (chunk.kind === 'null-key') {
      yield* this.stream(p, [keyHasNull(meta.keyColumns), opts.where].filter(Boolean).join(') AND ('), opts, null, true);
      return;
    }
    const lower = opts.after ?? chunk.lower;
    const upper = chunk.kind === 'range' ? chunk.upper : null;
    let after: KeyTuple | null = lower;
    for (;;) {
      throwIfAborted(opts.signal);
      const batch = await this.page(p, after, upper, opts, raw);
      const n = batchRows(batch); // not rows.length: that would decode a raw page
      if (n) {
        yield batch;
        after = batch.lastKey;
      }
      if (n < opts.batchSize) break;
    }
    // A whole-table read of a nullable unique key must also cover the rows keyset order never reaches.
    if (chunk.kind === 'whole' && meta.keyNullable) {
      yield* this.stream(p, [keyHasNull(meta.keyColumns), opts.where].filter(Boolean).join(') AND ('), opts, after, true);
    }
  }

  /** One keyset page; in `raw` format when given (see rawFormatOf). */
  private async page(p: ReadPlan, after: KeyTuple | null, upper: KeyTuple | null, opts: ReadOptions, raw: string | undefined): Promise<RowBatch> {
    const keys = p.meta.keyColumns;
    const values: Array<string | null> = [];
    const bound = (k: KeyTuple, op: '>' | '<=') => {
      const texts = keyParams(p.meta, k);
      if (this.mode === 'copy') return keyCompare(keys, op, texts.map((t) => (t === null ? 'NULL' : quoteLiteral(t))));
      const ph = placeholders(texts.length, values.length);
      values.push(...texts);
      return keyCompare(keys, op, ph);
    };
    const preds = [p.meta.keyNullable ? keyNotNull(keys) : null, after ? bound(after, '>') : null, upper ? bound(upper, '<=') : null, opts.where];
    const select = `SELECT ${identList(p.columns)} FROM ${p.from}${whereClause(preds)} ORDER BY ${identList(keys)} LIMIT ${Math.max(1, opts.batchSize)}`;
    return this.pool.withClient(opts.signal, async (client) => {
      if (this.mode === 'select') {
        const res = await runQuery(client, this.pool.target, { name: stmtName(select), text: select, values, rowMode: 'array' }, opts.signal, p.ctx);
        return toBatch(p, res.rows as Array<Array<string | Buffer | null>>);
      }
      const copy = `COPY (${select}) TO STDOUT`;
      if (raw) {
        const binary = raw === PG_COPY_BINARY;
        const page = await cancellable(client, this.pool.target, opts.signal, async () => {
          try {
            return await readCopyPage(client, binary ? `${copy} (FORMAT binary)` : copy);
          } catch (e) {
            throw toFerryError(e, p.ctx);
          }
        });
        return binary ? binaryBatch(p, page) : rawBatch(p, page);
      }
      const raws: Array<Array<string | null>> = [];
      const chunks: Buffer[] = [];
      await cancellable(client, this.pool.target, opts.signal, async () => {
        try {
          for await (const c of client.query(copyTo(copy))) chunks.push(c as Buffer);
        } catch (e) {
          throw toFerryError(e, p.ctx);
        }
      });
      parseCopyText(Buffer.concat(chunks).toString('utf8'), (f) => raws.push(f));
      return toBatch(p, raws);
    });
  }

  /**
   * Streams `SELECT cols WHERE where` through one COPY, in batches of batchSize. The connection is held for the
   * whole stream (there is no key to resume by); pulling drives the socket, so memory stays at one batch.
   *
   * `groupCopies` (NULL-key rows): rows come ordered by their text and a batch never ends inside a run of
   * identical rows. NULL-key rows have no identity, so the sinker replaces exact copies within one batch;
   * keeping copies together makes that idempotent without losing legitimate duplicates.
   */
  private async *stream(p: ReadPlan, where: string | undefined, opts: ReadOptions, lastKey: KeyTuple | null, groupCopies = false): AsyncGenerator<RowBatch> {
    const client: PoolClient = await this.pool.connect(opts.signal);
    const order = groupCopies ? ` ORDER BY ROW(${identList(p.columns)})::text` : '';
    const sql = `COPY (SELECT ${identList(p.columns)} FROM ${p.from}${whereClause([where])}${order}) TO STDOUT`;
    const stream = client.query(copyTo(sql));
    const onAbort = () => void sendCancel(this.pool.target, client).catch(() => undefined);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    const split = new CopyLineSplitter();
    let pending: Array<Array<string | null>> = [];
    let done = false;
    /** Where the next batch may end: batchSize, pushed past identical rows; -1 while undecidable. */
    const cutAt = (ended: boolean): number => {
      let cut = Math.min(opts.batchSize, pending.length);
      if (groupCopies) while (cut < pending.length && sameRow(pending[cut], pending[cut - 1])) cut++;
      return cut < pending.length || ended ? cut : -1;
    };
    const take = (cut: number): RowBatch => {
      const b = toBatch(p, pending.slice(0, cut));
      pending = pending.slice(cut);
      return { ...b, lastKey };
    };
    try {
      for await (const chunk of stream) {
        split.push(chunk as Buffer, (f) => pending.push(f));
        for (let cut; pending.length >= opts.batchSize && (cut = cutAt(false)) > 0; ) {
          yield take(cut);
          throwIfAborted(opts.signal);
        }
      }
      split.end((f) => pending.push(f));
      while (pending.length) yield take(cutAt(true));
      done = true;
    } catch (e) {
      if (opts.signal.aborted) throw abortError(opts.signal);
      throw toFerryError(e, p.ctx);
    } finally {
      opts.signal.removeEventListener('abort', onAbort);
      if (!done) {
        // Consumer stopped early or it failed: the server is still sending, so cancel and drop the session.
        await sendCancel(this.pool.target, client).catch(() => undefined);
        stream.destroy();
      }
      client.release(done ? undefined : true);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
