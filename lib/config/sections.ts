import { resolve } from 'node:path';
import { z } from 'zod';
import type { CheckpointConfig, ParallelizerConfig, PipelineConfig, TaskConfig } from './types.ts';
import { bool, contradiction, int, missing, oneOf, readSection, text, type Field } from './fields.ts';

/** ape-dts defaults (task_config.rs load_pipeline_config / load_parallelizer_config / load_runtime_config). */
export const PIPELINE_DEFAULTS = { bufferSize: 16000, bufferMemoryMb: 0, checkpointIntervalSecs: 10 } as const;

export const PIPELINE_FIELDS = {
  buffer_size: int(1),
  buffer_memory_mb: int(0),
  checkpoint_interval_secs: int(0), // 0: save progress after every batch
};

const PARALLEL_TYPES = ['snapshot', 'serial', 'rdb_merge', 'rdb_partition', 'table', 'redis', 'mongo', 'rdb_check'] as const;

export const PARALLELIZER_FIELDS = {
  parallel_type: oneOf(PARALLEL_TYPES),
  parallel_size: int(1),
};

export const RUNTIME_FIELDS = {
  log_level: oneOf(['trace', 'debug', 'info', 'warn', 'error'] as const),
  log_dir: text('a directory path'),
  /** ape-dts's legacy name of extractor.parallel_size. */
  tb_parallel_size: int(1),
};

const TASK_ID: Field<string> = {
  schema: z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string().trim().regex(/^[A-Za-z0-9._-]{1,128}$/)),
  expected: 'at most 128 letters, digits, ".", "_" or "-"',
};

export const GLOBAL_FIELDS = { task_id: TASK_ID };

export const CHECKPOINT_FIELDS = {
  store: oneOf(['file', 'dynamodb', 's3'] as const),
  dir: text('a directory path'),
  table: text('a DynamoDB table name'),
  bucket: text('an S3 bucket name'),
  prefix: text('a key prefix'),
  region: text('an AWS region'),
  endpoint: text('an endpoint URL'),
  force_path_style: bool(),
};

/** [pipeline]: buffer_size 16000, buffer_memory_mb 0 (no byte bound, as ape-dts), checkpoint_interval_secs 10. */
export function buildPipeline(raw: Record<string, unknown>): PipelineConfig {
  const f = readSection('pipeline', PIPELINE_FIELDS, raw);
  return {
    bufferSize: f.buffer_size ?? PIPELINE_DEFAULTS.bufferSize,
    bufferMemoryMb: f.buffer_memory_mb ?? PIPELINE_DEFAULTS.bufferMemoryMb,
    checkpointIntervalSecs: f.checkpoint_interval_secs ?? PIPELINE_DEFAULTS.checkpointIntervalSecs,
  };
}

/**
 * [parallelizer]: parallel_type serial, parallel_size 1 (ape-dts defaults). `rdb_check`, which older
 * ape-dts tutorials use for check tasks, is read as `snapshot` (returned in `renamed`, for a warning).
 */
export function buildParallelizer(raw: Record<string, unknown>): { parallelizer: ParallelizerConfig; renamed?: string } {
  const f = readSection('parallelizer', PARALLELIZER_FIELDS, raw);
  const type = f.parallel_type ?? 'serial';
  return {
    parallelizer: { parallelType: type === 'rdb_check' ? 'snapshot' : type, parallelSize: f.parallel_size ?? 1 },
    renamed: type === 'rdb_check' ? 'rdb_check' : undefined,
  };
}

/** [runtime]: log_level info; log_dir unset means JSON logs on stderr (ape-dts would write ./logs). */
export function buildRuntime(raw: Record<string, unknown>, baseDir?: string): { runtime: TaskConfig['runtime']; legacyParallelSize?: number } {
  const f = readSection('runtime', RUNTIME_FIELDS, raw);
  const runtime: TaskConfig['runtime'] = { logLevel: f.log_level ?? 'info' };
  if (f.log_dir !== undefined) runtime.logDir = baseDir ? resolve(baseDir, f.log_dir) : f.log_dir;
  return { runtime, legacyParallelSize: f.tb_parallel_size };
}

/** [global]: the explicit task_id, if any. */
export const readTaskId = (raw: Record<string, unknown>): string | undefined => readSection('global', GLOBAL_FIELDS, raw).task_id;

/** Which store each store-specific key belongs to: setting it for another store is a contradiction. */
const OWNER: Record<string, CheckpointConfig['store']> = { dir: 'file', table: 'dynamodb', bucket: 's3', force_path_style: 's3' };

/**
 * [checkpoint] (ferry's own section): store file (default), dynamodb (table required) or s3 (bucket
 * required). The file store's dir defaults to `./.ferry/<task_id>`; a relative dir is resolved against
 * `baseDir` when one is given, else left relative to the working directory.
 */
export function buildCheckpoint(raw: Record<string, unknown>, taskId: string, baseDir?: string): CheckpointConfig {
  const f = readSection('checkpoint', CHECKPOINT_FIELDS, raw);
  const store = f.store ?? 'file';
  for (const [key, owner] of Object.entries(OWNER)) {
    if (f[key as keyof typeof f] !== undefined && owner !== store) {
      throw contradiction(`checkpoint.${key}: expected checkpoint.store=${owner} when ${key} is set, got store=${store}`, [
        `checkpoint.${key}`,
        'checkpoint.store',
      ]);
    }
  }
  if (store === 'dynamodb' && f.table === undefined) throw missing('checkpoint.table', `${CHECKPOINT_FIELDS.table.expected} (store=dynamodb)`);
  if (store === 's3' && f.bucket === undefined) throw missing('checkpoint.bucket', `${CHECKPOINT_FIELDS.bucket.expected} (store=s3)`);
  const dir = f.dir ?? `./.ferry/${taskId}`;
  const out: CheckpointConfig = { store, dir: store === 'file' && baseDir ? resolve(baseDir, dir) : dir };
  for (const k of ['table', 'bucket', 'prefix', 'region', 'endpoint'] as const) if (f[k] !== undefined) out[k] = f[k];
  if (f.force_path_style !== undefined) out.forcePathStyle = f.force_path_style;
  return out;
}
