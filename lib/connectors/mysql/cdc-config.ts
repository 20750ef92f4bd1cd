import { z } from 'zod';
import { bool, int, invalid, readSection, text, type Field } from '../../config/fields.ts';
import { scan } from '../../config/tokens.ts';
import { FerryError } from '../../core/errors.ts';
import type { TableRef } from '../../core/table.ts';

/**
 * The `[extractor]` keys of MySQL/MariaDB binlog CDC, named and defaulted as in ape-dts
 * (`task_config.rs` MysqlCdc, `mysql_cdc_extractor.rs`):
 * `server_id` (required: the replica id ferry announces), `binlog_filename` + `binlog_position`, `gtid_enabled` +
 * `gtid_set`, `binlog_heartbeat_interval_secs` (10), `binlog_timeout_secs` (60), `heartbeat_interval_secs` (10),
 * `heartbeat_tb` (`db.tb`, off when empty), `start_time_utc`, `end_time_utc`.
 */
export interface MysqlCdcConfig {
  serverId: number;
  binlogFilename?: string;
  /** Byte offset in `binlogFilename`; 4 (the first event) when not given. */
  binlogPosition: number;
  /** With `gtidSet`: start from that GTID set/position instead of a file (ape-dts: only when both are set). */
  gtidEnabled: boolean;
  gtidSet?: string;
  /** Server-sent binlog heartbeats while idle (MASTER_HEARTBEAT_PERIOD); 0 = off. */
  binlogHeartbeatIntervalSecs: number;
  /** No byte from the server for this long (while not paused by ferry) = a dead connection (CN001). */
  binlogTimeoutSecs: number;
  heartbeatIntervalSecs: number;
  heartbeatTable?: TableRef;
  /** Epoch ms; transactions committed before it are skipped. */
  startTimeMs?: number;
  /** Epoch ms; the stream ends before the first transaction committed after it. */
  endTimeMs?: number;
}

const UTC_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * `YYYY-MM-DD HH:MM:SS[.fff][zone]` -> epoch ms. Without a zone the text is UTC (ape-dts `datetime_from_utc_str`,
 * which also accepts a trailing offset such as `+08:00`). Null when it is not such a time.
 */
export function parseUtcTime(s: string): number | null {
  const m = UTC_TIME.exec(s.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, se, frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +se, frac ? Math.floor(Number(`0${frac}`) * 1000) : 0);
  const check = new Date(ms);
  if (check.getUTCMonth() !== +mo - 1 || check.getUTCDate() !== +d || +h > 23 || +mi > 59 || +se > 59) return null;
  if (zone.toUpperCase() === 'Z') return ms;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return ms - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
}

const time = (): Field<number> => ({
  schema: z.preprocess((v) => (typeof v === 'string' ? parseUtcTime(v) : v), z.number()),
  expected: 'a UTC time like 2024-05-01 12:00:00',
});

const fields = {
  server_id: { ...int(1), required: true, schema: int(1).schema.pipe(z.number().max(4294967295)), expected: 'an integer 1..4294967295' },
  binlog_filename: { ...text('a binlog file name like mysql-bin.000035'), schema: z.string().trim().regex(/^[^/\\\s]+\.\d+$/) },
  binlog_position: int(0),
  gtid_enabled: bool(),
  gtid_set: { ...text('a MariaDB GTID position (0-1-100,1-2-5) or MySQL GTID set (uuid:1-5)'), schema: z.string().trim().regex(/^[0-9A-Za-z:,\-\s]*$/) },
  binlog_heartbeat_interval_secs: int(0),
  binlog_timeout_secs: int(1),
  heartbeat_interval_secs: int(1),
  heartbeat_tb: text('db.table'),
  start_time_utc: time(),
  end_time_utc: time(),
} satisfies Record<string, Field<unknown>>;

/** `db.table` with optional backquotes (`` `my db`.`t.1` ``), as ape-dts' token parser reads it for MySQL. */
export function parseDbTable(value: string, where: string): TableRef {
  const tokens = scan(value, { delims: '.', quotes: ['`'], regex: false, where });
  if (tokens.length !== 2 || tokens.some((t) => !t.value)) {
    throw new FerryError('CF001', `${where}: expected db.table, got ${JSON.stringify(value)}`, { details: { key: where } });
  }
  return { db: tokens[0].value, tb: tokens[1].value };
}

/** Reads and validates the keys: CF002 for a missing server_id, CF001 naming `extractor.<key>` otherwise. */
export function readMysqlCdcConfig(raw: Record<string, unknown>): MysqlCdcConfig {
  const v = readSection('extractor', fields, raw ?? {});
  if (v.start_time_utc !== undefined && v.end_time_utc !== undefined && v.end_time_utc <= v.start_time_utc) {
    throw invalid('extractor.end_time_utc', 'a time after extractor.start_time_utc', raw.end_time_utc);
  }
  if (v.binlog_position !== undefined && v.binlog_position > 0 && !v.binlog_filename) {
    throw new FerryError('CF002', 'extractor.binlog_filename: expected the file extractor.binlog_position is in, got nothing', {
      details: { key: 'extractor.binlog_filename' },
    });
  }
  return {
    serverId: v.server_id!,
    ...(v.binlog_filename ? { binlogFilename: v.binlog_filename } : {}),
    binlogPosition: Math.max(4, v.binlog_position ?? 4),
    gtidEnabled: v.gtid_enabled ?? false,
    ...(v.gtid_set ? { gtidSet: v.gtid_set.replace(/\s+/g, '') } : {}),
    binlogHeartbeatIntervalSecs: v.binlog_heartbeat_interval_secs ?? 10,
    binlogTimeoutSecs: v.binlog_timeout_secs ?? 60,
    heartbeatIntervalSecs: v.heartbeat_interval_secs ?? 10,
    ...(v.heartbeat_tb ? { heartbeatTable: parseDbTable(v.heartbeat_tb, 'extractor.heartbeat_tb') } : {}),
    ...(v.start_time_utc !== undefined ? { startTimeMs: v.start_time_utc } : {}),
    ...(v.end_time_utc !== undefined ? { endTimeMs: v.end_time_utc } : {}),
  };
}
