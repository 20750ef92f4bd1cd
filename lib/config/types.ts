/**
 * The resolved task configuration: what lib/ consumes, whatever the file format (INI, TOML, JSON).
 * Key names follow ape-dts (snake_case in files, camelCase here); defaults are applied; secrets are resolved
 * from `${ENV}`. Invariant: a TaskConfig is JSON-serialisable and valid -- every consumer trusts it.
 */
export type DbType = 'mysql' | 'pg' | 'mongo' | 'redis' | 'kafka' | 'clickhouse' | 'starrocks' | 'doris' | 'tidb';

/** A name pattern from filter keys: `*`/`?` wildcards, or a regex written `r#...#` in the file. */
export interface NamePattern {
  /** The text as written (for messages). */
  source: string;
  regex: RegExp;
}

/** Connection endpoint as written (`url` plus `username`/`password`, merged by the connector). */
export interface EndpointConfig {
  dbType: DbType;
  url: string;
  username?: string;
  password?: string;
  maxConnections: number;
  batchSize: number;
  /** Every key of the section as written, for connector-specific keys (server_id, slot_name...). */
  raw: Record<string, string>;
}

export interface ExtractorConfig extends EndpointConfig {
  extractType: 'snapshot' | 'cdc' | 'struct' | 'check_log' | 'snapshot_and_cdc';
  /** Chunks per table copied in parallel (ape-dts extractor.parallel_size). */
  parallelSize: number;
  /** table: one worker per table; chunk: tables are cut into key-range chunks. */
  parallelType: 'table' | 'chunk';
  /** Explicit split column per table (ape-dts extractor.partition_cols). */
  partitionCols: Array<{ db: string; tb: string; partitionCol: string }>;
}

export interface SinkerConfig extends EndpointConfig {
  sinkType: 'write' | 'check' | 'struct' | 'dummy';
  /** true: REPLACE / upsert overwriting conflicting rows (ape-dts default). */
  replace: boolean;
  disableForeignKeyChecks: boolean;
  /**
   * Structure migration (sink_type=struct): `interrupt` (ape-dts default) stops at the first object that
   * already exists (MD003) or fails; `ignore` skips existing objects, logs failures and goes on.
   */
  conflictPolicy: 'interrupt' | 'ignore';
}

export interface FilterConfig {
  doDbs: NamePattern[];
  ignoreDbs: NamePattern[];
  /** Each pattern is `db.tb` with db and tb matched separately. */
  doTbs: Array<{ db: NamePattern; tb: NamePattern }>;
  ignoreTbs: Array<{ db: NamePattern; tb: NamePattern }>;
  ignoreCols: Array<{ db: string; tb: string; ignoreCols: string[] }>;
  whereConditions: Array<{ db: string; tb: string; condition: string }>;
  doEvents: string[];
  doDdls: string[];
  /**
   * Structure migration: which object kinds to create (ape-dts do_structures: database, table, constraint,
   * sequence, comment, index; ferry adds type and foreign_key). `['*']` (default) is all of them.
   */
  doStructures: string[];
}

export interface RouterConfig {
  /** src db -> dst db */
  dbMap: Record<string, string>;
  /** `src_db.src_tb` -> { db, tb } */
  tbMap: Record<string, { db: string; tb: string }>;
  /** `src_db.src_tb` -> { src_col: dst_col } */
  colMap: Record<string, Record<string, string>>;
  topicMap: Record<string, string>;
}

export interface PipelineConfig {
  /** Max rows held in the buffer between reader and writer. */
  bufferSize: number;
  /** Max bytes (MiB) held in the buffer. */
  bufferMemoryMb: number;
  checkpointIntervalSecs: number;
}

export interface ParallelizerConfig {
  parallelType: 'snapshot' | 'serial' | 'rdb_merge' | 'rdb_partition' | 'table' | 'redis' | 'mongo';
  parallelSize: number;
}

export interface CheckpointConfig {
  store: 'file' | 'dynamodb' | 's3';
  /** file store: directory (default `./.ferry/<task_id>` ... see docs). */
  dir: string;
  table?: string;
  bucket?: string;
  prefix?: string;
  region?: string;
  endpoint?: string;
  /** s3 store: path-style requests (`http://host/bucket/key`), for S3 stand-ins such as MinIO or s3rver. */
  forcePathStyle?: boolean;
}

export interface TaskConfig {
  taskId: string;
  extractor: ExtractorConfig;
  sinker: SinkerConfig;
  filter: FilterConfig;
  router: RouterConfig;
  pipeline: PipelineConfig;
  parallelizer: ParallelizerConfig;
  runtime: { logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error'; logDir?: string };
  checkpoint: CheckpointConfig;
  /** Chunk sizing for the planner (ferry addition): target rows per chunk. */
  chunkRows: number;
}
