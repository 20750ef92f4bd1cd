import type { EndpointConfig, SinkerConfig } from '../../config/types.ts';
import type { CdcSourceOptions, ConnectorContext, ConnectorDefinition } from '../../core/connector.ts';
import { FerryError } from '../../core/errors.ts';
import { readPgCdcConfig } from './cdc-config.ts';
import { DEFAULT_CDC_QUEUE_BYTES, DEFAULT_CDC_QUEUE_ITEMS, PgCdcSource, type PgCdcSourceOptions } from './cdc-source.ts';
import { parsePgUrl, replicationSessionOptions } from './config.ts';
import { PgMetadata } from './metadata.ts';
import { PgPool, type PgPoolOptions } from './pool.ts';
import { PgSinker } from './sinker.ts';
import { PgSnapshotSource, type PgReadMode } from './snapshot-source.ts';
import { quoteIdent } from './sql.ts';
import type { PgWriteMode } from './table-writer.ts';
import { PgStructReader } from './struct-reader.ts';
import { PgStructWriter } from './struct-writer.ts';

/**
 * Defaults chosen by measurement (docs/connectors/pg.md, test/integration/pg-bench.test.ts): reading, COPY
 * text beats the row protocol on small pages and ties on large ones; writing, multi-row INSERT beats COPY +
 * staging at ape-dts' default sinker batch (200) and ties from 1000 rows up.
 */
export const DEFAULT_READ_MODE: PgReadMode = 'copy';
export const DEFAULT_WRITE_MODE: PgWriteMode = 'auto';
/** Rows per multi-row INSERT in insert mode (then capped by 65535 / columns). */
export const DEFAULT_INSERT_ROWS = 1000;

function option<T extends string>(endpoint: EndpointConfig, section: string, key: string, allowed: readonly T[], fallback: T): T {
  const v = endpoint.raw?.[key]?.trim();
  if (!v) return fallback;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new FerryError('CF001', `${section}.${key}: expected ${allowed.join('|')}, got "${v}"`, { details: { key: `${section}.${key}` } });
  }
  return v as T;
}

/** A lazy pool for one endpoint: nothing connects until the first statement. */
export function createPool(endpoint: EndpointConfig, ctx: ConnectorContext, section: string, opts?: PgPoolOptions): PgPool {
  const settings = parsePgUrl(endpoint, `${section}.url`);
  // sinker.disable_foreign_key_checks (ape-dts default true): FK and user triggers off for ferry's sessions.
  // Needs a superuser (or GRANT SET ON PARAMETER, PG15+); otherwise a warning and FKs stay checked.
  const sessionSql = section === 'sinker' && (endpoint as Partial<SinkerConfig>).disableForeignKeyChecks ? ['SET session_replication_role = replica'] : [];
  return new PgPool(settings, ctx.logger.child({ connector: 'pg' }), { sessionSql, ...opts });
}

/**
 * The CDC source of an `[extractor] db_type=pg extract_type=cdc` endpoint. Keys are validated here (CF001 /
 * CF002 naming `extractor.<key>`); nothing connects until the first call. `tables` restricts the publication
 * ferry creates; `tuning` overrides batch and queue bounds (tests, benchmarks).
 */
export async function createPgCdcSource(
  endpoint: EndpointConfig,
  ctx: ConnectorContext,
  opts: CdcSourceOptions = {},
  tuning: Partial<PgCdcSourceOptions> = {},
): Promise<PgCdcSource> {
  const cfg = readPgCdcConfig(endpoint.raw);
  const { pool: client } = parsePgUrl(endpoint, 'extractor.url');
  const { max: _max, idleTimeoutMillis: _idle, ...clientOnly } = client;
  const logger = ctx.logger.child({ connector: 'pg', slot: cfg.slotName });
  // Two connections are plenty: catalog reads and the heartbeat writer.
  const pool = createPool({ ...endpoint, maxConnections: Math.min(2, Math.max(1, endpoint.maxConnections)) }, ctx, 'extractor');
  return new PgCdcSource(pool, { ...clientOnly, options: replicationSessionOptions() }, cfg, {
    ...(opts.tables ? { tables: opts.tables } : {}),
    batchEvents: Math.max(1, endpoint.batchSize || 1000),
    queueItems: DEFAULT_CDC_QUEUE_ITEMS,
    queueBytes: DEFAULT_CDC_QUEUE_BYTES,
    inUseWaitMs: 10_000,
    ...tuning,
  }, logger);
}

/**
 * PostgreSQL (db_type `pg`, as ape-dts): metadata, keyset snapshot reads, an upserting sinker and CDC.
 * A table's `db` is the PostgreSQL schema; the database is the URL's path.
 */
export const pgConnector: ConnectorDefinition<EndpointConfig> = {
  dbType: 'pg',
  title: 'PostgreSQL',
  async createMetadata(endpoint, ctx) {
    return new PgMetadata(createPool(endpoint, ctx, 'extractor'));
  },
  async createSnapshotSource(endpoint, ctx) {
    const mode = option(endpoint, 'extractor', 'pg_read_mode', ['copy', 'select'] as const, DEFAULT_READ_MODE);
    return new PgSnapshotSource(createPool(endpoint, ctx, 'extractor'), mode);
  },
  async createSinker(endpoint, ctx) {
    const mode = option(endpoint, 'sinker', 'pg_write_mode', ['auto', 'copy', 'insert'] as const, DEFAULT_WRITE_MODE);
    return new PgSinker(createPool(endpoint, ctx, 'sinker'), {
      mode,
      overwrite: (endpoint as Partial<SinkerConfig>).replace ?? true,
      insertRows: DEFAULT_INSERT_ROWS,
      logger: ctx.logger.child({ connector: 'pg' }),
    });
  },
  createCdcSource: (endpoint, ctx, opts) => createPgCdcSource(endpoint, ctx, opts),
  async createStructReader(endpoint, ctx) {
    return new PgStructReader(createPool(endpoint, ctx, 'extractor'));
  },
  async createStructWriter(endpoint, ctx) {
    return new PgStructWriter(createPool({ ...endpoint, maxConnections: 1 }, ctx, 'sinker'));
  },
  quoteIdent,
};

export { PgMetadata, PgSinker, PgSnapshotSource, PgPool, PgCdcSource, parsePgUrl, PgStructReader, PgStructWriter };
export { planPgDdl } from './struct-ddl.ts';
export type { PgReadMode, PgWriteMode, PgCdcSourceOptions };
