import mysql from 'mysql2/promise';
import pg from 'pg';

/**
 * One long-lived connection of either engine, for the load writers and the catch-up pollers (the test
 * helpers in test/support/sql.ts open a connection per call: fine for setup, too slow for thousands of
 * round trips). MySQL connections allow several statements per round trip.
 */
export interface SqlConn {
  engine: 'mysql' | 'pg';
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  close(): Promise<void>;
}

export async function connect(url: string): Promise<SqlConn> {
  if (url.startsWith('mysql://')) {
    const c = await mysql.createConnection({ uri: url, multipleStatements: true, charset: 'utf8mb4', supportBigNumbers: true, bigNumberStrings: true });
    return {
      engine: 'mysql',
      query: async <T>(sql: string) => {
        const [rows] = await c.query(sql);
        return (Array.isArray(rows) ? rows : []) as T[];
      },
      close: () => c.end().catch(() => undefined),
    };
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  c.on('error', () => undefined); // a server-side termination during cleanup is not the bench's failure
  return {
    engine: 'pg',
    query: async <T>(sql: string) => {
      const r = (await c.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[];
      return (Array.isArray(r) ? (r[r.length - 1]?.rows ?? []) : r.rows) as T[];
    },
    close: () => c.end().catch(() => undefined),
  };
}

/**
 * `stmts` sent in one round trip, each its own transaction: MySQL autocommits every statement; a
 * PostgreSQL multi-statement string is one implicit transaction unless BEGIN/COMMIT split it.
 */
export const transactions = (engine: 'mysql' | 'pg', stmts: string[]): string =>
  engine === 'mysql' ? stmts.join(';') : stmts.map((s) => `BEGIN;${s};COMMIT;`).join('');
