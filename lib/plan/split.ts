import type { MetadataAccessor, TableMeta, KeyTuple, Value } from '../core/index.ts';
import { throwIfAborted } from '../core/signal.ts';

/** A chunk before it gets its id. Bounds follow ChunkSpec: lower exclusive, upper inclusive, null = open. */
export interface RawChunk {
  kind: 'range' | 'null-key' | 'whole';
  lower: KeyTuple | null;
  upper: KeyTuple | null;
  estimatedRows: number;
}

export interface SplitOptions {
  /** Target rows per chunk. */
  chunkRows: number;
  /** 'table': never split (one chunk per table); 'chunk': cut by key ranges. */
  parallelType: 'table' | 'chunk';
  /** Chunk workers of the task (parallel_size): a split table's chunk count is rounded up to a multiple of it. */
  workers?: number;
  where?: string;
  signal: AbortSignal;
}

const isIntegerKey = (m: TableMeta): boolean => {
  if (m.keyColumns.length !== 1) return false;
  const c = m.columns.find((x) => x.name === m.keyColumns[0]);
  return c?.family === 'int' || c?.family === 'uint';
};

/**
 * Rows per chunk for a table of about `est` rows: `chunkRows`, or a little less so that the chunk count is a
 * multiple of `workers` (5 chunks on 2 workers leave one worker copying the fifth alone; 6 smaller ones keep both
 * busy to the end). Never below half of `chunkRows`: past that, per-chunk costs outweigh the idle tail.
 */
export function balancedChunkRows(est: number, chunkRows: number, workers = 1): number {
  const n = Math.ceil(est / chunkRows);
  if (n <= 1 || workers <= 1 || n % workers === 0) return chunkRows;
  const m = Math.ceil(n / workers) * workers;
  return m <= 2 * n ? Math.ceil(est / m) : chunkRows;
}

/**
 * Cuts one table into chunks that together cover every row exactly once (about `balancedChunkRows` rows each):
 * - keyless: one `whole` chunk (copied in one target transaction, see TableWriter.replaceAll);
 * - small tables or parallel_type=table: one open range;
 * - a single integer key: an even min/max split (cheap: two index lookups);
 * - any other key (composite, string, binary): exact boundaries by walking the key index `chunkRows` rows at
 *   a time (one index range scan per chunk, no sort of the table);
 * - a nullable unique key with NULL rows: plus one `null-key` chunk.
 */
export async function splitTable(meta: MetadataAccessor, table: TableMeta, o: SplitOptions): Promise<RawChunk[]> {
  if (table.keyKind === 'none') return [{ kind: 'whole', lower: null, upper: null, estimatedRows: table.estimatedRows }];
  const chunks: RawChunk[] = [];
  const est = Math.max(0, table.estimatedRows);
  o = { ...o, chunkRows: balancedChunkRows(est, o.chunkRows, o.workers) };
  if (o.parallelType === 'table' || est <= o.chunkRows) {
    chunks.push({ kind: 'range', lower: null, upper: null, estimatedRows: est });
  } else if (isIntegerKey(table)) {
    chunks.push(...(await splitIntegerRange(meta, table, o, est)));
  } else {
    chunks.push(...(await splitByWalking(meta, table, o)));
  }
  if (table.keyNullable && (await meta.hasNullKeys(table, o.signal))) {
    chunks.push({ kind: 'null-key', lower: null, upper: null, estimatedRows: 0 });
  }
  return chunks;
}

async function splitIntegerRange(meta: MetadataAccessor, table: TableMeta, o: SplitOptions, est: number): Promise<RawChunk[]> {
  const mm = await meta.keyMinMax(table, o.where, o.signal);
  if (!mm) return [{ kind: 'range', lower: null, upper: null, estimatedRows: 0 }];
  const min = BigInt(mm.min[0] as number | bigint | string);
  const max = BigInt(mm.max[0] as number | bigint | string);
  const n = BigInt(Math.max(1, Math.ceil(est / o.chunkRows)));
  const span = max - min + 1n;
  const step = span / n > 0n ? span / n : 1n;
  const out: RawChunk[] = [];
  let lower: KeyTuple | null = null;
  for (let i = 1n; i < n; i++) {
    const b = min + step * i - 1n;
    if (b >= max) break;
    const upper = [toKeyValue(b)];
    out.push({ kind: 'range', lower, upper, estimatedRows: Math.round(est / Number(n)) });
    lower = upper;
  }
  out.push({ kind: 'range', lower, upper: null, estimatedRows: Math.round(est / Number(n)) });
  return out;
}

async function splitByWalking(meta: MetadataAccessor, table: TableMeta, o: SplitOptions): Promise<RawChunk[]> {
  const out: RawChunk[] = [];
  let lower: KeyTuple | null = null;
  for (;;) {
    throwIfAborted(o.signal);
    const b = await meta.keyAtOffset(table, lower, o.chunkRows, o.where, o.signal);
    if (!b) break;
    out.push({ kind: 'range', lower, upper: b, estimatedRows: o.chunkRows });
    lower = b;
  }
  out.push({ kind: 'range', lower, upper: null, estimatedRows: o.chunkRows });
  return out;
}

const toKeyValue = (b: bigint): Value => (b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b);
