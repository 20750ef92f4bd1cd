/**
 * TiDB's quirks as options of the MySQL sinker (docs/connectors/tidb.md explains each):
 * - No LOAD DATA fast path: REPLACE INTO / INSERT ... ON DUPLICATE KEY UPDATE statements only, so a batch
 *   stays one transaction whatever the TiDB version's LOAD DATA batching does.
 * - Statements bounded by `txn_entry_size_limit` (ferry key, bytes; TiDB's default 6 MiB per entry) and kept
 *   well under `txn_total_size_limit` (ferry key, bytes; TiDB's default 100 MiB), since a batch is one
 *   transaction: statement budget = min(4 MiB, entry limit, total limit / 8).
 */
import { FerryError } from '../../core/errors.ts';

export interface TidbSinkOptions {
  loadData: false;
  statementBytes: number;
  /** TiDB's txn-total-size-limit as configured (bytes): docs tell users to keep batch_size x row bytes under it. */
  txnTotalSizeLimit: number;
}

export const TIDB_TXN_TOTAL_SIZE_LIMIT = 100 * 1024 * 1024;
export const TIDB_TXN_ENTRY_SIZE_LIMIT = 6 * 1024 * 1024;
const STATEMENT_BYTES = 4 * 1024 * 1024;

function bytes(raw: Record<string, string>, key: string, dflt: number): number {
  const v = raw[key]?.trim();
  if (v === undefined || v === '') return dflt;
  if (!/^\d+$/.test(v) || Number(v) < 65536) throw new FerryError('CF001', `sinker.${key}: expected a byte count >= 65536, got "${v.slice(0, 40)}"`, { details: { key: `sinker.${key}` } });
  return Number(v);
}

export function tidbSinkOptions(raw: Record<string, string> = {}): TidbSinkOptions {
  const total = bytes(raw, 'txn_total_size_limit', TIDB_TXN_TOTAL_SIZE_LIMIT);
  const entry = bytes(raw, 'txn_entry_size_limit', TIDB_TXN_ENTRY_SIZE_LIMIT);
  return { loadData: false, statementBytes: Math.max(65536, Math.min(STATEMENT_BYTES, entry, Math.floor(total / 8))), txnTotalSizeLimit: total };
}
