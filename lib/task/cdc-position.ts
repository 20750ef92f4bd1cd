import { z } from 'zod';
import type { CheckpointStore, Fence, Position } from '../core/index.ts';
import { FerryError } from '../core/errors.ts';
import { cdcPositionKey } from '../checkpoint/keys.ts';

/**
 * The committed CDC position of a task: everything up to `position` is durable in the target.
 * `sourceTs` is the source commit time of the last applied transaction (for lag), `appliedAt` when it was
 * committed. Written only by the lease holder (fenced); read back through zod.
 */
export const cdcRecordSchema = z.object({
  position: z.object({ kind: z.string(), order: z.string(), data: z.record(z.string(), z.unknown()) }),
  sourceTs: z.number().optional(),
  appliedAt: z.string(),
  /** Set by the snapshot->CDC handover: the position captured before the snapshot started. */
  handover: z.boolean().optional(),
});
export type CdcRecord = z.infer<typeof cdcRecordSchema>;

export async function readCdcRecord(store: CheckpointStore, taskId: string, signal?: AbortSignal): Promise<CdcRecord | undefined> {
  const got = await store.get(cdcPositionKey(taskId), signal);
  if (!got) return undefined;
  const r = cdcRecordSchema.safeParse(got.value);
  if (!r.success) throw new FerryError('CP003', `CDC position of task ${taskId} is malformed: ${r.error.issues[0]?.message}`);
  return r.data;
}

export async function writeCdcRecord(store: CheckpointStore, taskId: string, rec: CdcRecord, fence: Fence, signal?: AbortSignal): Promise<void> {
  await store.put(cdcPositionKey(taskId), rec, { fence, signal });
}
