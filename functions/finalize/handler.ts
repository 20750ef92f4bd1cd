import middy from '@middy/core';
import { createLogger } from '../../lib/core/logger.ts';
import { finalizeSnapshot } from '../../lib/task/finalize.ts';
import { finalizeEventSchema, parseEvent, taskForEvent } from '../../lib/task/function-input.ts';

const logger = createLogger({ level: (process.env.FERRY_LOG_LEVEL as 'info') ?? 'info' }).child({ stage: 'finalize' });

/**
 * Finalize function, after the chunk fan-out: are all chunks done, and where does CDC start?
 * Read-only (duplicate invocations agree). The CDC start of a snapshot_and_cdc task was recorded by the plan
 * function before any row was read; this returns it for the step that starts the CDC worker.
 * Output: { taskId, done, chunks, chunksDone, pending, failed, pendingIds, rows, cdc: { handover, position? } }.
 */
export const handler = middy(async (event: unknown) => {
  const ev = parseEvent(finalizeEventSchema, event, 'finalize');
  const { cfg, store } = await taskForEvent(ev, logger);
  const r = await finalizeSnapshot(cfg, store, new AbortController().signal);
  logger.child({ taskId: cfg.taskId }).info('finalize', { done: r.done, pending: r.pending, failed: r.failed, rows: r.rows });
  return r;
});
