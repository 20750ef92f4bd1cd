import type { Position } from '../../core/change.ts';
import { PeriodicWriter } from '../../pipeline/periodic-writer.ts';
import type { Logger } from '../../core/logger.ts';
import { tableId, type TableRef } from '../../core/table.ts';
import type { MysqlClient } from './client.ts';
import { positionData } from './position.ts';
import { quoteTable, sqlString } from './sql.ts';

/**
 * The heartbeat table of ape-dts (`extractor.heartbeat_tb`), same columns, so one table serves both tools:
 *
 * ```sql
 * CREATE TABLE db.ape_dts_heartbeat (
 *   server_id INT UNSIGNED NOT NULL PRIMARY KEY,
 *   update_timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
 *   received_binlog_filename VARCHAR(255), received_next_event_position INT UNSIGNED, received_timestamp VARCHAR(255),
 *   flushed_binlog_filename VARCHAR(255), flushed_next_event_position INT UNSIGNED, flushed_timestamp VARCHAR(255));
 * ```
 */
export const heartbeatTableDdl = (t: TableRef): string =>
  `CREATE TABLE IF NOT EXISTS ${quoteTable(t)} (server_id INT UNSIGNED NOT NULL PRIMARY KEY, ` +
  `update_timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP, received_binlog_filename VARCHAR(255), received_next_event_position BIGINT UNSIGNED, ` +
  `received_timestamp VARCHAR(255), flushed_binlog_filename VARCHAR(255), flushed_next_event_position BIGINT UNSIGNED, flushed_timestamp VARCHAR(255))`;

export interface HeartbeatState {
  received(): Position | undefined;
  flushed(): Position | undefined;
}

/**
 * Upserts one row (keyed by ferry's server_id) every `intervalMs` on an ordinary connection, so an idle
 * source still writes binlog transactions: their commits move ferry's position forward (the task's lag stays
 * measurable and the binlog file ferry needs is never an old one). Failures are logged once per streak and
 * retried at the next tick: a missing heartbeat delays position progress, it loses nothing.
 */
export class HeartbeatWriter extends PeriodicWriter {
  constructor(
    private readonly client: MysqlClient,
    private readonly table: TableRef,
    private readonly serverId: number,
    intervalMs: number,
    private readonly state: HeartbeatState,
    logger: Logger,
  ) {
    super(`heartbeat ${tableId(table)}`, intervalMs, logger);
  }

  protected async write(signal: AbortSignal): Promise<void> {
    const part = (p: Position | undefined) => {
      if (!p) return `'', 0, ''`;
      const d = positionData(p);
      return `${sqlString(d.file)}, ${d.pos}, ${sqlString(new Date().toISOString())}`;
    };
    const sql =
      `REPLACE INTO ${quoteTable(this.table)} (server_id, update_timestamp, received_binlog_filename, received_next_event_position, received_timestamp, ` +
      `flushed_binlog_filename, flushed_next_event_position, flushed_timestamp) VALUES (${this.serverId}, now(), ${part(this.state.received())}, ${part(this.state.flushed())})`;
    await this.client.query(sql, signal, { context: `heartbeat ${tableId(this.table)}` });
  }
}
