import { z } from 'zod';
import type { DbType, ExtractorConfig, SinkerConfig } from './types.ts';
import { bool, int, json, missing, oneOf, readSection, text, type Field } from './fields.ts';

/** ape-dts defaults (task_config.rs): DEFAULT_MAX_CONNECTIONS, sinker batch_size, check_log batch_size. */
export const DEFAULTS = { maxConnections: 10, sinkerBatchSize: 200, checkLogBatchSize: 200, chunkRows: 200_000 } as const;

export const DB_TYPES = ['mysql', 'pg', 'mongo', 'redis', 'kafka', 'clickhouse', 'starrocks', 'doris', 'tidb'] as const;
const EXTRACT_TYPES = ['snapshot', 'cdc', 'struct', 'check_log', 'snapshot_and_cdc'] as const;
const SINK_TYPES = ['write', 'check', 'struct', 'dummy'] as const;

/** A password is taken exactly as written (TOML/JSON may keep surrounding blanks on purpose). */
const secret = (): Field<string> => ({ schema: z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string()), expected: 'a string' });

const PARTITION_COLS = z.array(z.object({ db: z.string().min(1), tb: z.string().min(1), partition_col: z.string().min(1) }).strict());

const COMMON = {
  db_type: { ...oneOf(DB_TYPES), required: true },
  url: text('a connection URL'),
  username: text(),
  password: secret(),
  batch_size: int(1),
  max_connections: int(1),
};

export const EXTRACTOR_FIELDS = {
  ...COMMON,
  url: { ...COMMON.url, required: true },
  extract_type: { ...oneOf(EXTRACT_TYPES), required: true },
  parallel_size: int(1),
  parallel_type: oneOf(['table', 'chunk'] as const),
  partition_cols: json(PARTITION_COLS, 'json:[{"db":"..","tb":"..","partition_col":".."}]'),
  chunk_rows: int(1),
};

export const SINKER_FIELDS = {
  ...COMMON,
  sink_type: oneOf(SINK_TYPES),
  replace: bool(),
  disable_foreign_key_checks: bool(),
  conflict_policy: oneOf(['interrupt', 'ignore'] as const),
};

/** Every key of an endpoint section as a string, for connector-specific keys. */
export function rawStrings(raw: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined || v === null) continue;
    out[k] = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

const opt = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

export interface ExtractorContext {
  /** pipeline.buffer_size: ape-dts derives the default extractor batch size from it. */
  bufferSize: number;
  /** runtime.tb_parallel_size, ape-dts's legacy spelling of extractor.parallel_size. */
  legacyParallelSize?: number;
}

/**
 * [extractor] -> ExtractorConfig (plus ferry's `chunk_rows`). Defaults as ape-dts: parallel_size 1,
 * parallel_type chunk (ferry: the planner cuts tables into key ranges), max_connections 10, batch_size = buffer_size / parallel_size (200 for check_log).
 */
export function buildExtractor(raw: Record<string, unknown>, ctx: ExtractorContext): { extractor: ExtractorConfig; chunkRows: number } {
  const f = readSection('extractor', EXTRACTOR_FIELDS, raw);
  const parallelSize = f.parallel_size ?? ctx.legacyParallelSize ?? 1;
  const derived = Math.floor(ctx.bufferSize / parallelSize) || ctx.bufferSize;
  const extractor: ExtractorConfig = {
    dbType: f.db_type!,
    extractType: f.extract_type!,
    url: f.url!,
    username: opt(f.username),
    password: opt(f.password),
    maxConnections: f.max_connections ?? DEFAULTS.maxConnections,
    batchSize: f.batch_size ?? (f.extract_type === 'check_log' ? DEFAULTS.checkLogBatchSize : derived),
    parallelSize,
    parallelType: f.parallel_type ?? 'chunk',
    partitionCols: (f.partition_cols ?? []).map((p) => ({ db: p.db, tb: p.tb, partitionCol: p.partition_col })),
    raw: rawStrings(raw),
  };
  return { extractor, chunkRows: f.chunk_rows ?? DEFAULTS.chunkRows };
}

/**
 * [sinker] -> SinkerConfig. Defaults as ape-dts: sink_type write, batch_size 200, max_connections 10,
 * replace true, disable_foreign_key_checks true, conflict_policy interrupt. db_type and url are required unless sink_type=dummy;
 * a dummy sinker without db_type takes the extractor's (it is never connected).
 */
export function buildSinker(raw: Record<string, unknown>, extractorDbType: DbType): SinkerConfig {
  const f = readSection('sinker', { ...SINKER_FIELDS, db_type: oneOf(DB_TYPES) }, raw);
  const sinkType = f.sink_type ?? 'write';
  if (sinkType !== 'dummy') {
    if (f.db_type === undefined) throw missing('sinker.db_type', SINKER_FIELDS.db_type.expected);
    if (f.url === undefined) throw missing('sinker.url', SINKER_FIELDS.url.expected);
  }
  return {
    dbType: f.db_type ?? extractorDbType,
    sinkType,
    url: f.url ?? '',
    username: opt(f.username),
    password: opt(f.password),
    maxConnections: f.max_connections ?? DEFAULTS.maxConnections,
    batchSize: f.batch_size ?? DEFAULTS.sinkerBatchSize,
    replace: f.replace ?? true,
    disableForeignKeyChecks: f.disable_foreign_key_checks ?? true,
    conflictPolicy: f.conflict_policy ?? 'interrupt',
    raw: rawStrings(raw),
  };
}
