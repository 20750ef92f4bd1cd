import { hostname } from 'node:os';
import type { CheckpointStore, Logger } from '../core/index.ts';
import { fenceOf } from '../core/checkpoint.ts';
import { asFerryError, isFerryError } from '../core/errors.ts';
import { anySignal, retry, sleep } from '../core/signal.ts';
import type { TaskConfig } from '../config/types.ts';
import { leaseName } from '../checkpoint/keys.ts';
import { ensurePlan } from '../plan/planner.ts';
import type { TaskPlan } from '../plan/plan-schema.ts';
import { runChunk } from './chunk-runner.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { TaskResources } from './resources.ts';
import { doneChunks } from './snapshot-task.ts';

export interface WorkerOptions {
  store: CheckpointStore;
  logger: Logger;
  /** Soft stop (SIGTERM): the chunk in flight saves its place, its claim is released, the worker returns. */
  signal: AbortSignal;
  /** Claim time-to-live: a dead worker's chunk is claimable again this long after its last renewal. */
  claimTtlMs: number;
  /** Chunks this process copies at once (claim loops sharing its connections); default 1. */
  slots?: number;
  /** How long to wait before looking again when every pending chunk is claimed by someone else. */
  pollMs?: number;
  /** Worker identity in claims and progress records (default `<host>:<pid>`). */
  id?: string;
}

export interface WorkerSummary {
  taskId: string;
  worker: string;
  /** done: every chunk of the plan is done (by anyone); stopped: the signal fired first. */
  status: 'done' | 'stopped';
  chunksRun: number;
  rows: number;
  /** Claims this worker lost to another worker (CP002) and abandoned. */
  claimsLost: number;
}

/** The lease name of one chunk's claim: `tasks/<taskId>/leases/chunk.<chunkId>`. */
export const chunkClaimName = (taskId: string, chunkId: string): string => leaseName(taskId, `chunk.${encodeURIComponent(chunkId)}`);

/**
 * `ferry worker`: one of N independent processes sharing a checkpoint store. Each makes sure the plan exists
 * (ensurePlan is create-only, so racing workers agree on one plan), then repeatedly claims a pending chunk
 * with a lease, copies it with every progress write fenced by the claim's epoch, and releases it; it exits
 * when every chunk of the plan is done.
 * Invariants: a chunk is copied by at most one live claim holder at a time; a holder whose claim lapsed
 * (paused, partitioned) is refused (CP002) on its next progress write and abandons the chunk; a dead
 * worker's chunk is claimed again once its claim expires, and resumes from the saved progress.
 */
export async function runWorker(cfg: TaskConfig, o: WorkerOptions): Promise<WorkerSummary> {
  const worker = o.id ?? `${hostname()}:${process.pid}`;
  const logger = o.logger.child({ taskId: cfg.taskId, stage: 'worker', worker });
  const resources = new TaskResources(cfg, logger);
  const summary: WorkerSummary = { taskId: cfg.taskId, worker, status: 'done', chunksRun: 0, rows: 0, claimsLost: 0 };
  try {
    const plan = await ensurePlan(cfg, { store: o.store, resources, logger, signal: o.signal });
    const metaCache = new Map();
    const slots = Math.max(1, o.slots ?? 1);
    const loop = async (slot: number) => {
      const owner = slots > 1 ? `${worker}#${slot}` : worker;
      for (;;) {
        if (o.signal.aborted) return;
        const pending = await pendingChunks(o.store, plan, o.signal);
        if (pending.length === 0) return;
        const claimed = await claimOne(o, plan, pending, owner, logger);
        if (!claimed) {
          await sleep(o.pollMs ?? Math.min(1000, o.claimTtlMs / 4), o.signal).catch(() => undefined);
          continue;
        }
        const { chunkId, keeper } = claimed;
        try {
          const signal = anySignal([o.signal, keeper.lost.signal]);
          const deps = { cfg, store: o.store, resources, logger, metaCache, workers: slots };
          const r = await retry(() => runChunk(deps, plan, chunkId, { signal, worker: owner, fence: fenceOf(keeper.lease) }), {
            attempts: 3, baseMs: 500, maxMs: 5000, signal,
            onRetry: (e, attempt, waitMs) => logger.warn('chunk retry', { chunk: chunkId, attempt, waitMs, error: asFerryError(e).toLine() }),
          });
          if (keeper.lost.signal.aborted) throw keeper.lost.signal.reason;
          if (r.status !== 'skipped') summary.chunksRun++;
          summary.rows += r.rows;
        } catch (e) {
          if (!(isFerryError(e) && e.code === 'CP002')) throw e;
          summary.claimsLost++;
          logger.warn('chunk claim lost to another worker; abandoning the chunk', { chunk: chunkId, code: e.code, error: e.message });
        } finally {
          await keeper.release();
        }
      }
    };
    await Promise.all(Array.from({ length: slots }, (_, i) => loop(i)));
    if (o.signal.aborted) summary.status = 'stopped';
    logger.info('worker finished', { ...summary });
    return summary;
  } catch (e) {
    logger.error('worker failed', { code: asFerryError(e).code, error: asFerryError(e).message });
    throw e;
  } finally {
    await resources.close();
  }
}

async function pendingChunks(store: CheckpointStore, plan: TaskPlan, signal: AbortSignal): Promise<string[]> {
  const done = await doneChunks(store, plan, signal);
  return plan.chunks.filter((c) => !done.has(c.id)).map((c) => c.id);
}

/** Tries the pending chunks from a random starting point (so workers spread out); null when all are held. */
async function claimOne(o: WorkerOptions, plan: TaskPlan, pending: string[], owner: string, logger: Logger): Promise<{ chunkId: string; keeper: LeaseKeeper } | null> {
  const start = Math.floor(Math.random() * pending.length);
  for (let i = 0; i < pending.length; i++) {
    const chunkId = pending[(start + i) % pending.length];
    try {
      const keeper = await LeaseKeeper.acquire(o.store, chunkClaimName(plan.taskId, chunkId), owner, { ttlMs: o.claimTtlMs, waitMs: 0, signal: o.signal, logger });
      return { chunkId, keeper };
    } catch (e) {
      if (isFerryError(e) && e.code === 'CP002') continue; // held by a live worker
      throw e;
    }
  }
  return null;
}
