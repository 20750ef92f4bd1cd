import { hostname } from 'node:os';
import type { CheckpointStore, Fence, Logger } from '../core/index.ts';
import type { TaskConfig } from '../config/types.ts';
import { leaseName } from '../checkpoint/keys.ts';
import { readCdcRecord, writeCdcRecord, type CdcRecord } from './cdc-position.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { TaskResources } from './resources.ts';

/**
 * Records where CDC starts for a snapshot->CDC handover: the source's current position (MySQL binlog
 * position, PostgreSQL slot consistent point), captured BEFORE the planner reads any row, so nothing
 * committed during the snapshot is missed. Idempotent: an existing record is kept and returned (a rerun or
 * a duplicate planner invocation never moves the start forward past changes not yet applied).
 */
export async function recordCdcStart(
  store: CheckpointStore, taskId: string, resources: TaskResources, fence: Fence, logger: Logger, signal: AbortSignal,
): Promise<CdcRecord> {
  const existing = await readCdcRecord(store, taskId, signal);
  if (existing) return existing;
  const position = await (await resources.cdcSource()).currentPosition(signal);
  const rec: CdcRecord = { position, appliedAt: new Date().toISOString(), handover: true };
  await writeCdcRecord(store, taskId, rec, fence, signal);
  logger.info('cdc start recorded before the snapshot', { position: position.data });
  return rec;
}

/**
 * {@link recordCdcStart} for a short-lived caller (the plan function): takes the task's CDC lease just for the
 * write and closes the CDC connection it opened. When a record exists already, neither lease nor connection
 * is touched (a CDC worker may hold the lease).
 */
export async function recordCdcStartOnce(cfg: TaskConfig, o: { store: CheckpointStore; logger: Logger; signal: AbortSignal; leaseTtlMs?: number }): Promise<CdcRecord> {
  const existing = await readCdcRecord(o.store, cfg.taskId, o.signal);
  if (existing) return existing;
  const resources = new TaskResources(cfg, o.logger);
  const lease = await LeaseKeeper.acquire(o.store, leaseName(cfg.taskId, 'cdc'), `${hostname()}:${process.pid}:plan`, {
    ttlMs: o.leaseTtlMs ?? 30_000, waitMs: 0, signal: o.signal, logger: o.logger,
  });
  try {
    return await recordCdcStart(o.store, cfg.taskId, resources, { lease: lease.lease.name, epoch: lease.lease.epoch }, o.logger, o.signal);
  } finally {
    await lease.release();
    await resources.close();
  }
}
