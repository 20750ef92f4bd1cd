import ZongJi, { type AnyBinlogEvent, type TableMapEntry, type ZongJiOptions } from '@vlasky/zongji';
import type { ConnectionOptions } from 'mysql2';
import { FerryError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { abortError, sleep, untilWoken } from '../../core/signal.ts';
import { rowBytes, type Row } from '../../core/values.ts';
import { prepareTableMap } from './binlog-columns.ts';
import { classify, type DriverError } from './errors.ts';
import { SYSTEM_SCHEMAS } from './metadata.ts';

/** Events ferry asks zongji for; everything else is skipped before it is decoded. */
export const BINLOG_EVENTS = ['tablemap', 'writerows', 'updaterows', 'deleterows', 'query', 'xid', 'xaprepare', 'rotate', 'mariadbgtid', 'gtid', 'heartbeat'];

/** One decoded binlog event waiting for the consumer; rows events keep the table map they were decoded with. */
export interface BinlogItem {
  ev: AnyBinlogEvent;
  table?: TableMapEntry;
  /** Rows in the event (1 for other events): what the queue bound counts. */
  count: number;
  bytes: number;
}

export interface BinlogSessionOptions {
  connection: ConnectionOptions;
  serverId: number;
  /** Start at a file + offset, or (no file) at a GTID set. */
  filename?: string;
  position?: number;
  gtidSet?: string;
  /** Decode only these tables' rows (zongji includeSchema); absent: every table. */
  tables?: Array<{ db: string; tb: string }>;
  /** Pause reading above this many rows / bytes waiting; resume below half. */
  maxItems: number;
  maxBytes: number;
  /** MASTER_HEARTBEAT_PERIOD in seconds (0: none). */
  heartbeatSecs: number;
  /** Nothing received for this long while reading = a dead connection. */
  timeoutSecs: number;
  logger: Logger;
}

/**
 * One binlog dump connection (@vlasky/zongji) feeding a bounded queue. zongji pushes events from the socket's
 * data handler; above the bound the binlog connection is paused (mysql2 keeps only the packets of the chunk
 * already received; the server and TCP hold the rest) and resumed when the consumer has taken half.
 * Invariant: items come out in binlog order; a failure (dropped connection: retryable CN001, purged position
 * or undecodable event: not retryable) surfaces once, after every item received before it.
 */
export class BinlogSession {
  private readonly z: ZongJi;
  private items: Array<BinlogItem | undefined> = [];
  private head = 0;
  private bytes = 0;
  /** Rows (and other events) waiting: what `maxItems` bounds. */
  private queued = 0;
  private pausedByUs = false;
  private failure: FerryError | null = null;
  private closed = false;
  private wake: (() => void) | null = null;
  private lastData = Date.now();
  private watchdog: NodeJS.Timeout | null = null;

  constructor(private readonly o: BinlogSessionOptions) {
    this.z = new ZongJi(o.connection);
  }

  /** Connects and sends the dump request; resolves once zongji is ready (the first events may follow). */
  async start(signal: AbortSignal): Promise<void> {
    const z = this.z;
    z.on('binlog', (ev: AnyBinlogEvent) => this.onEvent(ev));
    z.on('error', (e: Error) => this.fail(binlogError(e)));
    const opts: ZongJiOptions = {
      serverId: this.o.serverId,
      startAtEnd: false,
      includeEvents: BINLOG_EVENTS,
      // Without a table list, at least the server's own schemas are never decoded.
      ...(this.o.tables ? { includeSchema: schemaFilter(this.o.tables) } : { excludeSchema: Object.fromEntries(SYSTEM_SCHEMAS.map((s) => [s, true as const])) }),
      ...(this.o.filename ? { filename: this.o.filename, position: this.o.position ?? 4 } : { gtidSet: this.o.gtidSet ?? '' }),
    };
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(abortError(signal));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      z.once('ready', () => {
        signal.removeEventListener('abort', onAbort);
        const conn = z.connection!;
        // Both run before the dump command zongji queues right after 'ready'. A paused reader (backpressure)
        // must not make the dump thread give up writing (net_write_timeout, 60 s by default).
        conn.query('SET SESSION net_write_timeout = 3600', () => undefined);
        if (this.o.heartbeatSecs > 0) conn.query(`SET @master_heartbeat_period = ${this.o.heartbeatSecs * 1_000_000_000}`, () => undefined);
        conn.on('end', () => this.fail(new FerryError('CN001', 'the server closed the binlog connection')));
        resolve();
      });
      z.once('error', (e: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(binlogError(e));
      });
      z.start(opts);
    });
    const every = Math.max(1000, Math.min(this.o.timeoutSecs * 1000, 10_000) / 2);
    this.watchdog = setInterval(() => this.checkAlive(), every);
    this.watchdog.unref();
  }

  private onEvent(ev: AnyBinlogEvent): void {
    if (this.closed) return;
    this.lastData = Date.now();
    const name = ev.getEventName();
    if (name === 'tablemap') {
      const e = ev as AnyBinlogEvent & { tableId: number };
      const entry = this.z.tableMap[e.tableId];
      if (entry) prepareTableMap(entry);
      return;
    }
    let item: BinlogItem;
    if (name === 'writerows' || name === 'updaterows' || name === 'deleterows') {
      const r = ev as AnyBinlogEvent & { tableId: number; rows: Array<Row | { before: Row; after: Row }> };
      const table = this.z.tableMap[r.tableId];
      if (!table) return;
      let bytes = 64;
      if (name === 'updaterows') for (const row of r.rows as Array<{ before: Row; after: Row }>) bytes += rowBytes(row.before) + rowBytes(row.after);
      else for (const row of r.rows as Row[]) bytes += rowBytes(row);
      item = { ev, table, count: Math.max(1, r.rows.length), bytes };
    } else {
      item = { ev, count: 1, bytes: 256 };
    }
    this.items.push(item);
    this.bytes += item.bytes;
    this.queued += item.count;
    if (this.queued >= this.o.maxItems || this.bytes >= this.o.maxBytes) {
      // Always re-pause: zongji resumes the connection itself after an information_schema lookup.
      this.pausedByUs = true;
      this.z.connection?.pause();
    }
    this.wakeUp();
  }

  private get pending(): number {
    return this.items.length - this.head;
  }

  /** The next item, or undefined when none is waiting (then `wait`). Resumes reading below half the bound. */
  take(): BinlogItem | undefined {
    if (this.head >= this.items.length) return undefined;
    const it = this.items[this.head]!;
    this.items[this.head++] = undefined;
    this.bytes -= it.bytes;
    this.queued -= it.count;
    if (this.head >= 4096 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.pausedByUs && this.queued <= this.o.maxItems / 2 && this.bytes <= this.o.maxBytes / 2) {
      this.pausedByUs = false;
      this.lastData = Date.now();
      this.z.connection?.resume();
    }
    return it;
  }

  /**
   * Resolves true when an item is waiting, false when the session is over (aborted or closed). Throws the
   * failure once every item received before it was taken.
   */
  async wait(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (this.pending) return true;
      if (this.failure) throw this.failure;
      if (signal.aborted || this.closed) return false;
      await untilWoken(signal, (wake) => (this.wake = wake));
    }
  }

  private checkAlive(): void {
    if (this.closed || this.failure || this.pausedByUs) return;
    const silent = Date.now() - this.lastData;
    // Without server heartbeats an idle binlog is silent by design; only a heartbeat-enabled stream can time out.
    if (this.o.heartbeatSecs > 0 && silent > this.o.timeoutSecs * 1000) {
      this.fail(new FerryError('CN001', `no data or heartbeat on the binlog connection for ${Math.round(silent / 1000)} s (extractor.binlog_timeout_secs)`));
    }
  }

  private fail(e: FerryError): void {
    if (this.closed || this.failure) return;
    this.failure = e;
    this.wakeUp();
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Stops zongji (its KILL ends the server's dump thread) and waits for it, at most 5 s. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    this.queued = 0;
    const stopped = new Promise<void>((r) => this.z.once('stopped', () => r()));
    try {
      this.z.stop();
    } catch (e) {
      this.o.logger.debug('zongji stop failed', { error: e as Error });
    }
    await Promise.race([stopped, sleep(5000).catch(() => undefined)]);
    this.z.removeAllListeners();
    this.z.on('error', () => undefined);
    this.wakeUp();
  }
}

function schemaFilter(tables: Array<{ db: string; tb: string }>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const t of tables) (out[t.db] ??= []).push(t.tb);
  return out;
}

/** zongji / mysql2 errors -> FerryError: a purged or impossible position is not retryable; a lost connection is. */
export function binlogError(e: unknown): FerryError {
  if (e instanceof FerryError) return e;
  const d = (e ?? {}) as DriverError;
  if (d.errno === 1236) {
    return new FerryError(
      'PR001',
      `the binlog position ferry resumes from is no longer readable on the server: ${d.sqlMessage ?? d.message} -- ` +
        'the file was purged (expire_logs_days / binlog_expire_logs_seconds) or the position is wrong; start the task again from a snapshot (clear its checkpoint)',
      { cause: e, details: { driverCode: d.code, errno: d.errno } },
    );
  }
  if (/same server_uuid\/server_id/i.test(d.sqlMessage ?? d.message ?? '')) {
    // The server ended this dump thread for a newer reader with the same replica id (after our own reconnect, the
    // dead predecessor gets this; a live one means two readers share extractor.server_id).
    return new FerryError('CN001', `binlog stream: another reader connected with the same extractor.server_id; every replica and ferry task needs its own (${d.sqlMessage ?? d.message})`, {
      cause: e,
      details: { driverCode: d.code, errno: d.errno },
    });
  }
  if (d.code) return classify(e, 'binlog stream');
  const msg = e instanceof Error ? e.message : String(e);
  if (/control connection unavailable|connection lost|ECONNRESET|EPIPE/i.test(msg)) return new FerryError('CN001', `binlog stream: ${msg}`, { cause: e });
  // Undecodable events (compressed transactions, partial JSON, unknown column types): stopping beats losing rows.
  return new FerryError('RT002', `binlog stream: ${msg}`, { cause: e, retryable: false });
}
