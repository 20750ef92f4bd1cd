import { hostname } from 'node:os';
import type { CdcSource, CdcStartCapture, ChangeApplier, ChangeEvent, CheckpointStore, Logger, Position, TargetChange } from '../core/index.ts';
import { FerryError, asFerryError, isFerryError } from '../core/errors.ts';
import { anySignal, deadlineSignal, isAbort, sleep } from '../core/signal.ts';
import type { TaskConfig } from '../config/types.ts';
import { leaseName } from '../checkpoint/keys.ts';
import { ChangeRouter } from '../pipeline/cdc/route.ts';
import { cdcAppliedChanges, cdcLagSeconds, cdcTransactions } from '../metrics/registry.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { BatchApplier, applyModeOf } from './cdc-apply.ts';
import { readCdcRecord, writeCdcRecord, type CdcRecord } from './cdc-position.ts';
import { ddlType, namesDatabase } from './cdc-ddl.ts';
import { TaskResources } from './resources.ts';

export interface CdcRunOptions {
  store: CheckpointStore;
  logger: Logger;
  /** Soft stop (SIGTERM): finish applying complete transactions, commit the position, release the lease. */
  signal: AbortSignal;
  resources?: TaskResources;
  /** Lease: ttl and how long to wait for another holder (default 30 s / 0). */
  leaseTtlMs?: number;
  leaseWaitMs?: number;
  /** Already holding the task's CDC lease (snapshot+CDC handover). */
  lease?: LeaseKeeper;
  /** Stop once this many source transactions were applied (tests, bounded catch-up runs). */
  maxTransactions?: number;
}

export interface CdcSummary {
  taskId: string;
  transactions: number;
  changes: number;
  position?: Position;
  stoppedBy: 'signal' | 'lease-lost' | 'max-transactions' | 'end';
}

/** How long a soft stop's final acknowledgement may take. */
const FINAL_ACK_MS = 10_000;

interface DoneTx {
  changes: TargetChange[];
  position: Position;
  sourceTs?: number;
}

/**
 * Runs CDC for a task until stopped: holds the task's lease, streams from the committed position, applies
 * complete transactions with the configured apply mode, and commits the position (fenced by the lease) --
 * then acknowledges it to the source -- only after the target committed them.
 * Invariants: a position is stored only when every change up to it is durable in the target; the source is
 * never acknowledged beyond the stored position; a worker whose lease moved on stops before its next write.
 */
export async function runCdc(cfg: TaskConfig, o: CdcRunOptions): Promise<CdcSummary> {
  const logger = o.logger.child({ taskId: cfg.taskId, stage: 'cdc' });
  const resources = o.resources ?? new TaskResources(cfg, logger);
  const owner = `${hostname()}:${process.pid}`;
  const lease =
    o.lease ?? (await LeaseKeeper.acquire(o.store, leaseName(cfg.taskId, 'cdc'), owner, { ttlMs: o.leaseTtlMs ?? 30_000, waitMs: o.leaseWaitMs ?? 0, signal: o.signal, logger }));
  const stop = anySignal([o.signal, lease.lost.signal]);
  const appliers: ChangeApplier[] = [];
  try {
    const source = await resources.cdcSource();
    const sinker = await resources.sinker();
    if (!sinker.openApplier) {
      throw new FerryError('CF001', `sinker.db_type: ${cfg.sinker.dbType} cannot apply CDC changes`, { details: { key: 'sinker.db_type' } });
    }
    const lanes = applyModeOf(cfg) === 'serial' ? 1 : Math.max(1, cfg.parallelizer.parallelSize);
    for (let i = 0; i < lanes; i++) appliers.push(await sinker.openApplier(stop));
    const router = new ChangeRouter(cfg, await resources.metadata(), logger);
    const run = new CdcLoop(cfg, o, logger, source, router, new BatchApplier(appliers, applyModeOf(cfg), logger), lease, stop, await resources.sameSqlDialect());
    return await run.run();
  } finally {
    await Promise.allSettled(appliers.map((a) => a.close()));
    if (!o.lease) await lease.release();
    if (!o.resources) await resources.close();
  }
}

class CdcLoop {
  private committed?: CdcRecord;
  private candidate?: { position: Position; sourceTs?: number };
  private lastCheckpoint = 0;
  private transactions = 0;
  private changes = 0;
  private readonly done: DoneTx[] = [];
  private doneCount = 0;
  private open: TargetChange[] = [];
  private warnedGiant = false;
  /** The group of transactions being applied while the next one is read and routed (at most one). */
  private inflight?: { txs: number; done: Promise<void>; settled: boolean };

  constructor(
    private cfg: TaskConfig,
    private o: CdcRunOptions,
    private logger: Logger,
    private source: CdcSource & CdcStartCapture,
    private router: ChangeRouter,
    private applier: BatchApplier,
    private lease: LeaseKeeper,
    private stop: AbortSignal,
    /** Source DDL text runs unchanged on the target (same SQL dialect). */
    private sameDialect: boolean,
  ) {}

  async run(): Promise<CdcSummary> {
    this.committed = await readCdcRecord(this.o.store, this.cfg.taskId, this.stop);
    if (!this.committed) {
      const position = await this.source.currentPosition(this.stop);
      this.committed = { position, appliedAt: new Date().toISOString() };
      await writeCdcRecord(this.o.store, this.cfg.taskId, this.committed, this.fence(), this.stop);
      this.logger.info('cdc starts from the current source position', { position: position.data });
    } else {
      this.logger.info('cdc resumes', { position: this.committed.position.data });
    }
    let stoppedBy: CdcSummary['stoppedBy'] = 'end';
    for (let attempt = 0; ; attempt++) {
      try {
        stoppedBy = await this.stream();
        break;
      } catch (e) {
        const fe = asFerryError(e);
        if (this.stop.aborted && (isAbort(e) || fe.code === 'CN001')) {
          stoppedBy = this.o.signal.aborted ? 'signal' : 'lease-lost';
          break;
        }
        if (!fe.retryable || attempt >= 20) throw fe;
        // Reconnect: drop what is not committed and stream again from the stored position.
        await this.reset();
        const wait = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
        this.logger.warn('cdc stream failed; reconnecting from the committed position', { error: fe.toLine(), waitMs: wait, attempt: attempt + 1 });
        await sleep(wait, this.stop).catch(() => undefined);
        if (this.stop.aborted) {
          stoppedBy = this.o.signal.aborted ? 'signal' : 'lease-lost';
          break;
        }
      }
    }
    return { taskId: this.cfg.taskId, transactions: this.transactions, changes: this.changes, position: this.committed?.position, stoppedBy };
  }

  private async reset(): Promise<void> {
    await this.inflight?.done.catch(() => undefined);
    this.inflight = undefined;
    this.done.length = 0;
    this.doneCount = 0;
    this.open = [];
    this.candidate = undefined;
  }

  private fence() {
    return { lease: this.lease.lease.name, epoch: this.lease.lease.epoch };
  }

  private async stream(): Promise<CdcSummary['stoppedBy']> {
    const from = this.committed!.position;
    for await (const batch of this.source.stream(from, this.stop)) {
      for (const ev of batch) {
        await this.onEvent(ev);
        if (this.o.maxTransactions && this.transactions + (this.inflight?.txs ?? 0) + this.done.length >= this.o.maxTransactions) break;
      }
      await this.flush();
      // A group that has finished is collected now (its failure surfaces here), so an idle source's heartbeats
      // can move the position again; with a transaction limit every group is awaited.
      if (this.o.maxTransactions || this.inflight?.settled) await this.drain();
      await this.checkpoint(false);
      if (this.o.maxTransactions && this.transactions >= this.o.maxTransactions) {
        await this.checkpoint(true);
        return 'max-transactions';
      }
      if (this.stop.aborted) break;
    }
    await this.flushAll().catch((e) => this.logger.warn('final flush failed', { error: (e as Error).message }));
    await this.checkpoint(true);
    return this.o.signal.aborted ? 'signal' : this.lease.lost.signal.aborted ? 'lease-lost' : 'end';
  }

  private async onEvent(ev: ChangeEvent): Promise<void> {
    switch (ev.kind) {
      case 'row': {
        const tc = await this.router.toTarget(ev, this.stop);
        if (!tc) return;
        this.open.push(tc);
        if (this.open.length >= this.cfg.pipeline.bufferSize) await this.spillOpen();
        return;
      }
      case 'commit':
        this.done.push({ changes: this.open, position: ev.position, sourceTs: ev.sourceTs });
        this.doneCount += this.open.length;
        this.open = [];
        if (this.doneCount >= Math.max(1, this.cfg.sinker.batchSize)) await this.flush();
        return;
      case 'heartbeat':
        if (!this.open.length && !this.done.length && !this.inflight && (!this.candidate || this.candidate.position.order < ev.position.order)) {
          if (ev.position.order > this.committed!.position.order) this.candidate = { position: ev.position, sourceTs: ev.sourceTs };
        }
        return;
      case 'ddl':
        await this.flushAll();
        await this.onDdl(ev);
        return;
      case 'truncate':
        await this.flushAll();
        for (const t of ev.tables) {
          if (!this.router.tableIncluded(t)) continue;
          if (!this.router.ddlIncluded(t.db, t.tb, 'truncate_table') && !this.cfg.filter.doEvents.includes('truncate')) continue;
          const target = this.router.routeTable(t);
          if (!(await this.applier.truncate(target, this.stop))) this.logger.warn('truncate not applied: sinker cannot truncate', { table: `${t.db}.${t.tb}` });
        }
        return;
    }
  }

  /** A transaction larger than the buffer is applied in pieces (in order); its position commits at its end. */
  private async spillOpen(): Promise<void> {
    if (!this.warnedGiant) {
      this.logger.warn('transaction larger than pipeline.buffer_size: applied in pieces, not atomically', { bufferSize: this.cfg.pipeline.bufferSize });
      this.warnedGiant = true;
    }
    await this.flushAll();
    await this.applier.applyOrdered(this.open, this.stop);
    this.changes += this.open.length;
    this.open = [];
  }

  /**
   * Starts applying the complete transactions read so far, after the group before them has been applied
   * (groups apply in source order, one at a time), and returns without waiting: the next group is read and
   * routed while this one is in the target. Its position becomes the checkpoint candidate only once applied.
   */
  private async flush(): Promise<void> {
    if (!this.done.length) return;
    const txs = this.done.splice(0);
    this.doneCount = 0;
    await this.drain();
    const f = { txs: txs.length, done: this.applyGroup(txs), settled: false };
    // Observed by the next drain; never an unhandled rejection meanwhile.
    const settle = () => void (f.settled = true);
    f.done.then(settle, settle);
    this.inflight = f;
  }

  /** Waits for the group in flight (rethrowing its failure). */
  private async drain(): Promise<void> {
    const f = this.inflight;
    if (!f) return;
    this.inflight = undefined;
    await f.done;
  }

  /** Everything read so far is applied when this resolves (before DDL, truncate, a final checkpoint). */
  private async flushAll(): Promise<void> {
    await this.flush();
    await this.drain();
  }

  private async applyGroup(txs: DoneTx[]): Promise<void> {
    const changes = txs.flatMap((t) => t.changes);
    await this.applier.apply(changes, this.stop);
    const last = txs[txs.length - 1];
    this.candidate = { position: last.position, sourceTs: last.sourceTs ?? this.candidate?.sourceTs };
    this.transactions += txs.length;
    this.changes += changes.length;
    cdcAppliedChanges.inc({ task: this.cfg.taskId }, changes.length);
    cdcTransactions.inc({ task: this.cfg.taskId }, txs.length);
    if (last.sourceTs) cdcLagSeconds.set({ task: this.cfg.taskId }, Math.max(0, (Date.now() - last.sourceTs) / 1000));
  }

  private async checkpoint(force: boolean): Promise<void> {
    const c = this.candidate;
    if (!c || c.position.order <= this.committed!.position.order) return;
    if (!force && Date.now() - this.lastCheckpoint < this.cfg.pipeline.checkpointIntervalSecs * 1000) return;
    if (this.lease.lost.signal.aborted) return;
    const rec: CdcRecord = { position: c.position, sourceTs: c.sourceTs, appliedAt: new Date().toISOString() };
    await writeCdcRecord(this.o.store, this.cfg.taskId, rec, this.fence());
    this.committed = rec;
    this.lastCheckpoint = Date.now();
    // The final checkpoint of a soft stop runs after the stop signal fired: its acknowledgement gets a signal
    // of its own (bounded), or the source would never hear of the last group applied.
    const ackSignal = force ? deadlineSignal(Date.now() + FINAL_ACK_MS, 0, this.lease.lost.signal) : this.stop;
    await this.source.ack(c.position, ackSignal).catch((e) => {
      if (!ackSignal.aborted && !this.stop.aborted) throw e;
      this.logger.warn('could not acknowledge the final position to the source; it is stored and resent on restart', { error: (e as Error).message });
    });
    this.logger.debug('position committed', { position: c.position.data });
  }

  /**
   * DDL: refresh the table's metadata so later rows decode and route with the new shape; apply it to the
   * target when `filter.do_ddls` allows, the target is the same engine, and the table is not renamed by
   * the router (the statement text names source tables).
   */
  private async onDdl(ev: Extract<ChangeEvent, { kind: 'ddl' }>): Promise<void> {
    this.router.invalidate(ev.table);
    const type = ddlType(ev.sql);
    const table = ev.table ? `${ev.table.db}.${ev.table.tb}` : undefined;
    if (!this.router.ddlIncluded(ev.db, ev.table?.tb, type)) {
      this.logger.info('ddl not applied (filter.do_ddls)', { db: ev.db, table, type });
      return;
    }
    if (!this.sameDialect) {
      this.logger.warn('ddl not applied: source and target engines differ', { db: ev.db, table, type });
      return;
    }
    const routed = ev.table ? this.router.routeTable(ev.table) : undefined;
    let db = ev.db;
    if (routed && (routed.db !== ev.table!.db || routed.tb !== ev.table!.tb)) {
      // A database-only route (db_map) works for statements that do not name their database: binlog DDL is
      // usually `ALTER TABLE t ...` run with the source database as default, so it runs as is in the target's.
      if (routed.tb !== ev.table!.tb || namesDatabase(ev.sql, ev.table!.db)) {
        this.logger.warn('ddl not applied: the table is renamed by the router, or the statement names its database', { table, type });
        return;
      }
      db = routed.db;
    }
    if (!(await this.applier.ddl({ db, sql: ev.sql }, this.stop))) {
      this.logger.warn('ddl not applied: sinker cannot apply DDL', { table, type });
      return;
    }
    this.logger.info('ddl applied', { db: ev.db, table, type });
  }
}
