import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createLogger } from '../../lib/core/logger.ts';
import { deadlineSignal } from '../../lib/core/signal.ts';
import { loadPlan } from '../../lib/plan/planner.ts';
import { runChunk } from '../../lib/task/chunk-runner.ts';
import { chunkEventSchema, parseEvent, taskForEvent } from '../../lib/task/function-input.ts';

const logger = createLogger({ level: (process.env.FERRY_LOG_LEVEL as 'info') ?? 'info' }).child({ stage: 'chunk' });
/** Stop this long before the Lambda deadline: time to finish the batch in flight and save progress. */
const marginMs = Number(process.env.FERRY_DEADLINE_MARGIN_MS ?? 20_000);

/**
 * Chunk function: copies one chunk of the stored plan. Stops `FERRY_DEADLINE_MARGIN_MS` before the deadline,
 * saves its place and returns `partial` so the state machine invokes it again; a duplicate or concurrent
 * invocation changes nothing (idempotent writes, `done` chunks are skipped).
 * Output: { chunkId, status: done|partial|skipped, rows, totalRows }.
 */
export const handler = middy(async (event: unknown, context: Context) => {
  const ev = parseEvent(chunkEventSchema, event, 'chunk');
  const { cfg, store, resources } = await taskForEvent(ev, logger);
  const remaining = context?.getRemainingTimeInMillis?.() ?? 15 * 60_000;
  const signal = deadlineSignal(Date.now() + remaining, Math.min(marginMs, remaining / 4));
  const log = logger.child({ taskId: cfg.taskId, requestId: context?.awsRequestId });
  const plan = await loadPlan(store, cfg.taskId, signal);
  return runChunk({ cfg, store, resources, logger: log }, plan, ev.chunkId, { signal, worker: context?.awsRequestId });
}, { timeoutEarlyInMillis: 0 });
