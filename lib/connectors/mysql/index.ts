/**
 * The MySQL/MariaDB connector: metadata, snapshot source, sinker (with CDC apply) and binlog CDC source (db_type = mysql).
 *
 * Pools are created lazily (no connection before the first query) and shared by the roles opened for the
 * same endpoint and session kind: the metadata accessor and snapshot source of one extractor use one pool,
 * which closes when the last of them is closed.
 */
import type { CdcSourceOptions, ConnectorContext, ConnectorDefinition } from '../../core/connector.ts';
import type { EndpointConfig, SinkerConfig } from '../../config/types.ts';
import { MysqlClient, type ConnectRetry, type SessionRole } from './client.ts';
import { readMysqlCdcConfig } from './cdc-config.ts';
// The binlog reader (and @vlasky/zongji with its own iconv-lite) loads only when a CDC source is created: a
// snapshot or struct process does not pay its start-up.
import type { MysqlCdcSource, MysqlCdcSourceOptions } from './cdc-source.ts';
import { resolveMysqlConfig } from './config.ts';
import { MysqlMetadata } from './metadata.ts';
import { MysqlSinker, type MysqlSinkOptions } from './sinker.ts';
import { MysqlSnapshotSource } from './snapshot-source.ts';
import { quoteIdent } from './sql.ts';
import { MysqlStructReader } from './struct-reader.ts';
import { MysqlStructWriter } from './struct-writer.ts';

export type { MysqlCdcSource } from './cdc-source.ts';
export { MysqlChangeApplier } from './applier.ts';
export { MysqlClient } from './client.ts';
export { resolveMysqlConfig } from './config.ts';
export { MysqlMetadata } from './metadata.ts';
export { MysqlSinker } from './sinker.ts';
export { MysqlSnapshotSource } from './snapshot-source.ts';
export { quoteIdent } from './sql.ts';
export { MysqlStructReader } from './struct-reader.ts';
export { MysqlStructWriter } from './struct-writer.ts';
export { planMysqlDdl } from './struct-ddl.ts';

/** Knobs tests and callers may set beyond the endpoint config. */
export interface MysqlConnectorOptions {
  connectRetry?: ConnectRetry;
  /** Sinker only: overrides of the endpoint's `replace` / statement size / lock retries. */
  sink?: Partial<MysqlSinkOptions>;
}

type SinkEndpoint = EndpointConfig & Partial<Pick<SinkerConfig, 'replace' | 'disableForeignKeyChecks'>>;

const shared = new Map<string, { client: MysqlClient; refs: number }>();

/** A client for `(endpoint, role)`, shared while any holder is open; `release` ends it after the last one. */
export function acquireClient(
  ep: EndpointConfig,
  role: SessionRole,
  ctx: ConnectorContext,
  o: { disableForeignKeyChecks?: boolean; connectRetry?: ConnectRetry } = {},
): { client: MysqlClient; release: () => Promise<void> } {
  const cfg = resolveMysqlConfig(ep);
  const key = JSON.stringify([ep.url, ep.username, ep.password, ep.maxConnections, role, !!o.disableForeignKeyChecks, o.connectRetry]);
  let entry = shared.get(key);
  if (!entry) {
    const logger = ctx.logger.child({ connector: 'mysql', address: cfg.address, role });
    entry = { client: new MysqlClient(cfg, { role, logger, disableForeignKeyChecks: o.disableForeignKeyChecks, connectRetry: o.connectRetry }), refs: 0 };
    shared.set(key, entry);
  }
  entry.refs++;
  const e = entry;
  let released = false;
  return {
    client: e.client,
    release: async () => {
      if (released) return;
      released = true;
      if (--e.refs === 0) {
        shared.delete(key);
        await e.client.end();
      }
    },
  };
}

const flag = (v: boolean | undefined, raw: string | undefined, dflt: boolean): boolean =>
  v ?? (raw === undefined ? dflt : /^(true|1|yes)$/i.test(raw.trim()));

export async function createMysqlMetadata(ep: EndpointConfig, ctx: ConnectorContext, o: MysqlConnectorOptions = {}): Promise<MysqlMetadata> {
  const { client, release } = acquireClient(ep, 'source', ctx, o);
  return new MysqlMetadata(client, release);
}

export async function createMysqlSnapshotSource(ep: EndpointConfig, ctx: ConnectorContext, o: MysqlConnectorOptions = {}): Promise<MysqlSnapshotSource> {
  const { client, release } = acquireClient(ep, 'source', ctx, o);
  return new MysqlSnapshotSource(client, release);
}

export async function createMysqlSinker(ep: SinkEndpoint, ctx: ConnectorContext, o: MysqlConnectorOptions = {}): Promise<MysqlSinker> {
  const disableForeignKeyChecks = flag(ep.disableForeignKeyChecks, ep.raw?.disable_foreign_key_checks, false);
  const { client, release } = acquireClient(ep, 'sink', ctx, { disableForeignKeyChecks, connectRetry: o.connectRetry });
  const replace = o.sink?.replace ?? flag(ep.replace, ep.raw?.replace, true);
  return new MysqlSinker(client, { ...o.sink, replace }, release);
}

/**
 * The binlog CDC source of an `[extractor] db_type=mysql extract_type=cdc` endpoint. Keys are validated here
 * (CF001 / CF002 naming `extractor.<key>`); nothing connects until the first call. `tables` restricts which
 * tables' rows are decoded; `tuning` overrides batch and queue bounds (tests, benchmarks).
 */
export async function createMysqlCdcSource(
  ep: EndpointConfig,
  ctx: ConnectorContext,
  opts: CdcSourceOptions = {},
  tuning: Partial<MysqlCdcSourceOptions> & MysqlConnectorOptions = {},
): Promise<MysqlCdcSource> {
  const cfg = readMysqlCdcConfig(ep.raw);
  const { MysqlCdcSource, DEFAULT_CDC_QUEUE_BYTES, DEFAULT_CDC_QUEUE_ITEMS } = await import('./cdc-source.ts');
  const { client, release } = acquireClient(ep, 'source', ctx, { connectRetry: tuning.connectRetry });
  const logger = ctx.logger.child({ connector: 'mysql', role: 'cdc', serverId: cfg.serverId });
  return new MysqlCdcSource(
    client,
    cfg,
    {
      // A fixed list would miss tables created later that the filter matches; the runner filters those rows.
      ...(opts.tables?.length && !opts.tablesMayGrow ? { tables: opts.tables } : {}),
      batchEvents: tuning.batchEvents ?? Math.max(1, ep.batchSize || 1000),
      queueItems: tuning.queueItems ?? DEFAULT_CDC_QUEUE_ITEMS,
      queueBytes: tuning.queueBytes ?? DEFAULT_CDC_QUEUE_BYTES,
    },
    logger,
    release,
  );
}

export const mysqlConnector: ConnectorDefinition<EndpointConfig> = {
  dbType: 'mysql',
  title: 'MySQL / MariaDB',
  createMetadata: (ep, ctx) => createMysqlMetadata(ep, ctx),
  createSnapshotSource: (ep, ctx) => createMysqlSnapshotSource(ep, ctx),
  createSinker: (ep, ctx) => createMysqlSinker(ep, ctx),
  createCdcSource: (ep, ctx, opts) => createMysqlCdcSource(ep, ctx, opts),
  async createStructReader(ep, ctx) {
    const { client, release } = acquireClient(ep, 'source', ctx);
    return new MysqlStructReader(client, release);
  },
  async createStructWriter(ep, ctx) {
    const disableForeignKeyChecks = flag((ep as SinkEndpoint).disableForeignKeyChecks, ep.raw?.disable_foreign_key_checks, false);
    const { client, release } = acquireClient(ep, 'sink', ctx, { disableForeignKeyChecks });
    return new MysqlStructWriter(client, release);
  },
  quoteIdent,
};
