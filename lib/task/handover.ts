import { hostname } from 'node:os';
import type { CheckpointStore, Logger } from '../core/index.ts';
import type { TaskConfig } from '../config/types.ts';
import { leaseName } from '../checkpoint/keys.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { anySignal } from '../core/signal.ts';
import { recordCdcStart } from './cdc-start.ts';
import { runSnapshot, forgetTask, type SnapshotSummary } from './snapshot-task.ts';
import { runCdc, type CdcSummary } from './cdc-task.ts';
import { TaskResources } from './resources.ts';
import type { ProgressReporter } from './progress.ts';

export interface HandoverOptions {
  store: CheckpointStore;
  logger: Logger;
  signal: AbortSignal;
  init?: boolean;
  progress?: ProgressReporter;
  leaseWaitMs?: number;
  leaseTtlMs?: number;
  maxTransactions?: number;
}

/**
 * Snapshot then CDC without loss (`extract_type=snapshot_and_cdc`, or `ferry run --snapshot-and-cdc`):
 * 1. take the task's CDC lease; 2. record the CDC start position (MySQL binlog position / PostgreSQL slot
 * consistent point) BEFORE the planner reads anything; 3. copy the snapshot; 4. stream from the recorded
 * position. Changes made during the snapshot are applied again on top of it: harmless, because apply is
 * idempotent (upserts by key, deletes of absent rows are no-ops), and nothing committed after the
 * recorded position can be missed. A rerun skips steps already done (the recorded position is kept).
 */
export async function runSnapshotAndCdc(cfg: TaskConfig, o: HandoverOptions): Promise<{ snapshot: SnapshotSummary; cdc?: CdcSummary }> {
  const logger = o.logger.child({ taskId: cfg.taskId });
  if (o.init) await forgetTask(o.store, cfg.taskId, o.signal);
  const resources = new TaskResources(cfg, logger);
  const lease = await LeaseKeeper.acquire(o.store, leaseName(cfg.taskId, 'cdc'), `${hostname()}:${process.pid}`, {
    ttlMs: o.leaseTtlMs ?? 30_000, waitMs: o.leaseWaitMs ?? 0, signal: o.signal, logger,
  });
  try {
    await recordCdcStart(o.store, cfg.taskId, resources, { lease: lease.lease.name, epoch: lease.lease.epoch }, logger, o.signal);
    const snapshot = await runSnapshot(cfg, { store: o.store, logger, signal: anySignal([o.signal, lease.lost.signal]), resources, progress: o.progress });
    if (snapshot.status !== 'done') return { snapshot };
    const cdc = await runCdc(cfg, { store: o.store, logger, signal: o.signal, resources, lease, maxTransactions: o.maxTransactions });
    return { snapshot, cdc };
  } finally {
    await lease.release();
    await resources.close();
  }
}
