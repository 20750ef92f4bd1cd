/**
 * A thin wrapper over @clickhouse/client (HTTP): queries returning rows, commands, raw-payload inserts, and
 * the server's features detected once. Every call takes an AbortSignal and turns failures into FerryError.
 */
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { FerryError } from '../../core/errors.ts';
import { forEachTsvLine, tsvFields } from '../../core/tsv.ts';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../../core/logger.ts';
import { connectRetryOptions, retry, throwIfAborted } from '../../core/signal.ts';
import type { ResolvedClickhouseConfig } from './config.ts';
import { classifyCode, toFerryError } from './errors.ts';
import { featuresOf, type ServerFeatures } from './features.ts';

export type Settings = Record<string, string | number>;

/** An insert payload: one Buffer, or its chunks in order. */
export type Payload = Buffer | readonly Buffer[];

/**
 * What the writers need from a ClickHouse connection. {@link ClickhouseClient} is the HTTP one; tests run the
 * same writers over chdb (an in-process current ClickHouse engine) through this interface.
 */
export interface ClickhouseApi {
  server(signal?: AbortSignal): Promise<ServerFeatures>;
  rows<T = Record<string, unknown>>(sql: string, signal: AbortSignal | undefined, context: string): Promise<T[]>;
  /** Rows as the server's own text (TabSeparatedWithNames): exact for every type, NULL as null. */
  textRows(sql: string, signal: AbortSignal | undefined, context: string): Promise<Array<Record<string, string | null>>>;
  command(sql: string, signal: AbortSignal | undefined, context: string, settings?: Settings): Promise<void>;
  /** `body`: the complete payload, whole or as chunks sent one after the other. */
  insert(tableSql: string, columnsSql: string, format: string, body: Payload, signal: AbortSignal | undefined, context: string): Promise<void>;
  /** The same INSERT with its body sent while it is being produced (see {@link InsertStream}); HTTP only. */
  insertStream?(tableSql: string, columnsSql: string, format: string, signal: AbortSignal, context: string): InsertStream;
  close(): Promise<void>;
}

/**
 * An INSERT whose body is written piece by piece. The server parses as the bytes arrive and writes its part when
 * the body ends; `end` resolves once it answered. Invariant: only `end` ends the body cleanly -- `abort`, a failed
 * write or the signal cut the request, which the server treats as a failed INSERT (a body of at most
 * max_insert_block_size rows writes nothing).
 */
export interface InsertStream {
  /** Writes `chunks` in order; resolves when the request's buffer has room again (at most `STREAM_BUFFER` bytes queued). */
  write(chunks: readonly Buffer[]): Promise<void>;
  end(): Promise<void>;
  abort(): void;
}

/** Bytes an {@link InsertStream} queues before `write` waits for the socket. */
export const STREAM_BUFFER = 4 << 20;

export class ClickhouseClient implements ClickhouseApi {
  private readonly ch: ClickHouseClient;
  private features?: Promise<ServerFeatures>;

  constructor(readonly cfg: ResolvedClickhouseConfig, private readonly logger: Logger) {
    this.ch = createClient({
      url: cfg.url,
      username: cfg.username,
      password: cfg.password,
      max_open_connections: cfg.maxConnections,
      request_timeout: cfg.requestTimeoutMs,
      compression: { request: false, response: false },
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  /** The server's version and what it supports; asked once (retried while the server is unreachable). */
  server(signal?: AbortSignal): Promise<ServerFeatures> {
    if (!this.features) {
      this.features = retry(async () => {
        const rows = await this.rows<{ v: string }>('SELECT version() AS v', signal, 'clickhouse version');
        const f = featuresOf(rows[0]?.v ?? '0');
        this.logger.info('clickhouse server', { address: this.cfg.address, version: f.version });
        return f;
      }, { ...connectRetryOptions(signal), isRetryable: (e) => classifyCode(e).code === 'CN001' });
      this.features.catch(() => (this.features = undefined));
    }
    return this.features;
  }

  /** Runs a SELECT and returns its rows (JSONEachRow; 64-bit integers come back as strings). */
  async rows<T = Record<string, unknown>>(sql: string, signal: AbortSignal | undefined, context: string): Promise<T[]> {
    throwIfAborted(signal);
    try {
      const r = await this.ch.query({ query: sql, format: 'JSONEachRow', abort_signal: signal });
      return (await r.json()) as T[];
    } catch (e) {
      throw toFerryError(e, context);
    }
  }

  async textRows(sql: string, signal: AbortSignal | undefined, context: string): Promise<Array<Record<string, string | null>>> {
    throwIfAborted(signal);
    try {
      const r = await this.ch.query({ query: sql, format: 'TabSeparatedWithNames', abort_signal: signal });
      return parseTsv(await r.text());
    } catch (e) {
      throw toFerryError(e, context);
    }
  }

  /** Runs a statement without a result (DDL, ALTER ... DELETE, TRUNCATE). */
  async command(sql: string, signal: AbortSignal | undefined, context: string, settings: Settings = {}): Promise<void> {
    throwIfAborted(signal);
    try {
      await this.ch.command({ query: sql, abort_signal: signal, clickhouse_settings: settings as never });
    } catch (e) {
      throw toFerryError(e, context);
    }
  }

  /**
   * Sends `INSERT INTO <table> (<columns>) FORMAT <format>` with `body` as the payload, unchanged, chunk by chunk.
   * One INSERT below min_insert_block_size_rows / _bytes is one part, written when the body ends -- also when the
   * request is cut short, so callers send only complete payloads.
   */
  async insert(tableSql: string, columnsSql: string, format: string, body: Payload, signal: AbortSignal | undefined, context: string): Promise<void> {
    throwIfAborted(signal);
    const values = Readable.from(Buffer.isBuffer(body) ? [body] : body, { objectMode: false, highWaterMark: 1 });
    await this.exec(tableSql, columnsSql, format, values, signal, context);
  }

  insertStream(tableSql: string, columnsSql: string, format: string, signal: AbortSignal, context: string): InsertStream {
    const cut = new AbortController();
    const body = new PassThrough({ highWaterMark: STREAM_BUFFER });
    const done = (async () => {
      throwIfAborted(signal);
      await this.exec(tableSql, columnsSql, format, body, AbortSignal.any([signal, cut.signal]), context);
    })().catch((e: unknown) => {
      body.destroy();
      throw e;
    });
    // Seen by write / end; a stream abandoned without either must not leave an unhandled rejection.
    done.catch(() => undefined);
    return {
      async write(chunks) {
        for (const c of chunks) {
          if (body.destroyed) await done;
          if (!body.write(c)) await Promise.race([once(body, 'drain'), done]);
        }
      },
      async end() {
        body.end();
        await done;
      },
      abort() {
        cut.abort(new FerryError('RT001', `${context}: insert abandoned`));
        body.destroy();
      },
    };
  }

  /** One INSERT with `values` as its body; resolves when the server answered (the response read to its end). */
  private async exec(tableSql: string, columnsSql: string, format: string, values: Readable, signal: AbortSignal | undefined, context: string): Promise<void> {
    try {
      const r = await this.ch.exec({ query: `INSERT INTO ${tableSql} (${columnsSql}) FORMAT ${format}`, values, abort_signal: signal });
      r.stream.resume();
      await finished(r.stream);
    } catch (e) {
      throw toFerryError(e, context);
    }
  }

  async close(): Promise<void> {
    await this.ch.close();
  }
}

/** TabSeparatedWithNames text -> rows (`\\N` is NULL; escapes undone as core/tsv.ts reads them). */
export function parseTsv(text: string): Array<Record<string, string | null>> {
  const lines: Array<Array<string | null>> = [];
  forEachTsvLine([Buffer.from(text)], (buf, start, end) => lines.push(tsvFields(buf, start, end).map((f) => f?.toString('utf8') ?? null)));
  const names = (lines.shift() ?? []).map((n) => n ?? '');
  return lines.map((fields) => {
    const row: Record<string, string | null> = {};
    names.forEach((n, i) => (row[n] = i < fields.length ? fields[i] : ''));
    return row;
  });
}
