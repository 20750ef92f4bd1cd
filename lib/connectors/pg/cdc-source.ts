import type { CdcSource, CdcStartCapture, ChangeEvent, Position } from '../../core/change.ts';
import type { CdcStreamBounds } from '../../core/change.ts';
import { FerryError } from '../../core/errors.ts';
import { isAbort } from '../../core/signal.ts';
import type { Logger } from '../../core/logger.ts';
import type { TableRef } from '../../core/table.ts';
import type { PgPoolSettings } from './config.ts';
import type { PgCdcConfig } from './cdc-config.ts';
import { PgoutputDecoder } from './cdc-decoder.ts';
import { PgTypeResolver } from './cdc-types.ts';
import { prepareDdlCapture } from './ddl-capture.ts';
import { HeartbeatWriter } from './heartbeat.ts';
import type { PgPool } from './pool.ts';
import { formatLsn, lsnOfPosition, maxLsn, pgPosition, tryParseLsn } from './position.ts';
import { precheckPgCdc, warnNoReplicaIdentity } from './precheck.ts';
import { ReplicationSession } from './replication.ts';
import { advanceSlot, createSlot, dropSlot, ensurePublication, publicationExists, readSlot } from './slot.ts';

/** Besides the stream bounds (CdcStreamBounds: batches, receive queue paused above its bound): */
export interface PgCdcSourceOptions extends CdcStreamBounds {
  /**
   * Publish only these tables (the task's filter resolved; an empty list publishes nothing but the heartbeat
   * table); absent: a publication FOR ALL TABLES, as ape-dts creates.
   */
  tables?: TableRef[];
  /** START_REPLICATION is retried this long while the slot is still held (a closing or crashed session). */
  inUseWaitMs: number;
}

export { DEFAULT_CDC_QUEUE_BYTES, DEFAULT_CDC_QUEUE_ITEMS } from '../../core/change.ts';

/**
 * PostgreSQL CDC through a logical replication slot (pgoutput, protocol v1) and a publication.
 *
 * - `currentPosition` creates what is missing -- the publication first, then the slot -- and returns the
 *   slot's consistent point (new slot), `start_lsn` (when not behind the slot) or its confirmed_flush_lsn.
 * - `stream(from)` replicates from `from`: transactions committing after it, each as its RowChanges then a
 *   CommitMark at its end LSN; Heartbeats while idle; DdlChanges when `ddl_meta_tb` is set (ddl-capture.ts). Pull-based: the socket pauses at the queue bound.
 *   The signal ends the iteration cleanly (no error) and closes the replication connection; a dropped
 *   connection throws a retryable CN001 (stream again from the last committed position).
 * - `ack(p)` confirms p's LSN to the slot (confirmed_flush_lsn = exactly that LSN), also when no stream is
 *   open. Invariant: the server is never told an LSN beyond the highest one passed to `ack`; keepalive
 *   replies and periodic status updates repeat that LSN, nothing else.
 */
export class PgCdcSource implements CdcSource, CdcStartCapture {
  private acked = 0n;
  private received = 0n;
  private session: ReplicationSession | null = null;
  private heartbeat: HeartbeatWriter | null = null;
  private readonly types: PgTypeResolver;
  private checked = false;
  private ddlReady = false;

  constructor(
    private readonly pool: PgPool,
    private readonly client: PgPoolSettings['pool'],
    private readonly cfg: PgCdcConfig,
    private readonly o: PgCdcSourceOptions,
    private readonly logger: Logger,
  ) {
    this.types = new PgTypeResolver(pool);
  }

  private get publicationTables(): TableRef[] | undefined {
    const t = this.o.tables;
    if (!t) return undefined;
    const extra = [this.cfg.heartbeatTable, this.cfg.ddlMetaTable].filter((x): x is TableRef => !!x);
    const out = [...t];
    for (const x of extra) if (!out.some((y) => y.db === x.db && y.tb === x.tb)) out.push(x);
    return out;
  }

  /** DDL capture (ddl_meta_tb): installed or checked once per source, before the publication needs the table. */
  private async prepareDdl(signal: AbortSignal): Promise<void> {
    const t = this.cfg.ddlMetaTable;
    if (!t || this.ddlReady) return;
    await prepareDdlCapture(this.pool, t, this.cfg.installDdlTrigger, this.logger, signal);
    this.ddlReady = true;
  }

  async currentPosition(signal: AbortSignal): Promise<Position> {
    const slotName = this.cfg.slotName;
    await precheckPgCdc(this.pool, { slot: slotName, streaming: false }, signal);
    await this.prepareDdl(signal);
    const created = await ensurePublication(this.pool, this.cfg.pubName, this.publicationTables, this.logger, signal);
    if (created && !this.publicationTables) await warnNoReplicaIdentity(this.pool, this.logger, signal);
    let slot = await readSlot(this.pool, slotName, signal);
    if (slot && this.cfg.recreateSlotIfExists) {
      await dropSlot(this.pool, slotName, signal);
      this.logger.info('replication slot dropped (recreate_slot_if_exists)', { slot: slotName });
      slot = null;
    }
    if (!slot) {
      const point = await createSlot(this.pool, slotName, signal);
      this.logger.info('replication slot created', { slot: slotName, consistentPoint: formatLsn(point) });
      return pgPosition(point);
    }
    const confirmed = slot.confirmedFlush ?? slot.restartLsn ?? 0n;
    const start = this.cfg.startLsn ? tryParseLsn(this.cfg.startLsn)! : null;
    if (start !== null && start < confirmed) {
      this.logger.warn('extractor.start_lsn is behind the slot; starting at its confirmed_flush_lsn', { startLsn: this.cfg.startLsn, confirmedFlushLsn: formatLsn(confirmed) });
    }
    return pgPosition(start !== null ? maxLsn(start, confirmed) : confirmed);
  }

  async *stream(from: Position, signal: AbortSignal): AsyncGenerator<ChangeEvent[]> {
    const fromLsn = lsnOfPosition(from);
    if (this.session) throw new FerryError('RT002', `slot ${this.cfg.slotName}: a stream is already open on this source`);
    let session: ReplicationSession;
    try {
      await this.checkStream(fromLsn, signal);
      session = await ReplicationSession.open(
        {
          client: this.client,
          slot: this.cfg.slotName,
          publication: this.cfg.pubName,
          from: fromLsn,
          maxItems: this.o.queueItems,
          maxBytes: this.o.queueBytes,
          keepaliveMs: this.cfg.keepaliveIntervalSecs * 1000,
          inUseWaitMs: this.o.inUseWaitMs,
          confirmed: () => this.acked,
          logger: this.logger,
        },
        signal,
      );
    } catch (e) {
      if (signal.aborted && isAbort(e)) return;
      throw e;
    }
    this.session = session;
    this.received = fromLsn;
    session.sendStatus(false); // re-confirms what was acked before a reconnect
    this.logger.info('replication started', { slot: this.cfg.slotName, publication: this.cfg.pubName, from: formatLsn(fromLsn) });
    const hb = this.cfg.heartbeatTable;
    this.heartbeat = hb
      ? new HeartbeatWriter(this.pool, hb, this.cfg.slotName, this.cfg.heartbeatIntervalSecs * 1000, { received: () => formatLsn(this.received), flushed: () => formatLsn(this.acked) }, this.logger)
      : null;
    this.heartbeat?.start();
    const decoder = new PgoutputDecoder(this.types, fromLsn, { heartbeat: hb, ddlMeta: this.cfg.ddlMetaTable });
    try {
      for (;;) {
        const batch = await this.nextBatch(session, decoder, signal);
        if (!batch) return;
        if (batch.length) yield batch;
      }
    } catch (e) {
      if (signal.aborted && isAbort(e)) return;
      throw e;
    } finally {
      await this.heartbeat?.stop();
      this.heartbeat = null;
      this.session = null;
      await session.close();
      await this.syncSlot().catch((e) => this.logger.warn('could not confirm the acknowledged position after closing the stream', { error: e as Error }));
    }
  }

  /** Before streaming: prerequisites (once), and the slot and publication must exist -- never recreated here. */
  private async checkStream(fromLsn: bigint, signal: AbortSignal): Promise<void> {
    if (!this.checked) {
      await precheckPgCdc(this.pool, { slot: this.cfg.slotName, streaming: true }, signal);
      this.checked = true;
    }
    await this.prepareDdl(signal);
    if (!(await readSlot(this.pool, this.cfg.slotName, signal))) {
      throw new FerryError(
        'PR001',
        `replication slot "${this.cfg.slotName}" does not exist, so changes after ${formatLsn(fromLsn)} are lost; start the task again from a snapshot (its checkpoint must be cleared)`,
        { details: { slot: this.cfg.slotName } },
      );
    }
    if (!(await publicationExists(this.pool, this.cfg.pubName, signal))) {
      // Re-creating it would not help: changes written while it did not exist cannot be decoded with it.
      throw new FerryError('PR001', `publication "${this.cfg.pubName}" does not exist (extractor.pub_name); changes may be lost: start the task again from a snapshot`, {
        details: { publication: this.cfg.pubName },
      });
    }
    // Tables the task gained since (new tables matching the filter) join a list publication from now on.
    if (this.publicationTables) await ensurePublication(this.pool, this.cfg.pubName, this.publicationTables, this.logger, signal);
  }

  /**
   * Decodes waiting items into one batch: up to batchEvents events, or fewer when nothing more is waiting.
   * Null when the stream is over (aborted).
   */
  private async nextBatch(session: ReplicationSession, decoder: PgoutputDecoder, signal: AbortSignal): Promise<ChangeEvent[] | null> {
    if (signal.aborted) return null;
    const batch: ChangeEvent[] = [];
    while (batch.length < this.o.batchEvents) {
      const it = session.take();
      if (!it) {
        if (batch.length) break;
        if (!(await session.wait(signal))) return null;
        continue;
      }
      if (PgoutputDecoder.isRelation(it)) {
        await decoder.relation(it.msg, signal);
        continue;
      }
      const ev = decoder.decode(it);
      if (!ev) continue;
      if (ev.kind === 'commit' || ev.kind === 'heartbeat') this.received = lsnOfPosition(ev.position);
      batch.push(ev);
    }
    return batch;
  }

  async ack(position: Position, signal: AbortSignal): Promise<void> {
    const lsn = lsnOfPosition(position);
    if (lsn <= this.acked) return;
    this.acked = lsn;
    if (this.session?.isOpen) this.session.sendStatus(false);
    else await this.syncSlot(signal);
  }

  /** With no stream open, confirms the acknowledged LSN through SQL when the slot is behind it. */
  private async syncSlot(signal: AbortSignal = new AbortController().signal): Promise<void> {
    if (!this.acked || this.session) return;
    const slot = await readSlot(this.pool, this.cfg.slotName, signal);
    if (!slot || (slot.confirmedFlush ?? 0n) >= this.acked) return;
    await advanceSlot(this.pool, this.cfg.slotName, this.acked, signal);
  }

  async close(): Promise<void> {
    await this.heartbeat?.stop();
    await this.session?.close();
    this.session = null;
    await this.pool.end();
  }
}
