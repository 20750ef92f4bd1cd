/**
 * Structure check (ape-dts extract_type=struct, sink_type=check): the source structure, routed, against the
 * target's own (StructWriter.readSchema), each rendered as the target's DDL by the target's writer, object by
 * object. Results go to `<runtime.log_dir>/check/` as ape-dts writes them: `miss.log` (in the source, missing
 * in the target), `diff.log` (different, or only in the target), JSON Lines
 * `{"key":"table.db.tb","schema":"db","tb":"tb",["target_schema","target_tb",]"src_sql":...,"dst_sql":...}`,
 * written only when non-empty, and `summary.log` (one JSON line).
 *
 * Not compared: sequence values and AUTO_INCREMENT counters (they move with the data), and source attributes
 * the target cannot have (a charset a PostgreSQL source never states is not held against a MySQL target).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DdlStatement, SchemaModel, StructTable } from '../core/struct.ts';
import type { TableRef } from '../core/table.ts';
import type { Logger } from '../core/logger.ts';
import type { TaskConfig } from '../config/types.ts';
import { FerryError } from '../core/errors.ts';
import { TaskResources } from '../task/resources.ts';
import { readRoutedModel } from './struct-task.ts';

export interface StructCheckLine {
  key: string;
  schema: string;
  tb?: string;
  target_schema?: string;
  target_tb?: string;
  src_sql?: string;
  dst_sql?: string;
}

export interface StructCheckSummary {
  start_time: string;
  end_time: string;
  is_consistent: boolean;
  miss_count: number;
  diff_count: number;
  skip_count: number;
  /** Where miss.log / diff.log / summary.log were written. */
  dir: string;
  miss: StructCheckLine[];
  diff: StructCheckLine[];
}

const KEY_KIND: Record<DdlStatement['kind'], string> = {
  database: 'database', type: 'type', sequence: 'sequence', table: 'table', unique: 'index', index: 'index', check: 'constraint', foreign_key: 'constraint',
};

/** Drops counters that move with the data (sequence next values, AUTO_INCREMENT). */
const withoutCounters = (m: SchemaModel): SchemaModel => ({ ...m, sequences: m.sequences.map(({ nextValue: _n, ...s }) => s) });

/** Target attributes the source does not state are not compared (see the module comment). */
function project(dst: StructTable, src: StructTable): StructTable {
  const out: StructTable = { ...dst, columns: dst.columns.map((c) => ({ ...c })) };
  for (const k of ['comment', 'charset', 'collation', 'engine'] as const) if (src[k] === undefined) delete out[k];
  for (const c of out.columns) {
    const s = src.columns.find((x) => x.name === c.name);
    if (!s) continue;
    for (const k of ['charset', 'collation', 'comment'] as const) if (s[k] === undefined) delete c[k];
  }
  return out;
}

export function defaultCheckDir(cfg: TaskConfig): string {
  return join(cfg.runtime.logDir ?? './logs', 'check');
}

/** Runs the structure check of `cfg` and writes its logs; returns the summary (with the lines, for callers). */
export async function runStructCheck(cfg: TaskConfig, opts: { logger: Logger; signal?: AbortSignal; dir?: string }): Promise<StructCheckSummary> {
  const start = new Date();
  const signal = opts.signal ?? new AbortController().signal;
  const logger = opts.logger.child({ stage: 'struct-check' });
  const res = new TaskResources(cfg, logger, signal);
  try {
    const { model, sourceOf } = await readRoutedModel(cfg, res, logger, signal);
    const writer = await res.structWriter();
    if (!writer.readSchema) {
      throw new FerryError('CF001', `sinker.db_type: ${cfg.sinker.dbType} cannot read its structure back for a structure check`, { details: { key: 'sinker.db_type' } });
    }
    const present: TableRef[] = [];
    for (const t of model.tables) {
      if (await writer.exists({ phase: 'table', kind: 'table', names: [t.db, t.tb], object: `${t.db}.${t.tb}`, sql: '' }, signal)) present.push({ db: t.db, tb: t.tb });
    }
    const dstRaw = await writer.readSchema(present, signal);
    const dstModel: SchemaModel = {
      ...dstRaw,
      // Only the databases and types the source has are compared (the target may hold others).
      databases: model.databases.filter((d) => dstRaw.databases.some((x) => x.name === d.name)).map((d) => dstRaw.databases.find((x) => x.name === d.name) ?? d),
      tables: dstRaw.tables.map((t) => project(t, model.tables.find((s) => s.db === t.db && s.tb === t.tb)!)),
    };
    const render = (m: SchemaModel) => {
      const map = new Map<string, DdlStatement>();
      for (const s of writer.planDdl(withoutCounters(m)).statements) if (s.kind !== 'sequence') map.set(JSON.stringify([s.kind, ...s.names]), s);
      return map;
    };
    const srcStmts = render(model);
    const dstStmts = render(dstModel);
    const presentIds = new Set(present.map((t) => JSON.stringify([t.db, t.tb])));
    const line = (s: DdlStatement): StructCheckLine => {
      const [db, tb] = s.names;
      const src = tb !== undefined && s.kind !== 'type' ? sourceOf.get(JSON.stringify([db, tb])) : undefined;
      const srcNames = src ? [src.db, src.tb, ...s.names.slice(2)] : s.names;
      const l: StructCheckLine = { key: `${KEY_KIND[s.kind]}.${srcNames.join('.')}`, schema: srcNames[0] };
      if (src) l.tb = src.tb;
      if (src && (src.db !== db || src.tb !== tb)) Object.assign(l, { target_schema: db, target_tb: tb });
      return l;
    };
    const miss: StructCheckLine[] = [];
    const diff: StructCheckLine[] = [];
    for (const [k, s] of srcStmts) {
      const d = dstStmts.get(k);
      if (!d) miss.push({ ...line(s), src_sql: s.sql });
      else if (d.sql !== s.sql) diff.push({ ...line(s), src_sql: s.sql, dst_sql: d.sql });
    }
    for (const [k, d] of dstStmts) {
      // Objects only in the target, on the tables the check covers.
      if (!srcStmts.has(k) && d.names.length === 3 && presentIds.has(JSON.stringify([d.names[0], d.names[1]]))) diff.push({ ...line(d), dst_sql: d.sql });
    }
    const dir = opts.dir ?? defaultCheckDir(cfg);
    await mkdir(dir, { recursive: true });
    const jsonl = (xs: StructCheckLine[]) => xs.map((x) => JSON.stringify(x)).join('\n') + '\n';
    for (const [name, xs] of [['miss.log', miss], ['diff.log', diff]] as const) {
      if (xs.length) await writeFile(join(dir, name), jsonl(xs));
      else await rm(join(dir, name), { force: true });
    }
    const summary: StructCheckSummary = {
      start_time: start.toISOString(), end_time: new Date().toISOString(), is_consistent: !miss.length && !diff.length,
      miss_count: miss.length, diff_count: diff.length, skip_count: 0, dir, miss, diff,
    };
    const { dir: _d, miss: _m, diff: _f, ...onDisk } = summary;
    await writeFile(join(dir, 'summary.log'), JSON.stringify(onDisk) + '\n');
    logger.info('structure check done', { ...onDisk });
    return summary;
  } finally {
    await res.close();
  }
}
