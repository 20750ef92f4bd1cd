/**
 * Helpers for the MySQL binlog CDC tests: an endpoint with a server_id unique to this process (MariaDB kills
 * the older dump thread of a replica id that connects twice), and a collector that streams until a condition
 * holds. The test server is shared with other suites and benchmarks: every test filters to its own tables.
 */
import type { EndpointConfig } from '../../lib/config/types.ts';
import type { ChangeEvent, CommitMark, Position, RowChange } from '../../lib/core/change.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import type { TableMeta, TableRef } from '../../lib/core/table.ts';
import type { Row } from '../../lib/core/values.ts';
import { createMysqlCdcSource, createMysqlMetadata, createMysqlSnapshotSource, type MysqlCdcSource } from '../../lib/connectors/mysql/index.ts';
import type { MysqlCdcSourceOptions } from '../../lib/connectors/mysql/cdc-source.ts';
import { mysqlEndpoint } from '../support/mysql.ts';

export const never = new AbortController().signal;
export const testCtx = { logger: silentLogger, signal: never };

let serial = 0;
/** A replica id no other test process uses at the same time. */
export const uniqueServerId = (): number => 1_000_000 + (process.pid % 100_000) * 100 + (serial++ % 100);

export function cdcEndpoint(raw: Record<string, string> = {}): EndpointConfig {
  return mysqlEndpoint({ raw: { server_id: String(uniqueServerId()), ...raw } });
}

export async function cdcSource(tables: TableRef[] | undefined, raw: Record<string, string> = {}, tuning: Partial<MysqlCdcSourceOptions> = {}): Promise<MysqlCdcSource> {
  return createMysqlCdcSource(cdcEndpoint(raw), testCtx, tables ? { tables } : {}, tuning);
}

export interface Collected {
  events: ChangeEvent[];
  batches: number;
}

/** Streams from `from` until `done(events)` holds, then leaves the loop (as a consumer does). Rejects after `timeoutMs`. */
export async function collect(
  source: MysqlCdcSource,
  from: Position,
  done: (events: ChangeEvent[]) => boolean,
  o: { timeoutMs?: number; onBatch?: (batch: ChangeEvent[]) => void | Promise<void> } = {},
): Promise<Collected> {
  const events: ChangeEvent[] = [];
  let batches = 0;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(new Error('timeout')), o.timeoutMs ?? 20_000);
  try {
    for await (const batch of source.stream(from, ctrl.signal)) {
      batches++;
      events.push(...batch);
      await o.onBatch?.(batch);
      if (done(events)) return { events, batches };
    }
  } finally {
    clearTimeout(timer);
  }
  if (done(events)) return { events, batches };
  throw new Error(`stream ended before the condition held (${events.length} events${ctrl.signal.aborted ? ', timed out' : ''})`);
}

export const rowsOf = (events: ChangeEvent[], tb?: string): RowChange[] => events.filter((e): e is RowChange => e.kind === 'row' && (!tb || e.table.tb === tb));
export const commitsOf = (events: ChangeEvent[]): CommitMark[] => events.filter((e): e is CommitMark => e.kind === 'commit');
/** CommitMarks that close a group with changes (empty groups of other tables' transactions left out). */
export function dataCommits(events: ChangeEvent[]): CommitMark[] {
  const out: CommitMark[] = [];
  let pending = false;
  for (const e of events) {
    if (e.kind === 'commit') {
      if (pending) out.push(e);
      pending = false;
    } else if (e.kind !== 'heartbeat') pending = true;
  }
  return out;
}

/** Every row of a table as the snapshot source reads it, in key order. */
export async function snapshotRows(t: TableRef): Promise<{ meta: TableMeta; rows: Row[] }> {
  const md = await createMysqlMetadata(mysqlEndpoint(), testCtx);
  const src = await createMysqlSnapshotSource(mysqlEndpoint(), testCtx);
  try {
    const meta = await md.getTableMeta(t, never);
    const rows: Row[] = [];
    const chunk = { id: 'all', table: meta, kind: (meta.keyKind === 'none' ? 'whole' : 'range') as 'whole' | 'range', lower: null, upper: null, estimatedRows: 0 };
    for await (const b of src.readChunk(meta, chunk, { columns: meta.columns.map((c) => c.name), batchSize: 1000, signal: never })) rows.push(...b.rows);
    return { meta, rows };
  } finally {
    await md.close();
    await src.close();
  }
}
