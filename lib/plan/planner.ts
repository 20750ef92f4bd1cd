import { createHash } from 'node:crypto';
import type { Logger, CheckpointStore, TableMeta } from '../core/index.ts';
import { FerryError } from '../core/errors.ts';
import { encodeKey } from '../core/values.ts';
import type { TaskConfig } from '../config/types.ts';
import { createFilter } from '../pipeline/filter.ts';
import { createRouter } from '../pipeline/router.ts';
import { planKey } from '../checkpoint/keys.ts';
import type { TaskResources } from '../task/resources.ts';
import { discoverTables } from './discover.ts';
import { splitTable } from './split.ts';
import { workerCount } from '../config/task.ts';
import { taskPlanSchema, type ChunkSpecJson, type PlannedTable, type TaskPlan } from './plan-schema.ts';

export interface PlanDeps {
  store: CheckpointStore;
  resources: TaskResources;
  logger: Logger;
  signal: AbortSignal;
}

/** The config parts that shape a plan; changing any of them requires `--init`. */
export function planDigest(cfg: TaskConfig): string {
  const shaping = {
    src: cfg.extractor.dbType,
    dst: cfg.sinker.dbType,
    filter: { ...cfg.filter, doDbs: cfg.filter.doDbs.map((p) => p.source), ignoreDbs: cfg.filter.ignoreDbs.map((p) => p.source),
      doTbs: cfg.filter.doTbs.map((p) => `${p.db.source}.${p.tb.source}`), ignoreTbs: cfg.filter.ignoreTbs.map((p) => `${p.db.source}.${p.tb.source}`) },
    router: cfg.router,
    partitionCols: cfg.extractor.partitionCols,
    parallelType: cfg.extractor.parallelType,
    chunkRows: cfg.chunkRows,
  };
  return createHash('sha256').update(JSON.stringify(shaping)).digest('hex').slice(0, 16);
}

/**
 * Returns the task's plan: the stored one when it exists (so a rerun continues the same chunks), otherwise a
 * new one built from the source and stored create-only. Two planners racing store exactly one plan; the
 * loser returns the winner's. Invariant: the returned plan is the one in the store.
 */
export async function ensurePlan(cfg: TaskConfig, deps: PlanDeps): Promise<TaskPlan> {
  const key = planKey(cfg.taskId);
  const existing = await deps.store.get(key, deps.signal);
  if (existing) {
    const plan = readPlan(existing.value);
    if (plan.configDigest !== planDigest(cfg)) {
      throw new FerryError('CF003', `task ${cfg.taskId}: filter/router/chunking config changed since the stored plan; rerun with --init to start over`, {
        details: { taskId: cfg.taskId },
      });
    }
    deps.logger.info('plan reused', { chunks: plan.chunks.length, tables: plan.tables.length });
    return plan;
  }
  const plan = await buildPlan(cfg, deps);
  try {
    await deps.store.put(key, plan, { expectedVersion: null, signal: deps.signal });
  } catch (e) {
    if (e instanceof FerryError && e.code === 'CP001') {
      const winner = await deps.store.get(key, deps.signal);
      if (winner) return readPlan(winner.value);
    }
    throw e;
  }
  deps.logger.info('plan stored', { chunks: plan.chunks.length, tables: plan.tables.length });
  return plan;
}

/** The stored plan of a task; CF003 when the planner has not run (chunk functions never plan). */
export async function loadPlan(store: CheckpointStore, taskId: string, signal?: AbortSignal): Promise<TaskPlan> {
  const got = await store.get(planKey(taskId), signal);
  if (!got) throw new FerryError('CF003', `task ${taskId} has no stored plan: run the planner (ferry plan) first`, { details: { taskId } });
  return readPlan(got.value);
}

/** Validates a plan read back from a store or an event (zod at the edge). */
export function readPlan(value: unknown): TaskPlan {
  const r = taskPlanSchema.safeParse(value);
  if (!r.success) throw new FerryError('CP003', `stored plan is malformed: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

/** Discovers tables and cuts them into chunks. Pure with respect to the store. */
export async function buildPlan(cfg: TaskConfig, deps: PlanDeps): Promise<TaskPlan> {
  const meta = await deps.resources.metadata();
  const tables = await discoverTables(cfg, meta, deps.logger, deps.signal);
  const filter = createFilter(cfg.filter);
  const router = createRouter(cfg.router);
  const planned: PlannedTable[] = [];
  const chunks: ChunkSpecJson[] = [];
  for (const [ti, t] of tables.entries()) {
    const table = applyPartitionCol(cfg, t, deps.logger);
    const ignored = new Set(filter.ignoredColumns(t.db, t.tb));
    for (const k of table.keyColumns) {
      if (ignored.has(k)) {
        throw new FerryError('CF001', `filter.ignore_cols: key column ${t.db}.${t.tb}.${k} cannot be ignored`, { details: { key: 'filter.ignore_cols' } });
      }
    }
    const columns = table.columns.map((c) => c.name).filter((c) => !ignored.has(c));
    const where = filter.whereCondition(t.db, t.tb) || undefined;
    const raw = await splitTable(meta, table, { chunkRows: cfg.chunkRows, parallelType: cfg.extractor.parallelType, workers: workerCount(cfg), where, signal: deps.signal });
    const ids: string[] = [];
    raw.forEach((c, ci) => {
      const id = `${String(ti).padStart(4, '0')}-${String(ci).padStart(5, '0')}`;
      ids.push(id);
      chunks.push({ id, table: { db: t.db, tb: t.tb }, kind: c.kind, lower: encodeKey(c.lower), upper: encodeKey(c.upper), estimatedRows: c.estimatedRows });
    });
    planned.push({
      source: { db: t.db, tb: t.tb },
      target: router.routeTable({ db: t.db, tb: t.tb }),
      keyKind: table.keyKind,
      keyColumns: table.keyColumns,
      columns,
      targetColumns: columns.map((c) => router.routeColumn(t.db, t.tb, c)),
      where,
      estimatedRows: t.estimatedRows,
      chunkIds: ids,
    });
  }
  return { format: 1, taskId: cfg.taskId, createdAt: new Date().toISOString(), configDigest: planDigest(cfg), tables: planned, chunks };
}

/**
 * ape-dts `extractor.partition_cols`: split a table on the named column. ferry keysets need a unique,
 * non-null column, so the setting is honoured when the column alone forms a unique NOT NULL key (it then
 * becomes the chunking key) and otherwise ignored with a warning naming the table.
 */
function applyPartitionCol(cfg: TaskConfig, t: TableMeta, logger: Logger): TableMeta {
  const pc = cfg.extractor.partitionCols.find((p) => p.db === t.db && p.tb === t.tb);
  if (!pc || (t.keyColumns.length === 1 && t.keyColumns[0] === pc.partitionCol)) return t;
  const col = t.columns.find((c) => c.name === pc.partitionCol);
  const unique = t.uniqueKeys?.some((k) => k.length === 1 && k[0] === pc.partitionCol);
  if (col && unique && !col.nullable) return { ...t, keyKind: 'unique', keyColumns: [pc.partitionCol], keyNullable: false };
  logger.warn('extractor.partition_cols ignored: column is not a unique NOT NULL key', { table: `${t.db}.${t.tb}`, column: pc.partitionCol });
  return t;
}
