import { randomBytes } from 'node:crypto';
import { FerryError } from '../../core/errors.ts';
import type { RawWriteStream, TableWriter } from '../../core/sinker.ts';
import type { RawRows } from '../../core/source.ts';
import { MYSQL_TEXT_TSV } from '../../core/tsv.ts';
import type { Row } from '../../core/values.ts';
import type { ClickhouseApi, InsertStream } from './client.ts';
import { DELETED_COL, quoteIdent, quoteTable } from './sql.ts';
import { rowsPayload, sendPayload } from './payload.ts';
import type { TargetShape } from './target.ts';
import { withinBounds } from './tsv-fit.ts';
import { SNAPSHOT_VERSION } from './version.ts';

/**
 * Payload bounds of a snapshot insert. Rows are encoded straight into Buffers of `chunkBytes` (off the JS heap; no
 * batch-sized string is ever built; payload.ts) and the payload is sent only once complete, so a value that does
 * not fit (IN001) stops the batch before anything is sent: ClickHouse writes whatever a request delivered, even one
 * cut short. A batch whose payload passes `maxBytes` is sent as several INSERTs of about that size, which bounds
 * memory whatever the row size; the rows an earlier INSERT of a failed batch wrote are source rows at the snapshot
 * version, so a rerun converges (FINAL unchanged).
 */
export interface PayloadLimits {
  chunkBytes: number;
  maxBytes: number;
}

export const PAYLOAD_LIMITS: PayloadLimits = { chunkBytes: 1 << 20, maxBytes: 32 << 20 };

/** Inserts `rows` with the given version in the table's format: one INSERT (one part) per `limits.maxBytes` of payload. */
export async function insertRows(client: ClickhouseApi, shape: TargetShape, rows: Row[], version: number, signal: AbortSignal, limits = PAYLOAD_LIMITS): Promise<void> {
  const payload = rowsPayload(shape, limits.chunkBytes);
  for (const r of rows) {
    payload.add(r, 0, version);
    if (payload.bytes >= limits.maxBytes) await sendPayload(client, shape, payload, signal);
  }
  await sendPayload(client, shape, payload, signal);
}

/**
 * Snapshot writes into one ClickHouse table. Each `write` is one INSERT (one part, atomic) of rows with the
 * snapshot version, so rewriting a batch leaves `FINAL` unchanged (ReplacingMergeTree collapses by key).
 * Keyless tables (plain MergeTree) are replaced whole: `replaceAll` fills a staging copy and swaps it in.
 */
export class ClickhouseTableWriter implements TableWriter {
  readonly rawFormats: readonly string[];
  /**
   * One `INSERT ... FORMAT TabSeparated` whose body is the pushed pages' lines, sent as they come (one part per
   * stream, like one `writeRaw` of the merged pages). A page with a date outside a target type's range is not
   * sent (`push` gives false) and goes to `writeRaw`. Only over HTTP (`insertStream`; chdb takes whole pages).
   */
  readonly openRawStream?: (format: string, signal: AbortSignal) => RawWriteStream;
  /**
   * The INSERT column list of a raw page: the written columns, then the deleted flag, which takes each line's guard
   * field (`0`; core/tsv.ts); the version column takes its default, 0.
   */
  private readonly tsvColumns: string;

  constructor(
    private readonly client: ClickhouseApi,
    private readonly shape: TargetShape,
    /** `sinker.batch_size`: rows per INSERT; the chunk runner streams (or merges) source pages up to it. */
    readonly batchRows?: number,
  ) {
    this.rawFormats = shape.tsv ? [MYSQL_TEXT_TSV] : [];
    this.tsvColumns = [...shape.columns.map((c) => c.name), DELETED_COL].map(quoteIdent).join(', ');
    const plan = shape.tsv;
    if (plan && client.insertStream) this.openRawStream = (format, signal) => {
      if (format !== MYSQL_TEXT_TSV) throw new FerryError('RT002', `target ${shape.id}: cannot stream raw format ${format}`);
      // The INSERT starts with the first page sent: a stream whose first page goes another way sends nothing.
      let s: InsertStream | undefined;
      const columns = this.tsvColumns;
      return {
        async push(raw) {
          if (raw.format !== MYSQL_TEXT_TSV || !withinBounds(plan, raw.bounds)) return false;
          s ??= client.insertStream!(shape.sql, columns, 'TabSeparated', signal, `target ${shape.id}`);
          await s.write(raw.chunks);
          return true;
        },
        end: async () => s?.end(),
        abort: () => s?.abort(),
      };
    };
  }

  async write(rows: Row[], signal: AbortSignal): Promise<void> {
    await insertRows(this.client, this.shape, rows, SNAPSHOT_VERSION, signal);
  }

  /**
   * A MySQL page as it came: one `INSERT ... FORMAT TabSeparated` of its lines (one part, sent only whole, like
   * `write`), naming the written columns and the deleted flag (`tsvColumns`), so both extra columns get the
   * snapshot row's values (tsv-fit.ts).
   * A page with a date outside a target type's range takes `write`, which names the row (IN001).
   */
  async writeRaw(raw: RawRows, rows: () => Row[], signal: AbortSignal): Promise<void> {
    const plan = this.shape.tsv;
    if (raw.format !== MYSQL_TEXT_TSV || !plan) throw new FerryError('RT002', `target ${this.shape.id}: cannot take raw format ${raw.format}`);
    if (!raw.count) return;
    if (!withinBounds(plan, raw.bounds)) return this.write(rows(), signal);
    await this.client.insert(this.shape.sql, this.tsvColumns, 'TabSeparated', raw.chunks, signal, `target ${this.shape.id}`);
  }

  /**
   * Fills `<tb>__ferry_<random>` (CREATE TABLE ... AS the target) and swaps it with the target: EXCHANGE TABLES
   * where the database supports it (Atomic, 20.10+), else one RENAME statement; the old content is dropped. A
   * failed or stopped run drops its staging table, so a rerun converges on the source content.
   */
  async replaceAll(batches: AsyncIterable<Row[]>, signal: AbortSignal): Promise<number> {
    const t = this.shape.table;
    const staging = { db: t.db, tb: `${t.tb}__ferry_${randomBytes(4).toString('hex')}` };
    const ctx = `target ${this.shape.id}`;
    await this.client.command(`CREATE TABLE ${quoteTable(staging)} AS ${this.shape.sql}`, signal, ctx);
    let n = 0;
    try {
      const into = { ...this.shape, sql: quoteTable(staging) };
      for await (const rows of batches) {
        await insertRows(this.client, into, rows, SNAPSHOT_VERSION, signal);
        n += rows.length;
      }
      try {
        await this.client.command(`EXCHANGE TABLES ${this.shape.sql} AND ${quoteTable(staging)}`, signal, ctx);
      } catch {
        const old = { db: t.db, tb: `${staging.tb}_old` };
        await this.client.command(`RENAME TABLE ${this.shape.sql} TO ${quoteTable(old)}, ${quoteTable(staging)} TO ${this.shape.sql}`, signal, ctx);
        await this.client.command(`RENAME TABLE ${quoteTable(old)} TO ${quoteTable(staging)}`, signal, ctx);
      }
    } finally {
      await this.client.command(`DROP TABLE IF EXISTS ${quoteIdent(staging.db)}.${quoteIdent(staging.tb)}`, undefined, ctx).catch(() => undefined);
    }
    return n;
  }

  async close(): Promise<void> {}
}
