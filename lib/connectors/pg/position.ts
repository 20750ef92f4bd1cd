import { FerryError } from '../../core/errors.ts';
import type { Position } from '../../core/change.ts';

/**
 * PostgreSQL LSNs and positions.
 *
 * An LSN is a 64-bit WAL byte offset, printed by the server as two hex halves `X/Y`. Every comparison is done
 * on bigint (a JS number loses precision above 2^53, which WAL positions of long-lived clusters reach).
 * A Position's `order` is the LSN as 16 zero-padded upper-case hex digits, so comparing `order` strings is
 * comparing LSNs.
 */
export const PG_POSITION_KIND = 'pg';

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;
const MAX_LSN = (1n << 64n) - 1n;

/** 'X/Y' -> bigint; null when `text` is not an LSN. */
export function tryParseLsn(text: string): bigint | null {
  const m = LSN_TEXT.exec(text.trim());
  if (!m) return null;
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** 'X/Y' -> bigint; RT002 naming `what` when it is not an LSN (a corrupt position or server reply). */
export function parseLsn(text: string, what = 'LSN'): bigint {
  const n = tryParseLsn(text);
  if (n === null) throw new FerryError('RT002', `${what}: expected a PostgreSQL LSN like 16/B374D848, got ${JSON.stringify(text)}`);
  return n;
}

/** bigint -> 'X/Y' exactly as PostgreSQL prints it (upper-case hex, no padding), so it can go back into SQL. */
export function formatLsn(n: bigint): string {
  if (n < 0n || n > MAX_LSN) throw new FerryError('RT002', `LSN out of range: ${n}`);
  return `${(n >> 32n).toString(16).toUpperCase()}/${(n & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** The `order` form: 16 hex digits, zero-padded, so string order is LSN order. */
export const lsnOrder = (n: bigint): string => n.toString(16).toUpperCase().padStart(16, '0');

export const compareLsn = (a: bigint, b: bigint): -1 | 0 | 1 => (a < b ? -1 : a > b ? 1 : 0);

export const maxLsn = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** What a pg Position's `data` holds (JSON-safe: LSNs as 'X/Y' text). */
export interface PgPositionData {
  /** Where streaming resumes / what is acknowledged: a commit's end LSN, a keepalive's WAL end, a slot point. */
  lsn: string;
  /** Row changes: the LSN of the change's own WAL record (informational). */
  changeLsn?: string;
  /** Commit marks and row changes: the start LSN of the transaction's commit record. */
  commitLsn?: string;
  xid?: number;
  [k: string]: unknown;
}

/** A position at `lsn` (resumable: streaming from it delivers every transaction committing after it). */
export function pgPosition(lsn: bigint, extra: Omit<PgPositionData, 'lsn'> = {}): Position {
  return { kind: PG_POSITION_KIND, order: lsnOrder(lsn), data: { ...extra, lsn: formatLsn(lsn) } };
}

/** Per-transaction parts of change positions, computed once at BEGIN (row changes are many). */
export interface TxPositionBase {
  /** lsnOrder(commit start). */
  order: string;
  /** formatLsn(commit start). */
  lsn: string;
  xid: number;
}

export const txPositionBase = (commitLsn: bigint, xid: number): TxPositionBase => ({ order: lsnOrder(commitLsn), lsn: formatLsn(commitLsn), xid });

/**
 * The position of the `seq`-th change of a transaction whose commit record starts at `tx.lsn`.
 * Its `order` sorts after the previous transaction's commit end (which is <= the commit start) and before
 * this transaction's own commit end (> the commit start), so orders stay monotonic in stream order even
 * though the change LSNs of interleaved transactions are not. `data.lsn` is the commit start: resuming there
 * re-delivers the whole transaction (a safe duplicate), never skips it. Informational: only CommitMark and
 * Heartbeat positions are committed.
 */
export function pgChangePosition(tx: TxPositionBase, seq: number, changeLsn: string): Position {
  return {
    kind: PG_POSITION_KIND,
    order: `${tx.order}.${seq.toString(16).toUpperCase().padStart(8, '0')}`,
    data: { lsn: tx.lsn, changeLsn, commitLsn: tx.lsn, xid: tx.xid },
  };
}

/** The LSN a position resumes at; RT002 when it is not a pg position (a checkpoint of another source). */
export function lsnOfPosition(p: Position): bigint {
  if (p?.kind !== PG_POSITION_KIND || typeof p.data?.lsn !== 'string') {
    throw new FerryError('RT002', `not a PostgreSQL position: ${JSON.stringify(p)?.slice(0, 200)}`);
  }
  return parseLsn(p.data.lsn, 'position.data.lsn');
}
