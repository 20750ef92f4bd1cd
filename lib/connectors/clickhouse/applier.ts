/**
 * CDC apply into ClickHouse (ChangeApplier), ape-dts style: every change is an INSERT into the table's
 * ReplacingMergeTree -- inserts and updates write the new row, deletes write the key with
 * `_ape_dts_is_deleted = 1` -- each with a new `_ape_dts_timestamp` version (version.ts), so
 * `SELECT ... FINAL` (plus `WHERE _ape_dts_is_deleted = 0` before 23.2) shows the source's rows.
 *
 * Invariants: one `apply` sends one INSERT per table (one part each), in the order the changes came, with
 * versions increasing in that order; an update that moves a row to another key also writes a delete marker for
 * the old key. ClickHouse has no multi-table transaction: a failed apply may leave some tables' parts written;
 * replaying it writes the same rows with newer versions, so FINAL converges on the source (idempotent).
 * Keyless tables (MergeTree, no versions) append inserts; their deletes and updates run ALTER TABLE ... DELETE
 * matching every column (all identical copies go) and wait for it.
 */
import { TargetCache, type ChangeApplier, type TargetChange, type WriteTarget } from '../../core/sinker.ts';
import type { Logger } from '../../core/logger.ts';
import type { TableRef } from '../../core/table.ts';
import type { Row } from '../../core/values.ts';
import type { ClickhouseApi } from './client.ts';
import { deleteMatching, readRow } from './mutations.ts';
import { VERSION_COL, quoteIdent, quoteTable } from './sql.ts';
import { rowsPayload, sendPayload } from './payload.ts';
import { keyText, openShape, type FormatChoice, type TargetShape } from './target.ts';
import { PAYLOAD_LIMITS } from './writer.ts';
import type { VersionClock } from './version.ts';

export class ClickhouseChangeApplier implements ChangeApplier {
  private readonly shapes = new TargetCache<TargetShape>();

  constructor(
    private readonly client: ClickhouseApi,
    private readonly clock: VersionClock,
    private readonly logger: Logger,
    private readonly format: FormatChoice = 'auto',
  ) {}

  private shape(target: WriteTarget, signal: AbortSignal): Promise<TargetShape> {
    return this.shapes.get(target, async (t) => {
      const shape = await openShape(this.client, t, signal, this.format, this.logger);
      // Versions must beat every row already there, whoever wrote it (see version.ts).
      const [r] = await this.client.rows<{ v: string | number }>(`SELECT max(${quoteIdent(VERSION_COL)}) AS v FROM ${shape.sql}`, signal, `target ${shape.id}`);
      this.clock.observe(Number(r?.v ?? 0));
      return shape;
    });
  }

  async apply(changes: TargetChange[], signal: AbortSignal): Promise<void> {
    const order: Array<{ shape: TargetShape; changes: TargetChange[] }> = [];
    const seen = new Map<string, { shape: TargetShape; changes: TargetChange[] }>();
    for (const c of changes) {
      const shape = await this.shape(c.target, signal);
      let g = seen.get(shape.id);
      if (!g || g.shape !== shape) {
        // A table whose shape changed mid-batch (router handed a new WriteTarget) starts a new group.
        g = { shape, changes: [] };
        seen.set(shape.id, g);
        order.push(g);
      }
      g.changes.push(c);
    }
    for (const g of order) {
      if (g.shape.keyColumns.length) await this.applyKeyed(g.shape, g.changes, signal);
      else await this.applyKeyless(g.shape, g.changes, signal);
    }
  }

  private async applyKeyed(shape: TargetShape, changes: TargetChange[], signal: AbortSignal): Promise<void> {
    const keys = shape.keyColumns;
    /** The latest full row per key written by this batch: completes later partial images. */
    const latest = new Map<string, Row | null>();
    const payload = rowsPayload(shape, PAYLOAD_LIMITS.chunkBytes);
    for (const c of changes) {
      if (c.op === 'delete') {
        const k = c.beforeKey!;
        latest.set(keyText(k, keys), null);
        payload.add(k, 1, this.clock.next());
        continue;
      }
      let row = c.after!;
      if (c.op === 'update' && c.beforeKey) {
        const oldKey = keyText(c.beforeKey, keys);
        const newKey = keys.every((k) => row[k] !== undefined) ? keyText(row, keys) : oldKey;
        if (shape.columns.some((col) => row[col.name] === undefined)) row = await this.complete(shape, row, c.beforeKey, latest.get(oldKey), signal);
        if (newKey !== oldKey) {
          latest.set(oldKey, null);
          payload.add(c.beforeKey, 1, this.clock.next());
        }
      }
      latest.set(keyText(row, keys), row);
      payload.add(row, 0, this.clock.next());
    }
    await sendPayload(this.client, shape, payload, signal);
  }

  /** Fills the columns an update image lacks from this batch's rows, else from the target's current row. */
  private async complete(shape: TargetShape, partial: Row, beforeKey: Row, pending: Row | null | undefined, signal: AbortSignal): Promise<Row> {
    const base = pending ?? (await readRow(this.client, shape, beforeKey, signal));
    if (!base) {
      this.logger.warn('update of a row missing in the target: absent columns get their defaults', { table: shape.id, key: keyText(beforeKey, shape.keyColumns) });
      return partial;
    }
    const out: Row = { ...base };
    for (const k in partial) if (partial[k] !== undefined) out[k] = partial[k];
    return out;
  }

  private async applyKeyless(shape: TargetShape, changes: TargetChange[], signal: AbortSignal): Promise<void> {
    const payload = rowsPayload(shape, PAYLOAD_LIMITS.chunkBytes);
    const flush = () => sendPayload(this.client, shape, payload, signal);
    const features = await this.client.server(signal);
    for (const c of changes) {
      if (c.op !== 'insert' && c.beforeKey) {
        await flush();
        await deleteMatching(this.client, features, shape, c.beforeKey, signal);
      }
      if (c.op !== 'delete' && c.after) payload.add(c.after, 0, this.clock.next());
    }
    await flush();
  }

  async truncate(table: TableRef, signal: AbortSignal): Promise<void> {
    await this.client.command(`TRUNCATE TABLE ${quoteTable(table)}`, signal, `target ${table.db}.${table.tb}`);
    this.shapes.clear();
  }

  async close(): Promise<void> {
    this.shapes.clear();
  }
}
