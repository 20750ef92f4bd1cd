import middy from '@middy/core';
import { createLogger } from '../../lib/core/logger.ts';
import { forgetTask } from '../../lib/task/snapshot-task.ts';
import { workerCount } from '../../lib/config/task.ts';
import { ensurePlan } from '../../lib/plan/planner.ts';
import { recordCdcStartOnce } from '../../lib/task/cdc-start.ts';
import { parseEvent, planEventSchema, taskForEvent } from '../../lib/task/function-input.ts';

const logger = createLogger({ level: (process.env.FERRY_LOG_LEVEL as 'info') ?? 'info' }).child({ stage: 'plan' });

/**
 * Planner function: discovers tables, cuts chunks, stores the plan (create-only, so a duplicate invocation
 * returns the same plan) and returns the chunk list the fan-out maps over. For `extract_type=snapshot_and_cdc`
 * it first records the CDC start position (kept when it exists), so the CDC worker started after the
 * snapshot misses nothing.
 * Output: { taskId, tables, maxConcurrency, chunks: [{ chunkId }] } -- about 25 bytes a chunk (the Step Functions
 * 256 KB payload holds about 9,000); maxConcurrency is the config's parallel_size (chunks run at once).
 */
export const handler = middy(async (event: unknown) => {
  const ev = parseEvent(planEventSchema, event, 'plan');
  const { cfg, store, resources } = await taskForEvent(ev, logger);
  const signal = new AbortController().signal;
  const log = logger.child({ taskId: cfg.taskId });
  if (ev.init) await forgetTask(store, cfg.taskId, signal);
  // snapshot_and_cdc: where CDC starts is recorded BEFORE any row is read (the handover; see lib/task/cdc-start.ts).
  if (cfg.extractor.extractType === 'snapshot_and_cdc') await recordCdcStartOnce(cfg, { store, logger: log, signal });
  const plan = await ensurePlan(cfg, { store, resources, logger: log, signal });
  return { taskId: plan.taskId, tables: plan.tables.length, maxConcurrency: workerCount(cfg), chunks: plan.chunks.map((c) => ({ chunkId: c.id })) };
});
