/**
 * The structure migration task (ape-dts extract_type=struct, sink_type=struct).
 *
 * Path: discover the source tables (filter) -> the source connector's StructReader reads the neutral model ->
 * routed (db_map / tb_map / col_map) -> the target connector's StructWriter plans DDL -> statements of the
 * selected phases (filter.do_structures) run in phase order under sinker.conflict_policy. Every connector
 * plugs in through its registered createStructReader / createStructWriter: nothing here knows an engine.
 */
import type { DdlPlan, DdlStatement, SchemaModel, StructFlag, StructPhase, StructWriter } from '../core/struct.ts';
import { FerryError, asFerryError, isFerryError } from '../core/errors.ts';
import type { TableRef } from '../core/table.ts';
import type { Logger } from '../core/logger.ts';
import type { TaskConfig } from '../config/types.ts';
import { createFilter } from '../pipeline/filter.ts';
import { createRouter } from '../pipeline/router.ts';
import { discoverTables } from '../plan/discover.ts';
import { TaskResources } from '../task/resources.ts';
import { phaseRank, phasesFor } from './phases.ts';
import { routeModel, type RoutedModel } from './route-model.ts';

export interface StructFailure {
  object: string;
  code: string;
  message: string;
}

export interface StructSummary {
  taskId: string;
  status: 'done' | 'failed';
  /** Statements of the selected phases, in the order they ran (or would run, for a dry run). */
  statements: DdlStatement[];
  flags: StructFlag[];
  executed: number;
  /** Objects that already existed (conflict_policy=ignore). */
  skipped: string[];
  /** Statements or tables that failed (conflict_policy=ignore; interrupt throws instead). */
  failed: StructFailure[];
  dryRun: boolean;
}

export interface StructOptions {
  logger: Logger;
  signal?: AbortSignal;
  /** Plan and report only: nothing is run on the target. */
  dryRun?: boolean;
  /** Phases to run instead of filter.do_structures (tests, the snapshot runner). */
  phases?: Set<StructPhase>;
}

/** Reads the source structure of the filtered tables, routed to target names. */
export async function readRoutedModel(cfg: TaskConfig, res: TaskResources, logger: Logger, signal: AbortSignal): Promise<RoutedModel> {
  const tables = await discoverTables(cfg, await res.metadata(), logger, signal);
  const reader = await res.structReader();
  const model = await reader.readSchema(tables.map((t) => ({ db: t.db, tb: t.tb })), signal);
  // Databases the filter selects that hold no table are created too.
  const filter = createFilter(cfg.filter);
  for (const db of (await (await res.metadata()).listDatabases(signal)).filter((d) => filter.dbIncluded(d))) {
    if (!model.databases.some((d) => d.name === db)) model.databases.push({ name: db });
  }
  model.databases.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return routeModel(model, createRouter(cfg.router));
}

/**
 * Plans DDL. Under `interrupt` the whole model is planned at once and a type the target cannot carry stops
 * the task (MD002). Under `ignore` each table is planned alone, so one impossible table is reported and
 * skipped while the rest go on.
 */
export function planModel(writer: StructWriter, model: SchemaModel, policy: 'interrupt' | 'ignore', failed: StructFailure[]): DdlPlan {
  if (policy === 'interrupt') return writer.planDdl(model);
  const shared = writer.planDdl({ ...model, tables: [] });
  const out: DdlPlan = { statements: [...shared.statements], flags: [...shared.flags] };
  for (const t of model.tables) {
    try {
      const p = writer.planDdl({ ...model, databases: [], enumTypes: [], tables: [t] });
      out.statements.push(...p.statements.filter((s) => s.phase !== 'sequence' && s.phase !== 'type' && s.phase !== 'database'));
      out.flags.push(...p.flags);
    } catch (e) {
      const fe = asFerryError(e);
      failed.push({ object: `${t.db}.${t.tb}`, code: fe.code, message: fe.message });
    }
  }
  return out;
}

/**
 * Writers name objects by their target (routed) names; an MD002 also names the source column, which is the
 * one the user can look up.
 */
function withSourceNames<T>(fn: () => T, model: SchemaModel, sourceOf: Map<string, TableRef>): T {
  try {
    return fn();
  } catch (e) {
    const object = isFerryError(e) ? e.details.object : undefined;
    const t = typeof object === 'string' ? model.tables.find((x) => object.startsWith(`${x.db}.${x.tb}.`)) : undefined;
    const src = t && sourceOf.get(JSON.stringify([t.db, t.tb]));
    if (!isFerryError(e) || !t || !src || (src.db === t.db && src.tb === t.tb)) throw e;
    const column = (object as string).slice(`${t.db}.${t.tb}.`.length);
    throw new FerryError(e.code, `source ${src.db}.${src.tb}.${column} -> ${e.message}`, { cause: e.cause, details: { ...e.details, source: `${src.db}.${src.tb}.${column}` } });
  }
}

/** Runs (or, with `dryRun`, only plans) the struct task of `cfg`. Throws the first failure under `interrupt`. */
export async function runStruct(cfg: TaskConfig, opts: StructOptions): Promise<StructSummary> {
  const signal = opts.signal ?? new AbortController().signal;
  const logger = opts.logger.child({ stage: 'struct' });
  const res = new TaskResources(cfg, logger, signal);
  const policy = cfg.sinker.conflictPolicy;
  const failed: StructFailure[] = [];
  try {
    const { model, sourceOf } = await readRoutedModel(cfg, res, logger, signal);
    const writer = await res.structWriter();
    const plan = withSourceNames(() => planModel(writer, model, policy, failed), model, sourceOf);
    const phases = opts.phases ?? phasesFor(cfg.filter.doStructures);
    const statements = plan.statements.filter((s) => phases.has(s.phase)).sort((a, b) => phaseRank(a.phase) - phaseRank(b.phase));
    for (const f of plan.flags) logger.warn('structure conversion flagged', { ...f });
    for (const f of failed) logger.error('table skipped', { ...f });
    const summary: StructSummary = { taskId: cfg.taskId, status: 'done', statements, flags: plan.flags, executed: 0, skipped: [], failed, dryRun: !!opts.dryRun };
    if (opts.dryRun) return summary;
    for (const stmt of statements) {
      if (signal.aborted) throw new FerryError('RT001', 'struct task stopped');
      if (await writer.exists(stmt, signal)) {
        if (policy === 'interrupt') {
          throw new FerryError('MD003', `${stmt.object}: ${stmt.kind.replace('_', ' ')} already exists on the target (sinker.conflict_policy=interrupt)`, {
            details: { object: stmt.object, kind: stmt.kind },
          });
        }
        logger.info('object exists, skipped', { object: stmt.object, kind: stmt.kind });
        summary.skipped.push(stmt.object);
        continue;
      }
      try {
        await writer.execute(stmt, signal);
        summary.executed++;
        logger.info('structure created', { object: stmt.object, kind: stmt.kind, phase: stmt.phase });
      } catch (e) {
        const fe = asFerryError(e, 'ST001');
        if (policy === 'interrupt') throw fe;
        logger.error('structure failed, continuing (conflict_policy=ignore)', { object: stmt.object, code: fe.code, error: fe.message });
        failed.push({ object: stmt.object, code: fe.code, message: fe.message });
      }
    }
    return summary;
  } finally {
    await res.close();
  }
}
