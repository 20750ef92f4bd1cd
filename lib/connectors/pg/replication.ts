import type { ClientConfig } from 'pg';
import { LogicalReplicationService, PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { FerryError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { abortError, sleep, untilWoken } from '../../core/signal.ts';
import { toFerryError } from './errors.ts';
import { formatLsn, parseLsn } from './position.ts';

/** One unit read from the replication connection, in wire order. */
export type ReplItem =
  | { kind: 'xlog'; /** the XLogData's start LSN, as the library prints it ('X/Y') */ lsn: string; msg: Pgoutput.Message; bytes: number }
  | { kind: 'keepalive'; walEnd: bigint; /** receipt time, epoch ms */ at: number; bytes: number };

export interface ReplicationOptions {
  client: ClientConfig;
  slot: string;
  publication: string;
  from: bigint;
  /** Pause reading when this many items / bytes wait for the consumer; resume below half. */
  maxItems: number;
  maxBytes: number;
  /** Standby status updates (with a reply request) at this interval, also while paused. */
  keepaliveMs: number;
  /** How long START_REPLICATION is retried while another session still holds the slot. */
  inUseWaitMs: number;
  /** The LSN status updates confirm: what the target has committed (ack), 0n for nothing yet. */
  confirmed: () => bigint;
  logger: Logger;
}

const asIs = (v: unknown) => v;
const PG_EPOCH_MS = 946_684_800_000n;
const IN_USE_RETRY_MS = 250;

/**
 * pgoutput parsing by pg-logical-replication, with two changes: tuple values stay the server's text (the
 * library would run node-postgres' global parsers: Date for timestamps, lossy floats), and each message's wire
 * size is kept for byte-bounded buffering. A parse failure becomes an item instead of an exception thrown
 * inside the socket's data handler.
 */
class TextPgoutputPlugin extends PgoutputPlugin {
  lastBytes = 0;

  parse(buf: Buffer): Pgoutput.Message {
    this.lastBytes = buf.length;
    try {
      const m = super.parse(buf);
      // The library keeps this relation object and reads later tuples through its columns' parsers.
      if (m.tag === 'relation') for (const c of m.columns) c.parser = asIs;
      return m;
    } catch (e) {
      return { tag: 'ferry-parse-error', error: e } as unknown as Pgoutput.Message;
    }
  }
}

/** Standby status update ('r'): write = flush = apply = `lsn`; 0 confirms nothing (the server ignores it). */
export function standbyStatus(lsn: bigint, replyRequested: boolean): Buffer {
  const b = Buffer.alloc(34);
  b[0] = 0x72;
  b.writeBigUInt64BE(lsn, 1);
  b.writeBigUInt64BE(lsn, 9);
  b.writeBigUInt64BE(lsn, 17);
  b.writeBigInt64BE((BigInt(Date.now()) - PG_EPOCH_MS) * 1000n, 25);
  b[33] = replyRequested ? 1 : 0;
  return b;
}

interface RawConnection {
  stream: { pause(): void; resume(): void; destroy(): void };
  sendCopyFromChunk(chunk: Buffer): void;
}

/**
 * One START_REPLICATION session (pgoutput protocol v1) over pg-logical-replication's service, kept to what is
 * safe: automatic acknowledgement off and its keepalive timer off (`timeoutSeconds: 0`: in 2.5 that timer
 * confirmed the last *received* LSN, past transactions nobody had applied). Every status update is sent here
 * and confirms only `confirmed()`. Items queue in wire order; above the bound the socket is paused, so the
 * server (and TCP) hold the rest.
 * Invariant: never sends a flush position other than `confirmed()`; a dropped connection surfaces once as a
 * retryable CN001 after the items received before it.
 */
export class ReplicationSession {
  private readonly service: LogicalReplicationService;
  private readonly plugin: TextPgoutputPlugin;
  private items: ReplItem[] = [];
  private head = 0;
  private bytes = 0;
  private paused = false;
  private failure: FerryError | null = null;
  private closed = false;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;

  private constructor(private readonly o: ReplicationOptions) {
    this.service = new LogicalReplicationService(o.client, { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: false } });
    this.plugin = new TextPgoutputPlugin({ protoVersion: 1, publicationNames: [o.publication] });
  }

  /** Connects and starts streaming at `o.from`; retries while the slot is still held by a closing session. */
  static async open(o: ReplicationOptions, signal: AbortSignal): Promise<ReplicationSession> {
    for (let attempt = 1; ; attempt++) {
      const s = new ReplicationSession(o);
      try {
        await s.start(signal);
        return s;
      } catch (e) {
        await s.close();
        const inUse = e instanceof FerryError && e.details.sqlstate === '55006';
        if (signal.aborted) throw abortError(signal);
        if (inUse && attempt * IN_USE_RETRY_MS >= o.inUseWaitMs) {
          // A walsender of a crashed consumer keeps the slot until wal_sender_timeout notices: worth retrying.
          throw new FerryError('ST001', `${(e as FerryError).message} (another consumer, or one that died less than wal_sender_timeout ago)`, {
            cause: e,
            retryable: true,
            details: (e as FerryError).details,
          });
        }
        if (!inUse) throw e;
        await sleep(IN_USE_RETRY_MS, signal);
      }
    }
  }

  private get connection(): RawConnection | null {
    // The library exposes no socket; pausing it is the only backpressure a replication stream has.
    return (this.service as unknown as { _connection: RawConnection | null })._connection;
  }

  private async start(signal: AbortSignal): Promise<void> {
    const svc = this.service;
    svc.on('data', (lsn: string, msg: Pgoutput.Message) => {
      if ((msg as { tag: string }).tag === 'ferry-parse-error') {
        this.fail(new FerryError('RT002', `cannot parse a pgoutput message at ${lsn}: ${String((msg as unknown as { error: unknown }).error)}`));
        return;
      }
      this.push({ kind: 'xlog', lsn, msg, bytes: this.plugin.lastBytes + 64 });
    });
    svc.on('heartbeat', (walEnd: string, _ts: number, shouldRespond: boolean) => {
      if (shouldRespond) this.sendStatus(false);
      this.push({ kind: 'keepalive', walEnd: parseLsn(walEnd, 'keepalive wal end'), at: Date.now(), bytes: 64 });
    });
    svc.on('error', (e: unknown) => this.fail(this.classify(e)));
    const running = svc.subscribe(this.plugin, this.o.slot, formatLsn(this.o.from));
    // After the start, an ending stream is a failure the consumer sees through `wait`.
    running.then(
      () => this.fail(new FerryError('CN001', `PostgreSQL ended the replication stream of slot ${this.o.slot}`)),
      (e: unknown) => this.fail(this.classify(e)),
    );
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        signal.removeEventListener('abort', onAbort);
        reject(abortError(signal));
      };
      svc.once('start', () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      running.then(
        () => reject(this.failure ?? new FerryError('CN001', 'replication stream ended before it started')),
        (e: unknown) => reject(this.classify(e)),
      );
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    this.timer = setInterval(() => this.sendStatus(true), this.o.keepaliveMs);
    this.timer.unref();
  }

  private classify(e: unknown): FerryError {
    if (e instanceof FerryError) return e;
    const fe = toFerryError(e, `replication stream of slot ${this.o.slot}`);
    const msg = e instanceof Error ? e.message : String(e);
    // A socket that closes under us (server restart, terminated walsender, network) is a reconnect case.
    if (fe.code === 'ST001' && !fe.details.sqlstate && /terminat|ECONNRESET|closed|EPIPE/i.test(msg)) {
      return new FerryError('CN001', fe.message, { cause: e, details: fe.details });
    }
    return fe;
  }

  private fail(e: FerryError): void {
    if (this.closed || this.failure) return;
    this.failure = e;
    this.wakeUp();
  }

  private push(it: ReplItem): void {
    if (this.closed) return;
    this.items.push(it);
    this.bytes += it.bytes;
    if (!this.paused && (this.items.length - this.head >= this.o.maxItems || this.bytes >= this.o.maxBytes)) {
      this.paused = true;
      this.connection?.stream.pause();
    }
    this.wakeUp();
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** The next item, or undefined when none is waiting (then `wait`). Resumes the socket below half the bound. */
  take(): ReplItem | undefined {
    if (this.head >= this.items.length) return undefined;
    const it = this.items[this.head];
    (this.items as Array<ReplItem | undefined>)[this.head++] = undefined;
    this.bytes -= it.bytes;
    if (this.head >= 4096 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.paused && this.items.length - this.head <= this.o.maxItems / 2 && this.bytes <= this.o.maxBytes / 2) {
      this.paused = false;
      this.connection?.stream.resume();
    }
    return it;
  }

  get pending(): number {
    return this.items.length - this.head;
  }

  /**
   * Resolves when an item is waiting; false when the session is over (aborted or closed). Throws the
   * connection failure once every item received before it was taken.
   */
  async wait(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (this.pending) return true;
      if (this.failure) throw this.failure;
      if (signal.aborted || this.closed) return false;
      await untilWoken(signal, (wake) => (this.wake = wake));
    }
  }

  /** Confirms `confirmed()` to the server now (and asks for a keepalive back when `replyRequested`). */
  sendStatus(replyRequested: boolean): void {
    if (this.closed || this.failure) return;
    try {
      this.connection?.sendCopyFromChunk(standbyStatus(this.o.confirmed(), replyRequested));
    } catch (e) {
      this.o.logger.debug('standby status update not sent', { error: e as Error });
    }
  }

  get isOpen(): boolean {
    return !this.closed && !this.failure;
  }

  /** Sends a last status update, then closes the connection (the walsender releases the slot). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.sendStatus(false);
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    const conn = this.connection as (RawConnection & { on(ev: string, fn: () => void): void }) | null;
    const client = (this.service as unknown as { _client: { on(ev: string, fn: () => void): void } | null })._client;
    conn?.stream.resume();
    await Promise.race([this.service.stop().catch(() => undefined), sleep(5000).catch(() => undefined)]);
    conn?.stream.destroy();
    // The library drops its listeners on stop; a late socket error must not become an uncaught 'error' event.
    conn?.on('error', () => undefined);
    client?.on('error', () => undefined);
    this.service.removeAllListeners();
    this.service.on('error', () => undefined);
    this.wakeUp();
  }
}
