import { createHash } from 'node:crypto';
import { z } from 'zod';
import { FerryError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { CheckpointStore } from '../core/checkpoint.ts';
import type { TaskConfig } from '../config/types.ts';
import { loadTaskConfig } from '../config/load.ts';
import { createCheckpointStore } from '../checkpoint/create-store.ts';
import { TaskResources } from './resources.ts';

/**
 * How a function event names its task: the config sections inline (`config`, the same keys as task_config.ini
 * as a JSON object), or a path to a config file in the bundle / on disk (`configPath`). Validated with zod.
 */
const taskRef = z
  .object({
    config: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    configPath: z.string().min(1).optional(),
  })
  .refine((v) => Boolean(v.config) !== Boolean(v.configPath), { message: 'exactly one of config or configPath is required' });

export const planEventSchema = z.intersection(taskRef, z.object({ init: z.boolean().optional() }));
export const chunkEventSchema = z.intersection(taskRef, z.object({ chunkId: z.string().min(1) }));
/** finalize and status need only the task (a `chunkId` or `init` carried along from the state is ignored). */
export const finalizeEventSchema = taskRef;
export const statusEventSchema = taskRef;
/**
 * The CDC container's environment (functions/cdc/main.ts; events/cdc.json documents it). Exactly one of
 * FERRY_CONFIG (a config file path) or FERRY_CONFIG_JSON (the sections as a JSON object); other variables
 * of the process environment pass through untouched.
 */
const secs = z.string().regex(/^\d+$/, 'expected whole seconds');
export const cdcEnvSchema = z
  .object({
    FERRY_CONFIG: z.string().min(1).optional(),
    FERRY_CONFIG_JSON: z
      .string()
      .refine((s) => { try { return typeof JSON.parse(s) === 'object'; } catch { return false; } }, 'expected the config sections as a JSON object')
      .optional(),
    FERRY_SNAPSHOT_FIRST: z.enum(['0', '1']).optional(),
    FERRY_METRICS_PORT: z.string().regex(/^\d+$/, 'expected a port number').optional(),
    FERRY_LEASE_TTL_SECS: secs.optional(),
    FERRY_LEASE_WAIT_SECS: secs.optional(),
    FERRY_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).optional(),
  })
  .refine((v) => Boolean(v.FERRY_CONFIG) !== Boolean(v.FERRY_CONFIG_JSON), { message: 'FERRY_CONFIG: set exactly one of FERRY_CONFIG (a path) or FERRY_CONFIG_JSON' });
export type CdcEnv = z.infer<typeof cdcEnvSchema>;
export type PlanEvent = z.infer<typeof planEventSchema>;
export type ChunkEvent = z.infer<typeof chunkEventSchema>;

/** Parses a function event; a bad event is CF001 naming the field (the handler's caller sees one line). */
export function parseEvent<T>(schema: z.ZodType<T>, event: unknown, fn: string): T {
  const r = schema.safeParse(event);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new FerryError('CF001', `${fn} event${i.path.length ? '.' + i.path.join('.') : ''}: ${i.message}`);
  }
  return r.data;
}

interface Warm {
  cfg: TaskConfig;
  store: CheckpointStore;
  resources: TaskResources;
}
const warm = new Map<string, Promise<Warm>>();

/**
 * Config, store and connections for an event, kept across invocations of a warm container (pools are the
 * expensive part of a cold start). Invariant: one entry per distinct config.
 */
export async function taskForEvent(ev: { config?: Record<string, unknown>; configPath?: string }, logger: Logger): Promise<Warm> {
  const id = createHash('sha256').update(JSON.stringify(ev.config ?? ev.configPath)).digest('hex');
  let w = warm.get(id);
  if (!w) {
    w = (async () => {
      const { config: cfg, warnings } = await loadTaskConfig(ev.configPath ?? (ev.config as Record<string, unknown>));
      const log = logger.child({ taskId: cfg.taskId });
      for (const msg of warnings) log.warn(msg, { kind: 'config' });
      return { cfg, store: await createCheckpointStore(cfg.checkpoint, { logger: log }), resources: new TaskResources(cfg, log) };
    })();
    warm.set(id, w);
    w.catch(() => warm.delete(id));
  }
  return w;
}

/** Closes every warm task (tests; a Lambda container simply freezes). */
export async function closeWarmTasks(): Promise<void> {
  const all = [...warm.values()];
  warm.clear();
  for (const p of all) {
    const w = await p.catch(() => undefined);
    if (w) await Promise.allSettled([w.resources.close(), w.store.close()]);
  }
}
