import type { CdcSource, CdcStartCapture, ChangeEvent, Position } from '../../core/change.ts';
import type { CdcStreamBounds } from '../../core/change.ts';
import { FerryError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { isAbort } from '../../core/signal.ts';
import type { TableRef } from '../../core/table.ts';
import { BinlogDecoder } from './binlog-decoder.ts';
import { BinlogSession } from './binlog-stream.ts';
import { BinlogTables } from './binlog-tables.ts';
import { binlogFileAt } from './binlog-time.ts';
import type { MysqlCdcConfig } from './cdc-config.ts';
import type { MysqlClient } from './client.ts';
import { HeartbeatWriter } from './heartbeat.ts';
import { MysqlMetadata } from './metadata.ts';
import { mysqlPosition, positionData } from './position.ts';
import { precheckMysqlCdc, type BinlogServer } from './precheck.ts';
import { sqlString } from './sql.ts';

/** Besides the stream bounds (CdcStreamBounds: batches, receive queue paused above its bound): */
export interface MysqlCdcSourceOptions extends CdcStreamBounds {
  /** Decode only these tables' rows and DDL (the task's filter resolved); absent: every table. */
  tables?: TableRef[];
}

export { DEFAULT_CDC_QUEUE_BYTES, DEFAULT_CDC_QUEUE_ITEMS } from '../../core/change.ts';

/**
 * MySQL/MariaDB CDC from the binlog (@vlasky/zongji), as a replica with `extractor.server_id`.
 *
 * - `currentPosition`: the configured start (gtid_set when gtid_enabled, else binlog_filename/position, else
 *   the binlog file open at start_time_utc) or the server's SHOW MASTER STATUS, with the GTID position.
 * - `stream(from)`: every group committed after `from`, in binlog order, as batches of events (see
 *   BinlogDecoder); pull-based (the binlog connection pauses at the queue bound). The signal ends the
 *   iteration cleanly; a dropped connection throws a retryable CN001, a purged position a PR001.
 * - `ack`: nothing to tell the server (a binlog reader holds no server-side state); remembered for the
 *   heartbeat table's `flushed_*` columns.
 * Invariant: positions are committed only at CommitMarks (after the group's commit event) and Heartbeats (when
 * no group is open), so resuming never starts inside a transaction.
 */
export class MysqlCdcSource implements CdcSource, CdcStartCapture {
  private server: BinlogServer | null = null;
  private session: BinlogSession | null = null;
  private heartbeat: HeartbeatWriter | null = null;
  private acked: Position | undefined;
  private readonly tables: BinlogTables;

  constructor(
    private readonly client: MysqlClient,
    private readonly cfg: MysqlCdcConfig,
    private readonly o: MysqlCdcSourceOptions,
    private readonly logger: Logger,
    private readonly release: () => Promise<void>,
  ) {
    this.tables = new BinlogTables(new MysqlMetadata(client, async () => undefined), client, logger);
  }

  private async precheck(signal: AbortSignal): Promise<BinlogServer> {
    this.server ??= await precheckMysqlCdc(this.client, this.cfg.serverId, signal);
    return this.server;
  }

  async currentPosition(signal: AbortSignal): Promise<Position> {
    const server = await this.precheck(signal);
    const c = this.cfg;
    if (c.gtidEnabled && c.gtidSet) return mysqlPosition('', 0, c.gtidSet);
    if (c.binlogFilename) return mysqlPosition(c.binlogFilename, c.binlogPosition, await this.gtidAt(server, c.binlogFilename, c.binlogPosition, signal));
    if (c.startTimeMs !== undefined) {
      const file = await binlogFileAt(this.client, this.client.connectionOptions(), c.serverId, c.startTimeMs, signal);
      this.logger.info('cdc starts at the binlog file open at extractor.start_time_utc', { file });
      return mysqlPosition(file, 4, await this.gtidAt(server, file, 4, signal));
    }
    // GTID first: read before the file position it can only lag it (a resume by GTID repeats, never skips).
    const gtid = server.isMariaDb ? await this.scalar('SELECT @@GLOBAL.gtid_binlog_pos', signal) : await this.scalar('SELECT @@GLOBAL.gtid_executed', signal);
    const [st] = await this.client.query<{ File: string; Position: number | bigint }>('SHOW MASTER STATUS', signal, { context: 'cdc start position' });
    return mysqlPosition(st.File, Number(st.Position), gtid?.replace(/\s+/g, '') || undefined);
  }

  private async scalar(sql: string, signal: AbortSignal): Promise<string | undefined> {
    const rows = await this.client.query<unknown[]>(sql, signal, { rowsAsArray: true, context: 'cdc start position' }).catch(() => []);
    const v = rows[0]?.[0];
    return v === null || v === undefined ? undefined : String(v);
  }

  /** MariaDB: the GTID position at a file offset (BINLOG_GTID_POS); undefined elsewhere or when unknown. */
  private async gtidAt(server: BinlogServer, file: string, pos: number, signal: AbortSignal): Promise<string | undefined> {
    if (!server.isMariaDb) return undefined;
    return this.scalar(`SELECT BINLOG_GTID_POS(${sqlString(file)}, ${pos})`, signal);
  }

  async *stream(from: Position, signal: AbortSignal): AsyncGenerator<ChangeEvent[]> {
    if (this.session) throw new FerryError('RT002', 'a binlog stream is already open on this source');
    let d = positionData(from);
    let session: BinlogSession;
    try {
      const server = await this.precheck(signal);
      if (d.file && !d.gtid) {
        const gtid = await this.gtidAt(server, d.file, d.pos, signal);
        if (gtid) from = mysqlPosition(d.file, d.pos, gtid);
        d = positionData(from);
      }
      session = new BinlogSession({
        connection: this.client.connectionOptions(),
        serverId: this.cfg.serverId,
        ...(d.file ? { filename: d.file, position: Math.max(4, d.pos) } : { gtidSet: d.gtid }),
        ...(this.o.tables ? { tables: this.o.tables } : {}),
        maxItems: this.o.queueItems,
        maxBytes: this.o.queueBytes,
        heartbeatSecs: this.cfg.binlogHeartbeatIntervalSecs,
        timeoutSecs: this.cfg.binlogTimeoutSecs,
        logger: this.logger,
      });
      this.session = session;
      await session.start(signal);
    } catch (e) {
      await this.session?.close();
      this.session = null;
      if (signal.aborted && isAbort(e)) return;
      throw e;
    }
    this.logger.info('binlog replication started', { from: d, serverId: this.cfg.serverId });
    const decoder = new BinlogDecoder(this.tables, {
      from,
      isMariaDb: this.server!.isMariaDb,
      ...(this.o.tables ? { tables: this.o.tables } : {}),
      ...(this.cfg.startTimeMs !== undefined ? { startTimeMs: this.cfg.startTimeMs } : {}),
      ...(this.cfg.endTimeMs !== undefined ? { endTimeMs: this.cfg.endTimeMs } : {}),
      logger: this.logger,
    });
    const hb = this.cfg.heartbeatTable;
    this.heartbeat = hb
      ? new HeartbeatWriter(this.client, hb, this.cfg.serverId, this.cfg.heartbeatIntervalSecs * 1000, { received: () => decoder.resumePoint, flushed: () => this.acked }, this.logger)
      : null;
    this.heartbeat?.start();
    const pending: ChangeEvent[] = [];
    try {
      for (;;) {
        const { batch, more } = await this.nextBatch(session, decoder, pending, signal);
        if (batch.length) yield batch;
        if (!more) {
          if (!signal.aborted) this.logger.info('binlog stream ends', { position: decoder.resumePoint.data });
          return;
        }
      }
    } catch (e) {
      if (signal.aborted && isAbort(e)) return;
      throw e;
    } finally {
      await this.heartbeat?.stop();
      this.heartbeat = null;
      this.session = null;
      await session.close();
    }
  }

  /**
   * One batch of at most batchEvents events: decodes waiting items into `pending` (a binlog rows event holds
   * several rows, so decoding may run past the batch; the rest waits for the next call), and returns fewer
   * when nothing more is waiting. `more` is false when the stream is over (aborted, or end_time_utc reached).
   */
  private async nextBatch(session: BinlogSession, decoder: BinlogDecoder, pending: ChangeEvent[], signal: AbortSignal): Promise<{ batch: ChangeEvent[]; more: boolean }> {
    const max = this.o.batchEvents;
    while (pending.length < max) {
      if (signal.aborted) return { batch: [], more: false };
      const it = session.take();
      if (!it) {
        if (pending.length) break;
        if (!(await session.wait(signal))) return { batch: [], more: false };
        continue;
      }
      if (!(await decoder.decode(it, pending, signal))) return { batch: pending.splice(0), more: false };
    }
    return { batch: pending.splice(0, max), more: true };
  }

  async ack(position: Position, _signal: AbortSignal): Promise<void> {
    positionData(position);
    if (!this.acked || position.order > this.acked.order) this.acked = position;
  }

  async close(): Promise<void> {
    await this.heartbeat?.stop();
    this.heartbeat = null;
    await this.session?.close();
    this.session = null;
    await this.release();
  }
}
