import { query } from '../../../test/support/sql.ts';

/**
 * Row count plus an order-independent content hash that both engines compute identically: the sum over rows
 * of the first 60 bits of md5('id,k,c,pad'). CHAR values compare without their pad spaces (MariaDB strips
 * them on read, PostgreSQL on the explicit ::text cast -- concat_ws alone
 * would keep them), so a MariaDB table and its PostgreSQL copy hash the same.
 * With the primary key, equal count + equal hash means the same rows (up to a 2^-60 accident).
 */
export interface TableChecksum {
  rows: number;
  hash: string;
}

const MYSQL_HASH = `COUNT(*) AS n, CAST(COALESCE(SUM(CAST(CONV(SUBSTR(MD5(CONCAT_WS(',', id, k, c, pad)), 1, 15), 16, 10) AS UNSIGNED)), 0) AS CHAR) AS h`;
const PG_HASH = `count(*) AS n, coalesce(sum(('x' || substr(md5(concat_ws(',', id, k, c::text, pad::text)), 1, 15))::bit(60)::bigint), 0)::text AS h`;

/** `table` is already quoted for the engine, e.g. `` `db`.sbtest1 `` or `"schema".sbtest1`. */
export async function checksum(url: string, table: string): Promise<TableChecksum> {
  const sql = url.startsWith('mysql://') ? `SELECT ${MYSQL_HASH} FROM ${table}` : `SELECT ${PG_HASH} FROM ${table}`;
  const [r] = await query<{ n: string | number; h: string }>(url, sql);
  return { rows: Number(r.n), hash: String(r.h) };
}

export const sameChecksum = (a: TableChecksum, b: TableChecksum): boolean => a.rows === b.rows && a.hash === b.hash;
