import type { CheckpointStore } from '../core/index.ts';
import { planKey } from '../checkpoint/keys.ts';
import { readPlan } from '../plan/planner.ts';
import { readCdcRecord } from './cdc-position.ts';
import { doneChunks } from './snapshot-task.ts';

/** A task's progress as read from its checkpoint store (what `ferry status` prints and the status function returns). */
export interface TaskStatus {
  taskId: string;
  planned: boolean;
  tables?: number;
  chunks?: number;
  chunksDone?: number;
  rowsDone?: number;
  cdc?: {
    position: Record<string, unknown>;
    committedAt: string;
    /** Now minus the source commit time of the last transaction durable in the target (absent before the first one). */
    lagSeconds?: number;
    /** True while the record is still the start captured by the snapshot->CDC handover (nothing applied yet). */
    handover?: boolean;
  };
}

/** Reads plan, chunk progress and the committed CDC position. Read-only; never needs a lease. */
export async function readTaskStatus(store: CheckpointStore, taskId: string, signal: AbortSignal, now = Date.now()): Promise<TaskStatus> {
  const got = await store.get(planKey(taskId), signal);
  const rec = await readCdcRecord(store, taskId, signal);
  const status: TaskStatus = { taskId, planned: Boolean(got) };
  if (got) {
    const plan = readPlan(got.value);
    const done = await doneChunks(store, plan, signal);
    Object.assign(status, { tables: plan.tables.length, chunks: plan.chunks.length, chunksDone: done.size, rowsDone: [...done.values()].reduce((a, b) => a + b, 0) });
  }
  if (rec) {
    status.cdc = {
      position: rec.position.data,
      committedAt: rec.appliedAt,
      lagSeconds: rec.sourceTs ? Math.max(0, Math.round((now - rec.sourceTs) / 100) / 10) : undefined,
      ...(rec.handover ? { handover: true } : {}),
    };
  }
  return status;
}
