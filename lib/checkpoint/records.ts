import { z } from 'zod';

/**
 * What stores keep per item and per lease. Stores validate records read back with these schemas (zod at the
 * boundary), so a hand-edited or foreign file surfaces as CP003 instead of a crash deep in the task runner.
 */

/** The fencing token kept beside a value: the lease epoch its writer held. */
export const fenceSchema = z.object({ lease: z.string(), epoch: z.number().int().nonnegative() });

/**
 * One stored item. Invariants: `key` is the full key (file names may be hashed, the record is the truth);
 * `version` is new on every write (`<counter>.<random>`: the counter rises per key, the random part keeps a
 * deleted-then-recreated key from reusing an old version); `fence` is the writer's lease epoch, when fenced.
 */
export const itemRecordSchema = z.object({
  format: z.literal(1),
  key: z.string(),
  version: z.string(),
  value: z.unknown(),
  fence: fenceSchema.optional(),
  writtenAt: z.number(),
});
/** A stored item as read back (validated). */
export type ItemRecord = z.infer<typeof itemRecordSchema>;

/**
 * One lease. Invariants: `epoch` never decreases for a name, including across release (a released lease keeps
 * its epoch with `owner: null`, so the next holder gets epoch + 1 and old fences stay refused).
 */
export const leaseStateSchema = z.object({
  owner: z.string().nullable(),
  epoch: z.number().int().nonnegative(),
  expiresAt: z.number(),
});
/** A lease as stored: `owner` null once released. */
export type LeaseState = z.infer<typeof leaseStateSchema>;
