import { hostname } from 'node:os';
import type { CheckpointStore, Fence, Logger, Row, TableMeta, ColumnMeta, KeyTuple, RowBatch, TableWriter } from '../core/index.ts';
import { FerryError, isFerryError } from '../core/errors.ts';
import { isAbort } from '../core/signal.ts';
import { decodeKey, encodeKey } from '../core/values.ts';
import { batchRows } from '../core/source.ts';
import type { TaskConfig } from '../config/types.ts';
import { chunkKey } from '../checkpoint/keys.ts';
import { mergePages } from './merge-pages.ts';
import { PageStreams } from './page-streams.ts';
import { prefetch } from '../pipeline/prefetch.ts';
import { snapshotRows } from '../metrics/registry.ts';
import { chunkProgressSchema, type ChunkProgress, type ChunkSpecJson, type PlannedTable, type TaskPlan } from '../plan/plan-schema.ts';
import type { TaskResources } from './resources.ts';

export interface ChunkResult {
  chunkId: string;
  /** done: every row of the chunk is in the target; partial: stopped early, progress saved; skipped: was already done. */
  status: 'done' | 'partial' | 'skipped';
  /** Rows written by this run. */
  rows: number;
  /** Rows the chunk has written over all runs (from the progress record). */
  totalRows: number;
}

export interface ChunkRunOptions {
  /** Soft stop (deadline, SIGINT): finish the batch in flight, save progress, return `partial`. */
  signal: AbortSignal;
  /** Hard stop: abandon the batch in flight (it is atomic, so nothing half-written stays). */
  hardSignal?: AbortSignal;
  onRows?: (table: PlannedTable, rows: number) => void;
  worker?: string;
  /**
   * The chunk's claim (`ferry worker`): every progress write is fenced with it, and the progress record is
   * stamped with it before copying, so once this run has started, a worker whose claim lapsed gets CP002.
   */
  fence?: Fence;
}

export interface ChunkDeps {
  cfg: TaskConfig;
  store: CheckpointStore;
  resources: TaskResources;
  logger: Logger;
  /** Source table metadata cache shared by the chunks a process runs. */
  metaCache?: Map<string, Promise<TableMeta>>;
  /** Chunk workers running in this process (they share the task's buffer bounds); default 1. */
  workers?: number;
}

/**
 * Copies one chunk: keyset pages from the source, idempotent batch writes to the target, and the last
 * written key saved every `pipeline.checkpoint_interval_secs` (and at the end / on stop).
 * Invariants: progress is saved only after the rows up to it are durable in the target; any saved position
 * is safe to resume from, whichever run wrote it, so running a chunk twice (even concurrently) or retrying
 * it after a crash leaves the target identical to the source range.
 */
export async function runChunk(deps: ChunkDeps, plan: TaskPlan, chunkId: string, o: ChunkRunOptions): Promise<ChunkResult> {
  const chunk = plan.chunks.find((c) => c.id === chunkId);
  if (!chunk) throw new FerryError('CF001', `chunk ${chunkId} is not in the plan of task ${plan.taskId}`, { details: { chunkId } });
  const table = plan.tables.find((t) => t.source.db === chunk.table.db && t.source.tb === chunk.table.tb);
  if (!table) throw new FerryError('RT002', `plan of task ${plan.taskId} has chunk ${chunkId} without its table`);
  const log = deps.logger.child({ chunk: chunkId, table: `${table.source.db}.${table.source.tb}` });
  const progress = new ProgressRecord(deps.store, chunkKey(plan.taskId, chunkId), o.worker ?? `${process.pid}@${hostname()}`, o.hardSignal, o.fence);
  const prior = o.fence ? await progress.claim() : await progress.load();
  if (prior?.status === 'done') return { chunkId, status: 'skipped', rows: 0, totalRows: prior.rows };

  const meta = await sourceMeta(deps, table);
  const sinker = await deps.resources.sinker();
  const hard = o.hardSignal ?? new AbortController().signal;
  const writer = await sinker.openTable(writeTarget(table, meta), hard);
  try {
    if (chunk.kind === 'whole') return await copyWhole(deps, table, meta, chunk, writer, progress, o, log);
    return await copyRange(deps, table, meta, chunk, writer, progress, prior, o, log);
  } finally {
    await writer.close();
  }
}

async function copyRange(
  deps: ChunkDeps, table: PlannedTable, meta: TableMeta, chunk: ChunkSpecJson, writer: TableWriter,
  progress: ProgressRecord, prior: ChunkProgress | undefined, o: ChunkRunOptions, log: Logger,
): Promise<ChunkResult> {
  const source = await deps.resources.source();
  const hard = o.hardSignal ?? new AbortController().signal;
  let lastKey: KeyTuple | null = decodeKey(prior?.lastKey);
  let total = prior?.rows ?? 0;
  let rows = 0;
  let unsaved = false;
  let lastSave = Date.now();
  const intervalMs = deps.cfg.pipeline.checkpointIntervalSecs * 1000;
  const spec = { ...chunk, lower: decodeKey(chunk.lower), upper: decodeKey(chunk.upper) };
  // A writer that takes the source's wire form as it is (same engine, same types) gets pages undecoded, in the
  // first of its formats the source can produce.
  const raw = writer.writeRaw && writer.rawFormats?.length ? writer.rawFormats : undefined;
  const batches = source.readChunk(meta, spec, { columns: table.columns, where: table.where, batchSize: deps.cfg.extractor.batchSize, after: lastKey, raw, signal: o.signal });
  // pipeline.buffer_size / buffer_memory_mb bound the whole task, as in ape-dts: each of the process's chunk
  // workers gets its share, so memory does not grow with parallel_size. buffer_memory_mb=0 (ape-dts default:
  // unbounded) still gets a bound here: 64 MiB for the task keeps RSS flat.
  const workers = deps.workers ?? 1;
  const maxBytes = ((deps.cfg.pipeline.bufferMemoryMb || 64) * 1024 * 1024) / workers;
  const prefetched = prefetch<RowBatch>(batches, {
    maxItems: Math.max(1, Math.floor(deps.cfg.pipeline.bufferSize / Math.max(1, deps.cfg.extractor.batchSize) / workers)),
    maxBytes,
    sizeOf: (b) => b.bytes,
  });
  // A writer that streams raw pages gets them as they come, up to batchRows rows per stream; a writer that only
  // wants bigger writes than a page (ClickHouse over chdb: one INSERT, one part) gets consecutive pages merged.
  const streams = raw && writer.openRawStream ? new PageStreams((format, signal) => writer.openRawStream!(format, signal), writer.batchRows ?? deps.cfg.extractor.batchSize, hard) : undefined;
  const ahead = !streams && (writer.batchRows ?? 0) > deps.cfg.extractor.batchSize ? mergePages(prefetched, writer.batchRows!, 2 * maxBytes) : prefetched;
  if (lastKey) log.info('chunk resumes', { rowsBefore: total });
  /** `n` more rows are durable in the target, up to `key`. */
  const acked = (key: KeyTuple | null, n: number) => {
    rows += n;
    total += n;
    snapshotRows.inc({ task: deps.cfg.taskId }, n);
    lastKey = key;
    unsaved = true;
    o.onRows?.(table, n);
  };
  const save = async () => {
    await progress.save({ status: 'running', lastKey: encodeKey(lastKey), rows: total });
    unsaved = false;
    lastSave = Date.now();
  };
  try {
    for await (const batch of ahead) {
      const n = batchRows(batch);
      if (n > 0) {
        const isRaw = batch.raw && raw?.includes(batch.raw.format);
        if (!(isRaw && streams && (await streams.push(batch, acked)))) {
          if (streams) await streams.end(acked);
          if (isRaw) await writer.writeRaw!(batch.raw!, () => renameRows(batch.rows, table), hard);
          else await writer.write(renameRows(batch.rows, table), hard);
          acked(batch.lastKey, n);
        }
      }
      if (unsaved && Date.now() - lastSave >= intervalMs) await save();
      if (o.signal.aborted) break;
    }
    if (streams) await streams.end(acked);
  } catch (e) {
    // A soft stop that cut the source read leaves the open stream whole: end it, so its pages count.
    if (streams && isAbort(e) && !hard.aborted) await streams.end(acked).catch(() => streams.abort());
    else streams?.abort();
    if (unsaved) await save().catch(() => undefined);
    if (isAbort(e) && !hard.aborted) return partial(log, chunk.id, rows, total);
    throw annotate(e, table, lastKey);
  }
  if (o.signal.aborted) {
    if (unsaved) await save();
    return partial(log, chunk.id, rows, total);
  }
  await progress.save({ status: 'done', lastKey: encodeKey(lastKey), rows: total });
  log.debug('chunk done', { rows, totalRows: total });
  return { chunkId: chunk.id, status: 'done', rows, totalRows: total };
}

/** Keyless tables: the whole table in one target transaction; a stopped run saves nothing and restarts. */
async function copyWhole(
  deps: ChunkDeps, table: PlannedTable, meta: TableMeta, chunk: ChunkSpecJson, writer: TableWriter,
  progress: ProgressRecord, o: ChunkRunOptions, log: Logger,
): Promise<ChunkResult> {
  if (!writer.replaceAll) {
    throw new FerryError('CF001', `sinker.db_type: ${deps.cfg.sinker.dbType} cannot copy keyless table ${table.source.db}.${table.source.tb} idempotently`, {
      details: { key: 'sinker.db_type' },
    });
  }
  const source = await deps.resources.source();
  const spec = { ...chunk, lower: null, upper: null };
  let rows = 0;
  async function* mapped() {
    for await (const b of source.readChunk(meta, spec, { columns: table.columns, where: table.where, batchSize: deps.cfg.extractor.batchSize, signal: o.signal })) {
      rows += b.rows.length;
      snapshotRows.inc({ task: deps.cfg.taskId }, b.rows.length);
      o.onRows?.(table, b.rows.length);
      yield renameRows(b.rows, table);
    }
  }
  try {
    await writer.replaceAll(mapped(), o.hardSignal ?? o.signal);
  } catch (e) {
    if (isAbort(e)) return partial(log, chunk.id, 0, 0);
    throw annotate(e, table, null);
  }
  await progress.save({ status: 'done', lastKey: null, rows });
  return { chunkId: chunk.id, status: 'done', rows, totalRows: rows };
}

function partial(log: Logger, chunkId: string, rows: number, total: number): ChunkResult {
  log.info('chunk stopped early, progress saved', { rows, totalRows: total });
  return { chunkId, status: 'partial', rows, totalRows: total };
}

function annotate(e: unknown, table: PlannedTable, lastKey: KeyTuple | null): unknown {
  if (isFerryError(e)) {
    Object.assign(e.details, { sourceTable: `${table.source.db}.${table.source.tb}`, targetTable: `${table.target.db}.${table.target.tb}` });
    if (lastKey) e.details.resumeAfter = encodeKey(lastKey);
  }
  return e;
}

async function sourceMeta(deps: ChunkDeps, table: PlannedTable): Promise<TableMeta> {
  const id = `${table.source.db}\u0000${table.source.tb}`;
  const cache = deps.metaCache ?? new Map();
  let p = cache.get(id);
  if (!p) {
    p = deps.resources.metadata().then((m) => m.getTableMeta(table.source, new AbortController().signal));
    cache.set(id, p);
    p.catch(() => cache.delete(id));
  }
  return p;
}

/** The target a writer is opened for: source column metadata under target names. */
export function writeTarget(table: PlannedTable, meta: TableMeta) {
  const rename = new Map(table.columns.map((c, i) => [c, table.targetColumns[i]]));
  const columns: ColumnMeta[] = table.columns.map((name) => {
    const c = meta.columns.find((x) => x.name === name);
    if (!c) throw new FerryError('MD001', `source ${table.source.db}.${table.source.tb} has no column ${name} (changed since the plan?)`);
    return { ...c, name: rename.get(name)! };
  });
  return { table: table.target, source: table.source, columns, keyColumns: table.keyColumns.map((k) => rename.get(k) ?? k) };
}

function renameRows(rows: Row[], table: PlannedTable): Row[] {
  let same = true;
  for (let i = 0; i < table.columns.length; i++) if (table.columns[i] !== table.targetColumns[i]) same = false;
  if (same) return rows;
  return rows.map((r) => {
    const out: Row = {};
    for (let i = 0; i < table.columns.length; i++) out[table.targetColumns[i]] = r[table.columns[i]];
    return out;
  });
}

/**
 * A chunk's progress item with compare-and-swap. Losing a race is harmless: every saved position is safe
 * (each run writes contiguously from a safe start), so on CP001 we re-read and write ours -- except that a
 * `done` record is never turned back into `running`.
 */
class ProgressRecord {
  private version: string | null | undefined;
  constructor(private store: CheckpointStore, private key: string, private worker: string, private signal?: AbortSignal, private fence?: Fence) {}

  /**
   * Loads the progress and rewrites it unchanged under our fence (compare-and-swap, retried until it lands),
   * so the item carries our epoch before we copy: a writer with an older claim can no longer land on it.
   */
  async claim(): Promise<ChunkProgress | undefined> {
    for (let attempt = 0; attempt < 30; attempt++) {
      const current = await this.load();
      if (current?.status === 'done') return current;
      const stamp: ChunkProgress = { status: 'running', lastKey: current?.lastKey ?? null, rows: current?.rows ?? 0, updatedAt: new Date().toISOString(), worker: this.worker };
      try {
        this.version = await this.store.put(this.key, stamp, { expectedVersion: this.version ?? null, fence: this.fence, signal: this.signal });
        return current;
      } catch (e) {
        if (!(isFerryError(e) && e.code === 'CP001')) throw e;
      }
    }
    throw new FerryError('CP001', `progress record ${this.key}: too many concurrent writers`);
  }

  async load(): Promise<ChunkProgress | undefined> {
    const got = await this.store.get(this.key, this.signal);
    this.version = got ? got.version : null;
    if (!got) return undefined;
    const r = chunkProgressSchema.safeParse(got.value);
    if (!r.success) throw new FerryError('CP003', `progress record ${this.key} is malformed`);
    return r.data;
  }

  async save(p: Omit<ChunkProgress, 'updatedAt' | 'worker'>): Promise<void> {
    const value: ChunkProgress = { ...p, updatedAt: new Date().toISOString(), worker: this.worker };
    for (let attempt = 0; attempt < 30; attempt++) {
      try {
        this.version = await this.store.put(this.key, value, { expectedVersion: this.version ?? null, fence: this.fence, signal: this.signal });
        return;
      } catch (e) {
        if (!(isFerryError(e) && e.code === 'CP001')) throw e;
        const current = await this.load();
        if (current?.status === 'done') return;
        // Another run of this chunk saved a position just now; it is as safe as ours. Skip this save (the next
        // one uses the fresh version) instead of fighting over the record -- only `done` must get through.
        if (p.status === 'running') return;
        await new Promise((r) => setTimeout(r, Math.random() * 20));
      }
    }
    throw new FerryError('CP001', `progress record ${this.key}: too many concurrent writers`);
  }
}
