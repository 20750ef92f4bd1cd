import { readFile } from 'node:fs/promises';
import mysql from 'mysql2/promise';
import pg from 'pg';

/**
 * Runs a SQL script (several statements) against a test server, for e2e case folders and fixtures.
 * `url` is a mysql:// or postgres:// URL as in task configs.
 */
export async function execSql(url: string, sql: string): Promise<void> {
  if (!sql.trim()) return;
  if (url.startsWith('mysql://')) {
    const c = await mysql.createConnection({ uri: url, multipleStatements: true, charset: 'utf8mb4' });
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  } else {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  }
}

export async function execSqlFile(url: string, path: string): Promise<void> {
  await execSql(url, await readFile(path, 'utf8'));
}

/** Runs one query and returns its rows (test assertions). */
export async function query<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  if (url.startsWith('mysql://')) {
    const c = await mysql.createConnection({ uri: url, charset: 'utf8mb4', supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
    try {
      const [rows] = await c.query(sql, params);
      return rows as T[];
    } finally {
      await c.end();
    }
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}
