import { z } from 'zod';

/**
 * The persisted task plan. It is read back from the checkpoint store and crosses Step Functions / ECS
 * overrides as JSON, so it is validated with zod on every read (house rule: zod at the edges).
 * Invariant: a plan is immutable once stored; chunk ids are unique within it and stable across reruns.
 */
const tableRef = z.object({ db: z.string(), tb: z.string() });

export const chunkSpecSchema = z.object({
  id: z.string(),
  table: tableRef,
  kind: z.enum(['range', 'null-key', 'whole']),
  /** JSON-encoded key tuples (lib/core/values.ts encodeKey). */
  lower: z.array(z.unknown()).nullable(),
  upper: z.array(z.unknown()).nullable(),
  estimatedRows: z.number(),
});

export const plannedTableSchema = z.object({
  source: tableRef,
  target: tableRef,
  keyKind: z.enum(['primary', 'unique', 'none']),
  keyColumns: z.array(z.string()),
  /** Source columns read (ignore_cols removed). */
  columns: z.array(z.string()),
  /** Target column name per source column (router col_map applied), same order as `columns`. */
  targetColumns: z.array(z.string()),
  where: z.string().optional(),
  estimatedRows: z.number(),
  chunkIds: z.array(z.string()),
});

export const taskPlanSchema = z.object({
  format: z.literal(1),
  taskId: z.string(),
  createdAt: z.string(),
  /** Digest of the config parts that shape the plan; a rerun with a different digest needs --init. */
  configDigest: z.string(),
  tables: z.array(plannedTableSchema),
  chunks: z.array(chunkSpecSchema),
});

export type ChunkSpecJson = z.infer<typeof chunkSpecSchema>;
export type PlannedTable = z.infer<typeof plannedTableSchema>;
export type TaskPlan = z.infer<typeof taskPlanSchema>;

/** Progress of one chunk, stored under chunkKey(taskId, chunkId). */
export const chunkProgressSchema = z.object({
  status: z.enum(['running', 'done']),
  /** Encoded key of the last row durably written (resume point, exclusive). */
  lastKey: z.array(z.unknown()).nullable(),
  rows: z.number(),
  updatedAt: z.string(),
  /** Who wrote it last (pid@host or Lambda request id); for status output only. */
  worker: z.string().optional(),
});
export type ChunkProgress = z.infer<typeof chunkProgressSchema>;
