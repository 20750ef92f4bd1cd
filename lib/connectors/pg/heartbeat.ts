import type { Logger } from '../../core/logger.ts';
import { PeriodicWriter } from '../../pipeline/periodic-writer.ts';
import type { TableRef } from '../../core/table.ts';
import { tableId } from '../../core/table.ts';
import type { PgPool } from './pool.ts';
import { qualified } from './sql.ts';

/**
 * The heartbeat table of ape-dts (`extractor.heartbeat_tb`), same columns, so one table serves both tools:
 *
 * ```sql
 * CREATE TABLE public.ape_dts_heartbeat (
 *   slot_name varchar(64) NOT NULL PRIMARY KEY,
 *   update_timestamp timestamp without time zone DEFAULT (now() AT TIME ZONE 'utc'),
 *   received_lsn varchar(64), received_timestamp varchar(64),
 *   flushed_lsn varchar(64), flushed_timestamp varchar(64));
 * ```
 */
export const heartbeatTableDdl = (t: TableRef): string =>
  `CREATE TABLE IF NOT EXISTS ${qualified(t)} (slot_name varchar(64) NOT NULL PRIMARY KEY, ` +
  `update_timestamp timestamp without time zone DEFAULT (now() AT TIME ZONE 'utc'), received_lsn varchar(64), ` +
  `received_timestamp varchar(64), flushed_lsn varchar(64), flushed_timestamp varchar(64))`;

export interface HeartbeatState {
  received(): string;
  flushed(): string;
}

/**
 * Writes one row of the heartbeat table every `intervalMs` on an ordinary connection, so an idle source still
 * produces transactions (commits) whose positions the runner can commit and acknowledge -- the slot keeps up
 * with WAL written by other databases of the cluster instead of pinning it. Failures are logged (once per
 * streak) and retried at the next tick: a missing heartbeat slows position progress, it loses nothing.
 */
export class HeartbeatWriter extends PeriodicWriter {
  private readonly sql: string;

  constructor(
    private readonly pool: PgPool,
    private readonly table: TableRef,
    private readonly slot: string,
    intervalMs: number,
    private readonly state: HeartbeatState,
    logger: Logger,
  ) {
    super(`heartbeat ${tableId(table)}`, intervalMs, logger);
    this.sql =
      `INSERT INTO ${qualified(table)} (slot_name, update_timestamp, received_lsn, received_timestamp, flushed_lsn, flushed_timestamp) ` +
      `VALUES ($1, now() AT TIME ZONE 'utc', $2, $3, $4, $3) ON CONFLICT (slot_name) DO UPDATE SET update_timestamp = EXCLUDED.update_timestamp, ` +
      `received_lsn = EXCLUDED.received_lsn, received_timestamp = EXCLUDED.received_timestamp, flushed_lsn = EXCLUDED.flushed_lsn, ` +
      `flushed_timestamp = EXCLUDED.flushed_timestamp`;
  }

  protected async write(signal: AbortSignal): Promise<void> {
    const now = new Date().toISOString();
    await this.pool.query({ text: this.sql, values: [this.slot, this.state.received(), now, this.state.flushed()] }, signal, `heartbeat ${tableId(this.table)}`);
  }
}
