/**
 * The FE's MySQL-protocol side (StarRocks / Doris query port): table shapes for the sinker, DDL for the
 * structure writer. mysql2 is used directly (connectors never import each other, so not the mysql connector).
 *
 * Invariants: the pool is created lazily (no connection before the first query); errors are classified
 * (AU001 access denied, CN001 unreachable, MD001 unknown database/table, ST001 otherwise) and name the
 * FE address, never the password.
 */
import { createPool, type Pool } from 'mysql2/promise';
import { FerryError } from '../../core/errors.ts';
import { abortError } from '../../core/signal.ts';
import type { TableRef } from '../../core/table.ts';
import type { ResolvedOlapConfig } from './config.ts';

export type KeyModel = 'PRIMARY' | 'UNIQUE' | 'DUPLICATE' | 'AGGREGATE' | 'UNKNOWN';

export interface OlapColumn {
  name: string;
  /** Lower-case type name: `int`, `varchar`, `json`, `largeint`, `datetime`... */
  dataType: string;
  nullable: boolean;
}

export interface OlapTableInfo {
  table: TableRef;
  columns: OlapColumn[];
  model: KeyModel;
  keyColumns: string[];
}

/** What the sinker and the structure writer need from the FE (a fake in tests). */
export interface OlapCatalog {
  /** The table's shape, or undefined when it does not exist. */
  describe(t: TableRef, signal: AbortSignal): Promise<OlapTableInfo | undefined>;
  databaseExists(db: string, signal?: AbortSignal): Promise<boolean>;
  /** Runs one statement (DDL, TRUNCATE). */
  execute(sql: string, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'PROTOCOL_CONNECTION_LOST']);

/** The key clause of SHOW CREATE TABLE text: `PRIMARY KEY(`a`, `b`)` after the column list. */
export function parseKeyModel(createSql: string): { model: KeyModel; keyColumns: string[] } {
  // The model clause follows the closing parenthesis of the column list (`) ENGINE=OLAP`).
  const tail = createSql.slice(createSql.search(/\)\s*ENGINE\s*=/i) + 1 || 0);
  const m = /\b(PRIMARY|UNIQUE|DUPLICATE|AGGREGATE)\s+KEY\s*\(((?:`(?:[^`]|``)*`|[^)`])*)\)/i.exec(tail);
  if (!m) return { model: 'UNKNOWN', keyColumns: [] };
  const cols = [...m[2].matchAll(/`((?:[^`]|``)*)`|([^\s,`]+)/g)].map((x) => (x[1] !== undefined ? x[1].replace(/``/g, '`') : x[2]));
  return { model: m[1].toUpperCase() as KeyModel, keyColumns: cols };
}

export const quoteIdent = (name: string): string => '`' + name.replace(/`/g, '``') + '`';
export const quoteTable = (t: TableRef): string => `${quoteIdent(t.db)}.${quoteIdent(t.tb)}`;
export const sqlString = (s: string): string => "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";

export class FeClient implements OlapCatalog {
  private pool?: Pool;
  readonly address: string;

  constructor(private readonly cfg: ResolvedOlapConfig) {
    this.address = `${cfg.fe.host}:${cfg.fe.port}`;
  }

  private get p(): Pool {
    this.pool ??= createPool({
      host: this.cfg.fe.host,
      port: this.cfg.fe.port,
      user: this.cfg.user,
      password: this.cfg.password,
      connectionLimit: Math.min(4, this.cfg.maxConnections),
      waitForConnections: true,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      connectTimeout: 10_000,
    });
    return this.pool;
  }

  async query<T>(sql: string, signal?: AbortSignal): Promise<T[]> {
    if (signal?.aborted) throw abortError(signal);
    try {
      const [rows] = await this.p.query(sql);
      return rows as T[];
    } catch (e) {
      throw this.classify(e, sql);
    }
  }

  classify(e: unknown, sql: string): FerryError {
    const d = e as { code?: string; errno?: number; message?: string };
    const what = sql.replace(/\s+/g, ' ').slice(0, 120);
    if (d.errno === 1045 || d.code === 'ER_ACCESS_DENIED_ERROR') return new FerryError('AU001', `FE ${this.address}: access denied for user ${this.cfg.user}`, { cause: e });
    if (d.code && NETWORK.has(d.code)) return new FerryError('CN001', `FE ${this.address} unreachable (${d.code})`, { cause: e, details: { address: this.address } });
    if (d.errno === 1049 || d.errno === 1146 || /unknown (database|table)|does not exist/i.test(d.message ?? '')) {
      return new FerryError('MD001', `FE ${this.address}: ${d.message} (in: ${what})`, { cause: e });
    }
    return new FerryError('ST001', `FE ${this.address}: ${d.message ?? String(e)} (in: ${what})`, { cause: e, retryable: false, details: { driverCode: d.code } });
  }

  async describe(t: TableRef, signal: AbortSignal): Promise<OlapTableInfo | undefined> {
    const cols = await this.query<{ n: string; t: string; nl: string }>(
      `SELECT COLUMN_NAME AS n, DATA_TYPE AS t, IS_NULLABLE AS nl FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ${sqlString(t.db)} AND TABLE_NAME = ${sqlString(t.tb)} ORDER BY ORDINAL_POSITION`,
      signal,
    );
    if (!cols.length) return undefined;
    const create = await this.query<Record<string, string>>(`SHOW CREATE TABLE ${quoteTable(t)}`, signal);
    const text = create[0]?.['Create Table'] ?? Object.values(create[0] ?? {})[1] ?? '';
    return {
      table: t,
      columns: cols.map((c) => ({ name: c.n, dataType: String(c.t).toLowerCase(), nullable: c.nl === 'YES' })),
      ...parseKeyModel(text),
    };
  }

  async databaseExists(db: string, signal?: AbortSignal): Promise<boolean> {
    const rows = await this.query<{ n: string }>(`SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${sqlString(db)}`, signal);
    return rows.length > 0;
  }

  async execute(sql: string, signal?: AbortSignal): Promise<void> {
    await this.query(sql, signal);
  }

  async close(): Promise<void> {
    const p = this.pool;
    this.pool = undefined;
    await p?.end();
  }
}
