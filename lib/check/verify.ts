import type { Logger, Row, TableMeta, SnapshotSource, MetadataAccessor } from '../core/index.ts';
import type { TaskConfig } from '../config/types.ts';
import type { TaskPlan, PlannedTable } from '../plan/plan-schema.ts';
import { TaskResources } from '../task/resources.ts';
import { normalizeValue } from './normalize.ts';

export interface TableDiff {
  table: string;
  target: string;
  sourceRows: number;
  targetRows: number;
  /** Keys present in the source but not in the target. */
  missing: string[];
  /** Keys present in the target but not in the source. */
  extra: string[];
  /** Keys whose rows differ, with the first differing column. */
  different: Array<{ key: string; column: string; source: string; target: string }>;
}

export interface VerifyReport {
  ok: boolean;
  tables: TableDiff[];
}

/**
 * Compares every planned table, source against target, row by row with type-aware equality
 * (lib/check/normalize.ts). Holds one table's rows in memory: for tests, the demo and small tables; the
 * streaming check task (ape-dts `sink_type=check`) is its own feature. Diff lists are capped at `maxListed`.
 */
export async function verifyPlan(cfg: TaskConfig, plan: TaskPlan, logger: Logger, maxListed = 20): Promise<VerifyReport> {
  const src = new TaskResources(cfg, logger);
  const dst = new TaskResources(targetAsSource(cfg), logger);
  const signal = new AbortController().signal;
  try {
    const tables: TableDiff[] = [];
    for (const t of plan.tables) {
      const sMeta = await (await src.metadata()).getTableMeta(t.source, signal);
      const dMeta = await (await dst.metadata()).getTableMeta(t.target, signal);
      const srcRows = await readAll(await src.source(), sMeta, t.columns, t.where, signal);
      const dstRows = await readAll(await dst.source(), dMeta, t.targetColumns, undefined, signal);
      tables.push(diffTable(t, sMeta, srcRows, dstRows, maxListed));
    }
    return { ok: tables.every((d) => !d.missing.length && !d.extra.length && !d.different.length && d.sourceRows === d.targetRows), tables };
  } finally {
    await Promise.allSettled([src.close(), dst.close()]);
  }
}

/** The task config with the sinker endpoint as extractor, to read the target with its own connector. */
export function targetAsSource(cfg: TaskConfig): TaskConfig {
  return { ...cfg, extractor: { ...cfg.extractor, ...cfg.sinker, extractType: 'snapshot', parallelSize: 1, parallelType: 'chunk', partitionCols: [] } };
}

async function readAll(source: SnapshotSource, meta: TableMeta, columns: string[], where: string | undefined, signal: AbortSignal): Promise<Row[]> {
  const rows: Row[] = [];
  const chunk = { id: 'verify', table: { db: meta.db, tb: meta.tb }, kind: meta.keyKind === 'none' ? ('whole' as const) : ('range' as const), lower: null, upper: null, estimatedRows: 0 };
  for await (const b of source.readChunk(meta, chunk, { columns, where, batchSize: 5000, signal })) rows.push(...b.rows);
  if (meta.keyKind !== 'none' && meta.keyNullable) {
    const nullChunk = { ...chunk, kind: 'null-key' as const };
    for await (const b of source.readChunk(meta, nullChunk, { columns, where, batchSize: 5000, signal })) rows.push(...b.rows);
  }
  return rows;
}

function diffTable(t: PlannedTable, meta: TableMeta, srcRows: Row[], dstRows: Row[], maxListed: number): TableDiff {
  const fam = new Map(meta.columns.map((c) => [c.name, c.family]));
  const rowKey = (r: Row, names: string[], srcNames: string[]) =>
    (t.keyColumns.length ? t.keyColumns : srcNames).map((k) => normalizeValue(r[names[srcNames.indexOf(k)]], fam.get(k) ?? 'other')).join('\u0001');
  const rowForm = (r: Row, names: string[]) => t.columns.map((c, i) => normalizeValue(r[names[i]], fam.get(c) ?? 'other'));
  const count = (m: Map<string, { form: string[]; n: number }>, r: Row, names: string[]) => {
    const k = rowKey(r, names, t.columns);
    const e = m.get(k);
    if (e) e.n += 1;
    else m.set(k, { form: rowForm(r, names), n: 1 });
  };
  const s = new Map<string, { form: string[]; n: number }>();
  const d = new Map<string, { form: string[]; n: number }>();
  for (const r of srcRows) count(s, r, t.columns);
  for (const r of dstRows) count(d, r, t.targetColumns);
  const diff: TableDiff = { table: `${t.source.db}.${t.source.tb}`, target: `${t.target.db}.${t.target.tb}`, sourceRows: srcRows.length, targetRows: dstRows.length, missing: [], extra: [], different: [] };
  const show = (k: string) => k.split('\u0001').join(',');
  for (const [k, sv] of s) {
    const dv = d.get(k);
    if (!dv || dv.n < sv.n) {
      if (diff.missing.length < maxListed) diff.missing.push(show(k));
      continue;
    }
    const i = sv.form.findIndex((x, j) => x !== dv.form[j]);
    if (i >= 0 && diff.different.length < maxListed) diff.different.push({ key: show(k), column: t.columns[i], source: sv.form[i], target: dv.form[i] });
  }
  for (const [k, dv] of d) if ((!s.has(k) || s.get(k)!.n < dv.n) && diff.extra.length < maxListed) diff.extra.push(show(k));
  return diff;
}
