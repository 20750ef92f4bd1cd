/**
 * A lazily created mysql2 pool with ferry's session settings, connect retries and abortable queries.
 *
 * Invariants:
 * - No connection is opened before the first query (Lambda cold starts stay cheap; a metadata-only run
 *   never opens a second pool).
 * - Every connection handed out has run its session setup: time_zone '+00:00' (TIMESTAMP read and written
 *   in UTC) and, for sinks, a strict sql_mode that still accepts zero dates, NO_AUTO_VALUE_ON_ZERO (an id 0
 *   stays 0) and, when asked, foreign_key_checks = 0.
 * - A query whose signal aborts destroys its connection (the server then drops the statement) and rejects
 *   with RT001; a destroyed connection is never returned to the pool.
 */
import type { Readable } from 'node:stream';
import type { ConnectionOptions } from 'mysql2';
import { slabSocket } from './socket.ts';
import { createPool, type Pool, type PoolConnection, type QueryOptions } from 'mysql2/promise';
import { FerryError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { abortError, connectRetryOptions, retry, throwIfAborted } from '../../core/signal.ts';
import type { ResolvedMysqlConfig } from './config.ts';
import { classify, type DriverError } from './errors.ts';

export type SessionRole = 'source' | 'sink';

export interface ConnectRetry {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export interface ClientOptions {
  role: SessionRole;
  logger: Logger;
  disableForeignKeyChecks?: boolean;
  /** Backoff for opening connections (default: core connectRetryOptions, i.e. FERRY_CONNECT_RETRIES). */
  connectRetry?: ConnectRetry;
}

export interface ServerInfo {
  version: string;
  isMariaDb: boolean;
  /** MySQL >= 8.0.19 takes `INSERT ... AS new ON DUPLICATE KEY UPDATE c = new.c`; VALUES() is deprecated there. */
  rowAlias: boolean;
  maxAllowedPacket: number;
  /** The server accepts LOAD DATA LOCAL INFILE (MariaDB default on; MySQL 8 default off). */
  localInfile: boolean;
}

/**
 * Sink sql_mode: strict for every engine (a value that does not fit errors, instead of being truncated with
 * a warning), without NO_ZERO_DATE/NO_ZERO_IN_DATE so the zero dates a source holds are copied as they are.
 */
export const SINK_SQL_MODE = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION';

const destroyed = new WeakSet<object>();

export class MysqlClient {
  private pool: Pool | undefined;
  private plain = false;
  private readonly initialized = new WeakSet<object>();
  private info: ServerInfo | undefined;

  constructor(
    readonly cfg: ResolvedMysqlConfig,
    private readonly opts: ClientOptions,
  ) {}

  get address(): string {
    return this.cfg.address;
  }

  get logger(): Logger {
    return this.opts.logger;
  }

  /**
   * Options for a connection outside the pool (the binlog reader), with the TLS fallback the pool learnt:
   * call after a first query, so `ssl-mode=preferred` against a TLS-less server connects in plain text.
   */
  connectionOptions(): ConnectionOptions {
    const { connectionLimit: _l, maxIdle: _m, idleTimeout: _i, waitForConnections: _w, queueLimit: _q, ...conn } = this.cfg.pool;
    return this.plain ? { ...conn, ssl: undefined } : conn;
  }

  private getPool(): Pool {
    if (!this.pool) {
      const c = this.plain ? { ...this.cfg.pool, ssl: undefined } : this.cfg.pool;
      // Plain-text connections read into slabs (socket.ts); TLS ones keep Node's socket.
      const { host = 'localhost', port = 3306, enableKeepAlive, keepAliveInitialDelay } = c;
      const stream = c.ssl ? undefined : () => slabSocket(host, port, { keepAliveMs: enableKeepAlive ? (keepAliveInitialDelay ?? 0) : undefined });
      this.pool = createPool(stream ? { ...c, stream } : c);
    }
    return this.pool;
  }

  /** A ready connection; retries refused/timed-out connects with backoff, then CN001 naming host:port. */
  async connection(signal: AbortSignal): Promise<PoolConnection> {
    const r = this.opts.connectRetry ?? connectRetryOptions();
    let attempts = 0;
    try {
      return await retry(
        async (attempt) => {
          attempts = attempt;
          return this.connectOnce(signal);
        },
        {
          ...r,
          signal,
          onRetry: (e, attempt, waitMs) =>
            this.logger.warn('mysql connect failed, retrying', { address: this.address, attempt, waitMs, error: (e as Error).message }),
        },
      );
    } catch (e) {
      if (e instanceof FerryError && e.code === 'CN001') {
        const why = e.cause instanceof Error ? `${e.cause.message}${(e.cause as DriverError).code ? ` (${(e.cause as DriverError).code})` : ''}` : e.message;
        throw new FerryError('CN001', `cannot connect to MySQL at ${this.address} after ${attempts} attempt(s): ${why}`, {
          cause: e,
          details: { address: this.address, attempts },
        });
      }
      throw e;
    }
  }

  private async connectOnce(signal: AbortSignal): Promise<PoolConnection> {
    throwIfAborted(signal);
    let conn: PoolConnection;
    const pool = this.getPool();
    try {
      conn = await raceAbort(pool.getConnection(), signal, (late) => late.release());
    } catch (e) {
      if ((e as DriverError).code === 'HANDSHAKE_NO_SSL_SUPPORT' && this.cfg.sslMode === 'preferred') {
        // ssl-mode=preferred against a server without TLS: continue in plain text, as the mysql CLI does.
        // Concurrent first connects all land here; only the first swaps the pool.
        if (!this.plain) {
          this.logger.info('mysql server has no TLS; ssl-mode=preferred continues without it', { address: this.address });
          this.plain = true;
          this.pool = undefined;
          void endPool(pool);
        }
        return this.connectOnce(signal);
      }
      // The pool was swapped (TLS fallback) while we waited on the old one: use the new one.
      if (this.pool !== undefined && this.pool !== pool) return this.connectOnce(signal);
      throw classify(e, `connect ${this.address}`);
    }
    if (!this.initialized.has(conn.connection)) {
      try {
        await run(conn, this.sessionSql(), signal);
        this.initialized.add(conn.connection);
      } catch (e) {
        if (!destroyed.has(conn)) conn.destroy();
        throw classify(e, `session setup on ${this.address}`);
      }
    }
    return conn;
  }

  private sessionSql(): string {
    const sets = ["time_zone = '+00:00'"];
    if (this.opts.role === 'sink') {
      sets.push(`sql_mode = '${SINK_SQL_MODE}'`);
      if (this.opts.disableForeignKeyChecks) sets.push('foreign_key_checks = 0');
    } else {
      // Source literals escape backslashes; a server default of NO_BACKSLASH_ESCAPES would misread them.
      sets.push("sql_mode = TRIM(BOTH ',' FROM REPLACE(REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', ''), ',,', ','))");
      // A paused consumer (backpressure) must not make the server drop a streaming whole-table read.
      sets.push('net_write_timeout = 3600');
    }
    return 'SET ' + sets.map((s) => `SESSION ${s}`).join(', ');
  }

  /** Runs `fn` on one connection, released afterwards (destroyed instead when a query was aborted). */
  async withConnection<T>(signal: AbortSignal, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
    const conn = await this.connection(signal);
    try {
      return await fn(conn);
    } finally {
      release(conn);
    }
  }

  /** One statement on a pooled connection. */
  async query<T = unknown>(sql: string, signal: AbortSignal, o: { rowsAsArray?: boolean; context?: string } = {}): Promise<T[]> {
    return this.withConnection(signal, async (conn) => {
      try {
        return (await run(conn, sql, signal, o.rowsAsArray)) as T[];
      } catch (e) {
        throw classify(e, o.context ?? this.address);
      }
    });
  }

  /**
   * An information_schema query. Text columns come back as strings even where a server reports them as
   * binary (some MySQL 8 catalog columns), so callers can compare names.
   */
  async catalog<T extends object>(sql: string, signal: AbortSignal, context?: string): Promise<T[]> {
    const rows = await this.query<Record<string, unknown>>(sql, signal, { context });
    for (const r of rows) for (const k in r) if (Buffer.isBuffer(r[k])) r[k] = (r[k] as Buffer).toString('utf8');
    return rows as T[];
  }

  async server(signal: AbortSignal): Promise<ServerInfo> {
    if (this.info) return this.info;
    const [r] = await this.query<{ v: string; p: number; li: number }>('SELECT VERSION() AS v, @@max_allowed_packet AS p, @@local_infile AS li', signal);
    const isMariaDb = /mariadb/i.test(r.v);
    const [maj, min, patch] = r.v.split(/[.-]/).map((x) => Number(x));
    const rowAlias = !isMariaDb && (maj > 8 || (maj === 8 && (min > 0 || patch >= 19)));
    this.info = { version: r.v, isMariaDb, rowAlias, maxAllowedPacket: Number(r.p), localInfile: Number(r.li) === 1 };
    return this.info;
  }

  async end(): Promise<void> {
    const p = this.pool;
    this.pool = undefined;
    if (p) await endPool(p);
  }
}

/**
 * Ends a pool, waiting at most 5 s: mysql2's `end()` can wait forever on a connection whose handshake
 * failed, and closing must never hang a Lambda or the CLI.
 */
async function endPool(pool: Pool): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([pool.end().catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, 5_000).unref()))]);
  clearTimeout(timer);
}

/** Returns a connection to its pool unless an abort destroyed it. */
export function release(conn: PoolConnection): void {
  if (!destroyed.has(conn)) conn.release();
}

export const isDestroyed = (conn: PoolConnection): boolean => destroyed.has(conn);

/** Destroys a connection (never returned to the pool afterwards). */
export function destroy(conn: PoolConnection): void {
  if (destroyed.has(conn)) return;
  destroyed.add(conn);
  conn.destroy();
}

/**
 * Rolls back the connection's open transaction. A connection an abort destroyed needs nothing; one whose
 * ROLLBACK fails is gone (aborted or lost) and is destroyed: the server rolls the transaction back itself.
 */
export async function rollback(conn: PoolConnection): Promise<void> {
  if (isDestroyed(conn)) return;
  try {
    await conn.query('ROLLBACK');
  } catch {
    destroy(conn);
  }
}

/**
 * One statement, abortable: on abort the connection is destroyed and the call rejects with RT001.
 * Driver errors are rethrown raw; callers classify them with their own context.
 */
export async function run(conn: PoolConnection, sql: string | RunSpec, signal: AbortSignal, rowsAsArray = false): Promise<unknown> {
  throwIfAborted(signal);
  const spec = typeof sql === 'string' ? { sql } : sql;
  const [rows] = await raceAbort(conn.query({ ...spec, rowsAsArray } as QueryOptions), signal, undefined, () => destroy(conn));
  return rows;
}

/** A statement plus the stream LOAD DATA LOCAL INFILE reads (the server asks for it by name; we ignore the name). */
export interface RunSpec {
  sql: string;
  infileStreamFactory?: (path: string) => Readable;
}

/** Settles with `p`, or rejects with RT001 as soon as `signal` fires (then `onAbort` runs; a late result goes to `onLate`). */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal, onLate?: (v: T) => void, onAbort?: () => void): Promise<T> {
  if (signal.aborted) {
    p.then((v) => onLate?.(v), () => undefined);
    onAbort?.();
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const abort = () => {
      if (done) return;
      done = true;
      onAbort?.();
      reject(abortError(signal));
    };
    signal.addEventListener('abort', abort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        if (done) onLate?.(v);
        else {
          done = true;
          resolve(v);
        }
      },
      (e) => {
        signal.removeEventListener('abort', abort);
        if (!done) {
          done = true;
          reject(e);
        }
      },
    );
  });
}
