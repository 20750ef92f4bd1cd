/**
 * TableWriter over Stream Load (snapshot path).
 *
 * Invariants:
 * - `write` upserts by key: the target is a PRIMARY KEY (StarRocks) / UNIQUE KEY (Doris) table on the
 *   source key (checked in target.ts), and every body carries a content label (label.ts), so a retried or
 *   rerun batch is deduplicated by the server or rewritten with the same values.
 * - Bodies are at most `maxBodyBytes`; a batch larger than that is several loads, each atomic on its own
 *   (a failure leaves earlier bodies loaded: they are upserts, so the retry converges).
 * - A value that cannot travel raises IN001 naming table, column and key before anything is sent.
 */
import { randomUUID } from 'node:crypto';
import { FerryError } from '../../core/errors.ts';
import { throwIfAborted } from '../../core/signal.ts';
import type { TableWriter } from '../../core/sinker.ts';
import type { Row } from '../../core/values.ts';
import type { OlapCatalog } from './fe-client.ts';
import { quoteTable } from './fe-client.ts';
import { buildBodies, type Body } from './json-body.ts';
import { snapshotLabel } from './label.ts';
import type { StreamLoader } from './loader.ts';
import { encodeRow, type LoadTarget } from './target.ts';

export interface WriterSetup {
  target: LoadTarget;
  loader: StreamLoader;
  catalog: OlapCatalog;
  maxBodyBytes: number;
  labelPrefix: string;
}

export class StreamLoadTableWriter implements TableWriter {
  constructor(private readonly s: WriterSetup) {}

  /** The batch as bodies; IN001 for the first value that cannot travel. */
  bodies(rows: Row[]): Body[] {
    const t = this.s.target;
    return buildBodies(rows.length, (i) => encodeRow(t, t.columns, rows[i], i), this.s.maxBodyBytes);
  }

  async write(rows: Row[], signal: AbortSignal): Promise<void> {
    if (!rows.length) return;
    const t = this.s.target;
    if (!t.keyColumns.length) {
      throw new FerryError('RT002', `target ${t.id} is keyless: plain loads are not idempotent, write it with replaceAll`);
    }
    await this.send(this.bodies(rows), (b) => snapshotLabel(this.s.labelPrefix, t.table.db, t.table.tb, this.columns(), b.body), signal);
  }

  private columns(): string[] {
    return this.s.target.columns.map((c) => c.column);
  }

  private async send(bodies: Body[], label: (b: Body) => string, signal: AbortSignal): Promise<void> {
    const t = this.s.target;
    for (const b of bodies) {
      throwIfAborted(signal);
      await this.s.loader.load({ db: t.table.db, tb: t.table.tb, columns: this.columns(), body: b.body, label: label(b) }, signal);
    }
  }

  /**
   * Keyless tables (DUPLICATE KEY model): TRUNCATE, then every batch. NOT one transaction (Stream Load
   * cannot delete-all-then-insert atomically): readers may see a partly loaded table while it runs, and a
   * rerun converges because it truncates first. Labels carry a per-run id: after a TRUNCATE, content labels
   * from an earlier run would wrongly skip the reload.
   */
  async replaceAll(batches: AsyncIterable<Row[]>, signal: AbortSignal): Promise<number> {
    const t = this.s.target;
    const run = randomUUID();
    await this.s.catalog.execute(`TRUNCATE TABLE ${quoteTable(t.table)}`, signal);
    let n = 0;
    let part = 0;
    for await (const rows of batches) {
      if (!rows.length) continue;
      await this.send(this.bodies(rows), (b) => snapshotLabel(this.s.labelPrefix, t.table.db, t.table.tb, [run, String(part++)], b.body), signal);
      n += rows.length;
    }
    return n;
  }

  async close(): Promise<void> {}
}
