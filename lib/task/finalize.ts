import type { CheckpointStore } from '../core/index.ts';
import { FerryError } from '../core/errors.ts';
import type { TaskConfig } from '../config/types.ts';
import { chunkPrefix } from '../checkpoint/keys.ts';
import { loadPlan } from '../plan/planner.ts';
import { chunkProgressSchema } from '../plan/plan-schema.ts';
import { readCdcRecord } from './cdc-position.ts';

/** What the finalize step reports once the chunk fan-out has finished. */
export interface FinalizeResult {
  taskId: string;
  /** Every chunk of the plan is done. */
  done: boolean;
  chunks: number;
  chunksDone: number;
  /** Chunks not done. */
  pending: number;
  /** Of those, chunks that started and stopped (a progress record that is not `done`): after the fan-out, failures. */
  failed: number;
  /** Up to 20 of the pending chunk ids, for the operator. */
  pendingIds: string[];
  rows: number;
  /**
   * The snapshot->CDC handover (`extract_type=snapshot_and_cdc`): the CDC start recorded by the planner before
   * the first row was read; the CDC worker streams from there. `none` for snapshot-only tasks.
   */
  cdc: { handover: false } | { handover: true; position: Record<string, unknown>; recordedAt: string };
}

/**
 * The step after all chunks: are they all done, and where does CDC start? Read-only, so duplicate or
 * concurrent invocations agree. Throws PR001 when the task hands over to CDC but no start position was
 * recorded (the planner ran with another extract_type): starting CDC from "now" would lose the changes made
 * during the snapshot, so the operator must re-plan with `init`.
 */
export async function finalizeSnapshot(cfg: TaskConfig, store: CheckpointStore, signal: AbortSignal): Promise<FinalizeResult> {
  const plan = await loadPlan(store, cfg.taskId, signal);
  const prefix = chunkPrefix(cfg.taskId);
  const progress = new Map<string, { done: boolean; rows: number }>();
  for (const item of await store.list(prefix, signal)) {
    const p = chunkProgressSchema.safeParse(item.value);
    if (p.success) progress.set(item.key.slice(prefix.length), { done: p.data.status === 'done', rows: p.data.rows });
  }
  const pendingIds = plan.chunks.map((c) => c.id).filter((id) => !progress.get(id)?.done);
  const chunksDone = plan.chunks.length - pendingIds.length;
  const rows = [...progress.values()].reduce((n, p) => n + (p.done ? p.rows : 0), 0);
  const result: FinalizeResult = {
    taskId: cfg.taskId, done: pendingIds.length === 0, chunks: plan.chunks.length, chunksDone,
    pending: pendingIds.length, failed: pendingIds.filter((id) => progress.has(id)).length, pendingIds: pendingIds.slice(0, 20),
    rows, cdc: { handover: false },
  };
  if (cfg.extractor.extractType !== 'snapshot_and_cdc') return result;
  const rec = await readCdcRecord(store, cfg.taskId, signal);
  if (!rec) {
    throw new FerryError('PR001', `task ${cfg.taskId}: extract_type=snapshot_and_cdc but no CDC start position was recorded before the snapshot; re-plan with init=true`, {
      details: { taskId: cfg.taskId, key: 'extractor.extract_type' },
    });
  }
  return { ...result, cdc: { handover: true, position: rec.position.data, recordedAt: rec.appliedAt } };
}
