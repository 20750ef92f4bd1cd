import type { Position } from '../../core/change.ts';
import { FerryError } from '../../core/errors.ts';

/**
 * MySQL/MariaDB binlog positions.
 *
 * A resumable position is a binlog file and the byte offset of the event that follows -- for a commit, the
 * end of its XID (or COMMIT / DDL query) event, so streaming from it starts with the next transaction.
 * `order` is `<file sequence, 10 digits>:<offset, 20 digits>`, so comparing `order` strings is comparing
 * binlog coordinates (`binlog.000012` has sequence 12; files rotate in sequence order).
 * `gtid` (MariaDB `domain-server-seq[,...]`, the @@gtid_binlog_pos form; MySQL `uuid:1-5`) is the GTID
 * position of everything up to the position, carried for operators and tools; resume uses file + pos, or
 * the GTID only when a position has no file (a configured `gtid_set` start).
 */
export const MYSQL_POSITION_KIND = 'mysql';

export interface MysqlPositionData {
  /** Binlog file name; '' for a start given only as a GTID set. */
  file: string;
  /** Byte offset in `file` of the next event to read. */
  pos: number;
  gtid?: string;
  [k: string]: unknown;
}

/** The numeric suffix of a binlog file name (`mysql-bin.000035` -> 35); 0 when there is none. */
export function fileSequence(file: string): number {
  const m = /\.(\d+)$/.exec(file);
  return m ? Number(m[1]) : 0;
}

/** The `order` string of a file/pos pair. */
export const binlogOrder = (file: string, pos: number): string =>
  `${String(fileSequence(file)).padStart(10, '0')}:${String(pos).padStart(20, '0')}`;

export function mysqlPosition(file: string, pos: number, gtid?: string): Position {
  return { kind: MYSQL_POSITION_KIND, order: binlogOrder(file, pos), data: { file, pos, ...(gtid ? { gtid } : {}) } };
}

/**
 * The position of the `seq`-th row change of a transaction that follows the resumable position `base`:
 * `order` sorts after `base` and before the transaction's own commit (whose offset is larger), and its data
 * is `base`'s -- resuming there re-delivers the whole transaction (a safe duplicate), never skips it.
 * Informational: only CommitMark and Heartbeat positions are committed.
 */
export function rowPosition(base: Position, seq: number): Position {
  return { kind: MYSQL_POSITION_KIND, order: `${base.order}.${seq.toString(16).padStart(8, '0')}`, data: base.data };
}

/** The data of a mysql position; RT002 when `p` is not one (a checkpoint of another source). */
export function positionData(p: Position): MysqlPositionData {
  const d = p?.data as Partial<MysqlPositionData> | undefined;
  if (p?.kind !== MYSQL_POSITION_KIND || typeof d?.file !== 'string' || typeof d.pos !== 'number' || !Number.isInteger(d.pos) || d.pos < 0) {
    throw new FerryError('RT002', `not a MySQL binlog position: ${JSON.stringify(p)?.slice(0, 200)}`);
  }
  if (!d.file && !d.gtid) throw new FerryError('RT002', 'MySQL binlog position has neither a file nor a GTID set');
  return d as MysqlPositionData;
}
