/**
 * MySQL/MariaDB helpers for integration tests: a fresh database per test file, SQL (files) executed as
 * they are written, and an EndpointConfig pointing at the test server.
 *
 *   const db = await freshMysqlDb('mytest');      // creates `mytest_<pid>_<n>`
 *   await db.exec('CREATE TABLE t (...); INSERT ...');
 *   const rows = await db.query('SELECT ...');
 *   after(() => db.drop());
 */
import { readFile } from 'node:fs/promises';
import { createConnection, type Connection } from 'mysql2/promise';
import type { EndpointConfig, SinkerConfig } from '../../lib/config/types.ts';
import { quoteIdent } from '../../lib/connectors/mysql/sql.ts';
import { testUrls, uniqueName } from './services.ts';

/** An endpoint for the test server (the URL as ape-dts writes it: no database path). */
export function mysqlEndpoint(over: Partial<SinkerConfig> = {}): EndpointConfig & Partial<SinkerConfig> {
  return { dbType: 'mysql', url: testUrls.mysql, maxConnections: 4, batchSize: 1000, raw: {}, ...over };
}

/** A plain admin connection (multi-statement, utf8mb4, UTC), rows as the driver's defaults but dates as text. */
export async function mysqlAdmin(url = testUrls.mysql): Promise<Connection> {
  const conn = await createConnection({ uri: url, multipleStatements: true, charset: 'utf8mb4_general_ci', dateStrings: true, jsonStrings: true, supportBigNumbers: true, bigNumberStrings: true });
  await conn.query("SET time_zone = '+00:00'");
  return conn;
}

export interface TestDb {
  name: string;
  conn: Connection;
  /** Runs one or more `;`-separated statements with the database selected. */
  exec(sql: string): Promise<void>;
  /** Runs a .sql file's statements. */
  execFile(path: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  drop(): Promise<void>;
}

/** Creates a fresh, empty database (utf8mb4) named `<prefix>_<pid>_<n>` unless `name` is given. */
export async function freshMysqlDb(prefix: string, name = uniqueName(prefix)): Promise<TestDb> {
  const conn = await mysqlAdmin();
  const q = quoteIdent(name);
  await conn.query(`DROP DATABASE IF EXISTS ${q}; CREATE DATABASE ${q} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci; USE ${q}`);
  const exec = async (sql: string) => {
    await conn.query(sql);
  };
  return {
    name,
    conn,
    exec,
    execFile: async (path) => exec(await readFile(path, 'utf8')),
    query: async <T>(sql: string) => (await conn.query(sql))[0] as T[],
    drop: async () => {
      try {
        await conn.query(`DROP DATABASE IF EXISTS ${q}`);
      } finally {
        await conn.end();
      }
    },
  };
}

/**
 * `SELECT` of every column in a form whose text is exact whatever the type: HEX for bytes/strings/bits/
 * geometry, the exact double for FLOAT/DOUBLE, CAST AS CHAR for the rest. Compare two tables with it.
 */
export function exactSelect(db: string, tb: string, columns: Array<{ name: string; family: string }>, orderBy: string[]): string {
  const expr = (c: { name: string; family: string }) => {
    const q = quoteIdent(c.name);
    if (['binary', 'string', 'bit', 'geometry', 'json'].includes(c.family)) return `HEX(${q})`;
    if (c.family === 'float') return `CAST(${q} AS DOUBLE)`;
    return `CAST(${q} AS CHAR)`;
  };
  const cols = columns.map((c) => `${expr(c)} AS ${quoteIdent(c.name)}`).join(', ');
  return `SELECT ${cols} FROM ${quoteIdent(db)}.${quoteIdent(tb)} ORDER BY ${orderBy.map(quoteIdent).join(', ')}`;
}
