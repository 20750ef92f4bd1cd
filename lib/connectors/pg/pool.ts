import net from 'node:net';
import pg from 'pg';
import type { PoolClient, PoolConfig, QueryConfig } from 'pg';
import { FerryError, isFerryError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { abortError, connectRetryOptions, retry, throwIfAborted } from '../../core/signal.ts';
import { classifyCode, toFerryError } from './errors.ts';
import type { PgPoolSettings, PgTarget } from './config.ts';

const BYTEA_OID = 17;

/**
 * Every column arrives as the server's text: no lossy JS parsing of int8, numeric or timestamps (type-map.ts
 * converts to canonical values). bytea alone becomes a Buffer, since its hex text is never wanted as a string.
 */
const textTypes = {
  getTypeParser(oid: number, format?: string) {
    if (format === 'binary') return (v: unknown) => v;
    if (oid === BYTEA_OID) return (v: string) => Buffer.from(v.slice(2), 'hex');
    return (v: string) => v;
  },
};

export interface PgPoolOptions {
  /** Connection attempts before CN001 (first included); default from FERRY_CONNECT_RETRIES (core policy). */
  connectAttempts?: number;
  connectBaseMs?: number;
  connectMaxMs?: number;
  /**
   * Best-effort statements run on every new session (e.g. `SET session_replication_role = replica`): queued
   * before any other statement; when refused (privilege) a warning is logged once and the session is used as is.
   */
  sessionSql?: string[];
}

/**
 * A lazily created node-postgres pool with ferry's rules: text values, UTC sessions, connect retries with
 * backoff ending in CN001 naming host:port (never the password), and running queries cancelled on abort.
 * Invariant: a client whose query was cancelled or whose connection failed is destroyed, never reused.
 */
export class PgPool {
  readonly target: PgTarget;
  private pool?: pg.Pool;
  private readonly config: PoolConfig;
  private readonly opts: Required<PgPoolOptions>;
  private warnedSessionSql = false;

  constructor(
    settings: PgPoolSettings,
    private readonly logger: Logger,
    opts: PgPoolOptions = {},
  ) {
    this.target = settings.target;
    this.config = settings.pool;
    const policy = connectRetryOptions(); // FERRY_CONNECT_RETRIES, shared by every connector
    this.opts = { connectAttempts: policy.attempts, connectBaseMs: policy.baseMs, connectMaxMs: policy.maxMs, sessionSql: [], ...opts };
  }

  private get raw(): pg.Pool {
    if (!this.pool) {
      const connectMs = this.config.connectionTimeoutMillis ?? 10_000;
      // The pool's own timeout would also fail callers merely queued for a busy slot; only the TCP/auth
      // handshake gets a deadline, so parallel workers above max_connections wait instead of failing.
      class TimedClient extends pg.Client {
        constructor(cfg?: pg.ClientConfig) {
          super({ ...cfg, connectionTimeoutMillis: connectMs });
        }
      }
      this.pool = new pg.Pool({ ...this.config, connectionTimeoutMillis: 0, types: textTypes, Client: TimedClient });
      this.pool.on('error', (err) => this.logger.warn('idle PostgreSQL connection failed', { target: this.target.label, error: err }));
      this.pool.on('connect', (client) => {
        for (const sql of this.opts.sessionSql) {
          client.query(sql).catch((err: unknown) => {
            if (this.warnedSessionSql) return;
            this.warnedSessionSql = true;
            this.logger.warn('session setting refused; continuing without it', { target: this.target.label, sql, error: err });
          });
        }
      });
    }
    return this.pool;
  }

  /** A pooled client, after retries; CN001/AU001 naming host:port when the server cannot be reached. */
  async connect(signal: AbortSignal): Promise<PoolClient> {
    return retry(
      async () => {
        throwIfAborted(signal);
        try {
          return await raceAbort(this.raw.connect(), signal);
        } catch (e) {
          throw this.connectError(e);
        }
      },
      {
        attempts: this.opts.connectAttempts,
        baseMs: this.opts.connectBaseMs,
        maxMs: this.opts.connectMaxMs,
        signal,
        isRetryable: (e) => isFerryError(e) && e.code === 'CN001',
        onRetry: (e, attempt, waitMs) =>
          this.logger.warn('PostgreSQL connect failed, retrying', { target: this.target.label, attempt, waitMs, error: e }),
      },
    );
  }

  private connectError(e: unknown): FerryError {
    if (isFerryError(e)) return e;
    const { code, retryable } = classifyCode(e);
    const msg = e instanceof Error ? e.message : String(e);
    const user = this.config.user ?? '';
    if (code === 'AU001') return new FerryError('AU001', `PostgreSQL at ${this.target.label} refused user "${user}": ${msg}`, { cause: e });
    if (code === 'MD001') return new FerryError('MD001', `PostgreSQL at ${this.target.label}: ${msg}`, { cause: e });
    return new FerryError(code === 'ST001' ? 'CN001' : code, `cannot connect to PostgreSQL at ${this.target.host}:${this.target.port}: ${msg}`, {
      cause: e,
      retryable: code === 'ST001' ? true : retryable,
    });
  }

  /** Runs `fn` with a client, releasing it after; destroys it when the session state cannot be trusted. */
  async withClient<T>(signal: AbortSignal, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect(signal);
    let destroy = false;
    try {
      return await fn(client);
    } catch (e) {
      destroy = mustDestroy(e);
      throw e;
    } finally {
      client.release(destroy || signal.aborted ? true : undefined);
    }
  }

  /** One statement on a pooled client (text values), cancelled on abort. `context` prefixes error messages. */
  async query<R extends unknown[] = unknown[]>(q: QueryConfig, signal: AbortSignal, context: string): Promise<R[]> {
    return this.withClient(signal, async (c) => {
      const res = await runQuery(c, this.target, { ...q, rowMode: 'array' }, signal, context);
      return res.rows as R[];
    });
  }

  async end(): Promise<void> {
    const p = this.pool;
    this.pool = undefined;
    if (p) await p.end();
  }
}

/** Whether a client must be destroyed after `e` (anything but a clean server-side statement error). */
export function mustDestroy(e: unknown): boolean {
  if (isFerryError(e)) {
    if (e.code === 'RT001' || e.code === 'CN001') return true;
    if (e.cause === undefined) return false; // raised by ferry itself (conversion), the session is fine
  }
  const cause = isFerryError(e) ? e.cause : e;
  return !(cause && typeof cause === 'object' && 'severity' in cause);
}

/** Runs one query on `client`, sending a CancelRequest when `signal` fires; errors become FerryErrors. */
export async function runQuery(client: PoolClient, target: PgTarget, q: QueryConfig & { rowMode?: 'array' }, signal: AbortSignal, context: string) {
  return cancellable(client, target, signal, async () => {
    try {
      return await client.query(q as QueryConfig);
    } catch (e) {
      throw toFerryError(e, context);
    }
  });
}

/** Runs `work` (which uses `client`); on abort cancels the backend's running statement and rejects RT001. */
export async function cancellable<T>(client: PoolClient, target: PgTarget, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  throwIfAborted(signal);
  const onAbort = () => void sendCancel(target, client).catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const out = await work();
    throwIfAborted(signal);
    return out;
  } catch (e) {
    if (signal.aborted) throw abortError(signal);
    throw e;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Protocol CancelRequest on a fresh socket: works even when every pooled connection is busy. */
export function sendCancel(target: PgTarget, client: PoolClient): Promise<void> {
  const { processID, secretKey } = client as unknown as { processID: number | null; secretKey: number | null };
  if (processID == null || secretKey == null) return Promise.resolve();
  const msg = Buffer.alloc(16);
  msg.writeInt32BE(16, 0);
  msg.writeInt32BE(80877102, 4);
  msg.writeInt32BE(processID, 8);
  msg.writeInt32BE(secretKey, 12);
  return new Promise((resolve) => {
    const sock = target.host.startsWith('/')
      ? net.connect(`${target.host}/.s.PGSQL.${target.port}`)
      : net.connect(target.port, target.host);
    sock.setTimeout(5000, () => sock.destroy());
    sock.on('connect', () => sock.end(msg));
    sock.on('error', () => resolve());
    sock.on('close', () => resolve());
  });
}

/** Rejects RT001 on abort; a client that arrives after that is released so the pool does not leak. */
function raceAbort(p: Promise<PoolClient>, signal: AbortSignal): Promise<PoolClient> {
  if (signal.aborted) {
    p.then((c) => c.release(), () => undefined);
    return Promise.reject(abortError(signal));
  }
  return new Promise((resolve, reject) => {
    let done = false;
    const onAbort = () => {
      if (done) return;
      done = true;
      p.then((c) => c.release(), () => undefined);
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (c) => {
        signal.removeEventListener('abort', onAbort);
        if (done) c.release();
        else {
          done = true;
          resolve(c);
        }
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        if (!done) {
          done = true;
          reject(e);
        }
      },
    );
  });
}
