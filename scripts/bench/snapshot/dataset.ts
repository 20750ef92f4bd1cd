import { execSql, query } from '../../../test/support/sql.ts';
import type { Servers } from '../support/servers.ts';

/**
 * The sysbench `sbtest1` table, generated inside each server (no client round trips): MariaDB from its
 * SEQUENCE engine (`seq_1_to_N`), PostgreSQL from generate_series. Values are sysbench-shaped (c = 10
 * groups of 11 digits, pad = 5 groups, joined by '-'; k in 1..N) but derived from md5(id) rather than
 * RAND(), so both engines hold byte-identical rows and the same checksum: a run can be re-checked anywhere.
 */
export const SOURCE_DB = 'ferry_bench';
export const TABLE = 'sbtest1';

/** Rows per INSERT ... SELECT: a few big statements, each one transaction of bounded size. */
const STATEMENT_ROWS = 500_000;

const myGroup = (i: number) => `LPAD(CAST(CONV(SUBSTR(MD5(CONCAT(seq, ':${i}')), 1, 12), 16, 10) AS UNSIGNED) MOD 100000000000, 11, '0')`;
const pgGroup = (i: number) => `lpad((('x' || substr(md5(g || ':${i}'), 1, 12))::bit(48)::bigint % 100000000000)::text, 11, '0')`;
const groups = (f: (i: number) => string, from: number, n: number) => Array.from({ length: n }, (_, j) => f(from + j)).join(', ');

export const MYSQL_DDL = (db: string, withK = true) =>
  `CREATE TABLE \`${db}\`.${TABLE} (id INT NOT NULL, k INT NOT NULL DEFAULT 0, c CHAR(120) NOT NULL DEFAULT '', ` +
  `pad CHAR(60) NOT NULL DEFAULT '', PRIMARY KEY (id)${withK ? ', KEY k_1 (k)' : ''}) ENGINE=InnoDB`;

export const PG_DDL = (schema: string, withK = true) =>
  `CREATE TABLE "${schema}".${TABLE} (id INT NOT NULL PRIMARY KEY, k INT NOT NULL DEFAULT 0, c CHAR(120) NOT NULL DEFAULT '', ` +
  `pad CHAR(60) NOT NULL DEFAULT '');${withK ? ` CREATE INDEX k_1 ON "${schema}".${TABLE} (k);` : ''}`;

function slices(rows: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let a = 1; a <= rows; a += STATEMENT_ROWS) out.push([a, Math.min(rows, a + STATEMENT_ROWS - 1)]);
  return out;
}

async function countOr(url: string, sql: string): Promise<number> {
  try {
    const [r] = await query<{ n: string | number }>(url, sql);
    return Number(r.n);
  } catch {
    return -1; // missing table
  }
}

export interface DatasetState {
  engine: 'mysql' | 'pg';
  rows: number;
  reused: boolean;
  seconds: number;
}

/** Creates `ferry_bench.sbtest1` in MariaDB with `rows` rows, or keeps it when it already has them. */
export async function ensureMysqlDataset(s: Servers, rows: number, fresh: boolean): Promise<DatasetState> {
  const t0 = performance.now();
  if (!fresh && (await countOr(s.mysql.url, `SELECT COUNT(*) AS n FROM \`${SOURCE_DB}\`.${TABLE}`)) === rows) {
    return { engine: 'mysql', rows, reused: true, seconds: 0 };
  }
  // The generated rows stay out of the binlog: they are not a change anyone replicates.
  await execSql(s.mysql.url, `SET SESSION sql_log_bin = 0; DROP DATABASE IF EXISTS \`${SOURCE_DB}\`; CREATE DATABASE \`${SOURCE_DB}\`; ${MYSQL_DDL(SOURCE_DB, false)};`);
  for (const [a, b] of slices(rows)) {
    await execSql(
      s.mysql.url,
      `SET SESSION sql_log_bin = 0; INSERT INTO \`${SOURCE_DB}\`.${TABLE} (id, k, c, pad) SELECT seq, ` +
        `1 + CAST(CONV(SUBSTR(MD5(CONCAT(seq, ':k')), 1, 12), 16, 10) AS UNSIGNED) MOD ${rows}, ` +
        `CONCAT_WS('-', ${groups(myGroup, 0, 10)}), CONCAT_WS('-', ${groups(myGroup, 10, 5)}) FROM \`${SOURCE_DB}\`.seq_${a}_to_${b};`,
    );
  }
  // As sysbench: the secondary index after the load; ANALYZE so the planner's row estimate is right.
  await execSql(s.mysql.url, `SET SESSION sql_log_bin = 0; ALTER TABLE \`${SOURCE_DB}\`.${TABLE} ADD KEY k_1 (k); ANALYZE TABLE \`${SOURCE_DB}\`.${TABLE};`);
  return { engine: 'mysql', rows, reused: false, seconds: (performance.now() - t0) / 1000 };
}

/** Creates schema `ferry_bench` with `sbtest1` in PostgreSQL (database postgres), or keeps it. */
export async function ensurePgDataset(s: Servers, rows: number, fresh: boolean): Promise<DatasetState> {
  const t0 = performance.now();
  if (!fresh && (await countOr(s.pg.url, `SELECT COUNT(*) AS n FROM "${SOURCE_DB}".${TABLE}`)) === rows) {
    return { engine: 'pg', rows, reused: true, seconds: 0 };
  }
  await execSql(s.pg.url, `DROP SCHEMA IF EXISTS "${SOURCE_DB}" CASCADE; CREATE SCHEMA "${SOURCE_DB}"; ${PG_DDL(SOURCE_DB, false)}`);
  for (const [a, b] of slices(rows)) {
    await execSql(
      s.pg.url,
      `INSERT INTO "${SOURCE_DB}".${TABLE} (id, k, c, pad) SELECT g, ` +
        `1 + (('x' || substr(md5(g || ':k'), 1, 12))::bit(48)::bigint % ${rows})::int, ` +
        `concat_ws('-', ${groups(pgGroup, 0, 10)}), concat_ws('-', ${groups(pgGroup, 10, 5)}) FROM generate_series(${a}, ${b}) g;`,
    );
  }
  await execSql(s.pg.url, `CREATE INDEX k_1 ON "${SOURCE_DB}".${TABLE} (k)`);
  // VACUUM refuses a multi-statement string (an implicit transaction): its own call.
  await execSql(s.pg.url, `VACUUM ANALYZE "${SOURCE_DB}".${TABLE}`);
  return { engine: 'pg', rows, reused: false, seconds: (performance.now() - t0) / 1000 };
}
