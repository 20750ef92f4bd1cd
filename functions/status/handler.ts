import middy from '@middy/core';
import { createLogger } from '../../lib/core/logger.ts';
import { readTaskStatus } from '../../lib/task/status.ts';
import { parseEvent, statusEventSchema, taskForEvent } from '../../lib/task/function-input.ts';

const logger = createLogger({ level: (process.env.FERRY_LOG_LEVEL as 'info') ?? 'info' }).child({ stage: 'status' });

/**
 * Status function: the task's snapshot progress and CDC lag from the checkpoint store (what `ferry status
 * --json` prints). Read-only; opens no database connection.
 * Output: { taskId, planned, tables?, chunks?, chunksDone?, rowsDone?, cdc?: { position, committedAt, lagSeconds? } }.
 */
export const handler = middy(async (event: unknown) => {
  const ev = parseEvent(statusEventSchema, event, 'status');
  const { cfg, store } = await taskForEvent(ev, logger);
  return readTaskStatus(store, cfg.taskId, new AbortController().signal);
});
