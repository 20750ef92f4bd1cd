import type { CheckpointStore, Logger } from '../core/index.ts';
import { asFerryError, isFerryError } from '../core/errors.ts';
import { retry } from '../core/signal.ts';
import type { TaskConfig } from '../config/types.ts';
import { chunkPrefix, taskPrefix } from '../checkpoint/keys.ts';
import { ensurePlan } from '../plan/planner.ts';
import { chunkProgressSchema, type TaskPlan } from '../plan/plan-schema.ts';
import { runChunk, type ChunkResult } from './chunk-runner.ts';
import { TaskResources } from './resources.ts';
import { runPool } from './worker-pool.ts';
import { noProgress, type ProgressReporter } from './progress.ts';

export interface SnapshotSummary {
  taskId: string;
  status: 'done' | 'partial' | 'failed';
  tables: number;
  chunks: number;
  chunksDone: number;
  /** Rows written by this run (a resumed run counts only what it wrote). */
  rows: number;
  seconds: number;
  rowsPerSec: number;
  errors: Array<{ chunkId: string; table: string; code: string; message: string }>;
}

export interface SnapshotRunOptions {
  store: CheckpointStore;
  logger: Logger;
  /** Forget the stored plan and progress and start over. */
  init?: boolean;
  progress?: ProgressReporter;
  /** Soft stop (SIGINT/SIGTERM): chunks save their place and the run returns `partial`. */
  signal?: AbortSignal;
  resources?: TaskResources;
}

/** Chunks a process runs at once: the larger of ape-dts's extractor.parallel_size and parallelizer.parallel_size. */
export const workerCount = (cfg: TaskConfig): number => Math.max(1, cfg.extractor.parallelSize, cfg.parallelizer.parallelSize);

/**
 * `ferry run` for snapshot tasks on one machine: plan (or reuse the stored plan), then every chunk that is
 * not done on an in-process worker pool sharing the checkpoint store.
 * Invariant: rerunning after any crash continues from saved progress and converges to target == source.
 */
export async function runSnapshot(cfg: TaskConfig, o: SnapshotRunOptions): Promise<SnapshotSummary> {
  const t0 = Date.now();
  const logger = o.logger.child({ taskId: cfg.taskId, stage: 'snapshot' });
  const signal = o.signal ?? new AbortController().signal;
  const resources = o.resources ?? new TaskResources(cfg, logger);
  const progress = o.progress ?? noProgress;
  resources.preload();
  try {
    if (o.init) await forgetTask(o.store, cfg.taskId, signal);
    const plan = await ensurePlan(cfg, { store: o.store, resources, logger, signal });
    const done = await doneChunks(o.store, plan, signal);
    progress.start(
      plan.tables.map((t) => ({
        id: `${t.source.db}.${t.source.tb}`,
        estimatedRows: t.estimatedRows,
        doneRows: t.chunkIds.reduce((n, id) => n + (done.get(id) ?? 0), 0),
      })),
    );
    const pending = plan.chunks.filter((c) => !done.has(c.id));
    logger.info('snapshot starts', { chunks: plan.chunks.length, pending: pending.length, workers: workerCount(cfg) });
    const metaCache = new Map();
    const deps = { cfg, store: o.store, resources, logger, metaCache, workers: workerCount(cfg) };
    const settled = await runPool(
      pending,
      workerCount(cfg),
      (c) =>
        retry(() => runChunk(deps, plan, c.id, { signal, onRows: (t, n) => progress.rows(`${t.source.db}.${t.source.tb}`, n) }), {
          attempts: 3,
          baseMs: 500,
          maxMs: 5000,
          signal,
          onRetry: (e, attempt, waitMs) => logger.warn('chunk retry', { chunk: c.id, attempt, waitMs, error: asFerryError(e).toLine() }),
        }),
      { signal, stopOnError: true },
    );
    progress.stop();
    return summarize(cfg, plan, pending, settled, done.size, t0, logger);
  } finally {
    progress.stop();
    if (!o.resources) await resources.close();
  }
}

function summarize(
  cfg: TaskConfig, plan: TaskPlan, pending: TaskPlan['chunks'],
  settled: Array<PromiseSettledResult<ChunkResult> | undefined>, alreadyDone: number, t0: number, logger: Logger,
): SnapshotSummary {
  const errors: SnapshotSummary['errors'] = [];
  let rows = 0;
  let chunksDone = alreadyDone;
  settled.forEach((s, i) => {
    if (!s) return;
    if (s.status === 'fulfilled') {
      rows += s.value.rows;
      if (s.value.status !== 'partial') chunksDone++;
    } else {
      const e = asFerryError(s.reason);
      const c = pending[i];
      errors.push({ chunkId: c.id, table: `${c.table.db}.${c.table.tb}`, code: e.code, message: e.message });
      logger.error('chunk failed', { chunk: c.id, code: e.code, error: e.message, ...(isFerryError(s.reason) ? s.reason.details : {}) });
    }
  });
  const seconds = (Date.now() - t0) / 1000;
  const status = errors.length ? 'failed' : chunksDone === plan.chunks.length ? 'done' : 'partial';
  const summary: SnapshotSummary = {
    taskId: cfg.taskId, status, tables: plan.tables.length, chunks: plan.chunks.length, chunksDone, rows,
    seconds: Math.round(seconds * 100) / 100, rowsPerSec: Math.round(rows / Math.max(seconds, 0.001)), errors,
  };
  logger.info('snapshot summary', { ...summary, errors: errors.length });
  return summary;
}

/** chunk id -> rows written, for every chunk whose progress says done. */
export async function doneChunks(store: CheckpointStore, plan: TaskPlan, signal: AbortSignal): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const prefix = chunkPrefix(plan.taskId);
  for (const item of await store.list(prefix, signal)) {
    const p = chunkProgressSchema.safeParse(item.value);
    if (p.success && p.data.status === 'done') out.set(item.key.slice(prefix.length), p.data.rows);
  }
  return out;
}

/** Deletes the task's plan, progress and positions (`--init`). */
export async function forgetTask(store: CheckpointStore, taskId: string, signal: AbortSignal): Promise<void> {
  for (const item of await store.list(taskPrefix(taskId), signal)) await store.delete(item.key, { signal });
}
