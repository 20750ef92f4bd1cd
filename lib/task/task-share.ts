import type { CheckpointStore, Logger } from '../core/index.ts';
import { FerryError } from '../core/errors.ts';
import type { TaskConfig } from '../config/types.ts';
import { ensurePlan } from '../plan/planner.ts';
import { runChunk, type ChunkResult } from './chunk-runner.ts';
import { TaskResources } from './resources.ts';

/** One task of an indexed fan-out (a Cloud Run job's tasks, an array job): index in [0, count). */
export interface TaskShare {
  index: number;
  count: number;
}

/**
 * The chunks task `index` of `count` runs: index, index+count, index+2*count... in plan order. Pure.
 * Invariant: over index = 0..count-1 the shares are disjoint and together cover every chunk exactly once,
 * and neighbouring chunks (usually the same table) go to different tasks, which spreads the big tables.
 */
export function chunksForTask<T>(chunks: readonly T[], share: TaskShare): T[] {
  const out: T[] = [];
  for (let i = share.index; i < chunks.length; i += share.count) out.push(chunks[i]);
  return out;
}

/**
 * The share from flags, else from Cloud Run's CLOUD_RUN_TASK_INDEX / CLOUD_RUN_TASK_COUNT. CF001/CF002 name
 * the flag or variable when a value is missing or out of range.
 */
export function resolveTaskShare(flags: { taskIndex?: string; taskCount?: string }, env: NodeJS.ProcessEnv = process.env): TaskShare {
  const indexName = flags.taskIndex !== undefined ? '--task-index' : 'CLOUD_RUN_TASK_INDEX';
  const index = parseCount(flags.taskIndex ?? env.CLOUD_RUN_TASK_INDEX, indexName, 0);
  const count = parseCount(flags.taskCount ?? env.CLOUD_RUN_TASK_COUNT, flags.taskCount !== undefined ? '--task-count' : 'CLOUD_RUN_TASK_COUNT', 1);
  if (index >= count) throw new FerryError('CF001', `${indexName}: ${index} is not below the task count ${count}`, { details: { key: indexName } });
  return { index, count };
}

function parseCount(raw: string | undefined, name: string, min: number): number {
  if (raw === undefined || raw === '') throw new FerryError('CF002', `${name}: required to pick this task's chunks (or pass a chunk id)`, { details: { key: name } });
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new FerryError('CF001', `${name}: expected an integer >= ${min}, got ${JSON.stringify(raw)}`, { details: { key: name } });
  return n;
}

export interface TaskShareSummary extends TaskShare {
  taskId: string;
  chunks: number;
  done: number;
  skipped: number;
  partial: number;
  rows: number;
}

/**
 * Runs this task's share of the plan, one chunk after another. The plan is created when missing (create-only:
 * when every task of a job plans at once, all of them use the one plan stored first). A chunk already done is
 * skipped, so a retried task resumes. Stops at the first failure (the job retries the task) or when `signal`
 * fires (the chunk in flight saves its place; the summary counts it `partial`).
 */
export async function runTaskShare(cfg: TaskConfig, share: TaskShare, o: { store: CheckpointStore; logger: Logger; signal: AbortSignal }): Promise<TaskShareSummary> {
  const logger = o.logger.child({ taskId: cfg.taskId, stage: 'task-share', taskIndex: share.index, taskCount: share.count });
  const resources = new TaskResources(cfg, logger);
  const summary: TaskShareSummary = { taskId: cfg.taskId, ...share, chunks: 0, done: 0, skipped: 0, partial: 0, rows: 0 };
  try {
    const plan = await ensurePlan(cfg, { store: o.store, resources, logger, signal: o.signal });
    const mine = chunksForTask(plan.chunks, share);
    summary.chunks = mine.length;
    const deps = { cfg, store: o.store, resources, logger, metaCache: new Map() };
    for (const c of mine) {
      if (o.signal.aborted) break;
      const r: ChunkResult = await runChunk(deps, plan, c.id, { signal: o.signal });
      summary[r.status] += 1;
      summary.rows += r.rows;
    }
    logger.info('task share finished', { ...summary });
    return summary;
  } finally {
    await resources.close();
  }
}
