/**
 * The TiDB connector (db_type = tidb). TiDB speaks the MySQL protocol, so this definition delegates to the
 * MySQL connector (metadata, snapshot source, sinker with CDC apply) with TiDB's quirks as options
 * (options.ts), and adds its own structure writer (ddl.ts). No CDC source: TiDB has no MySQL binlog (TiCDC
 * is a different protocol).
 *
 * House-rule exception, on purpose: this folder imports lib/connectors/mysql. TiDB is a MySQL dialect, and
 * a copy of the MySQL sinker would drift; the dependency points one way (mysql knows nothing of tidb).
 */
import type { ConnectorContext, ConnectorDefinition } from '../../core/connector.ts';
import type { EndpointConfig } from '../../config/types.ts';
import { acquireClient, createMysqlMetadata, createMysqlSinker, createMysqlSnapshotSource, quoteIdent } from '../mysql/index.ts';
import type { MysqlSinker } from '../mysql/sinker.ts';
import { tidbSinkOptions } from './options.ts';
import { TidbStructWriter } from './struct-writer.ts';

export { planTidbDdl } from './ddl.ts';
export { tidbSinkOptions } from './options.ts';

export async function createTidbSinker(ep: EndpointConfig, ctx: ConnectorContext): Promise<MysqlSinker> {
  const o = tidbSinkOptions(ep.raw);
  return createMysqlSinker(ep, ctx, { sink: { loadData: o.loadData, statementBytes: o.statementBytes } });
}

export async function createTidbStructWriter(ep: EndpointConfig, ctx: ConnectorContext): Promise<TidbStructWriter> {
  const { client, release } = acquireClient(ep, 'sink', ctx);
  return new TidbStructWriter(client, release);
}

export const tidbConnector: ConnectorDefinition<EndpointConfig> = {
  dbType: 'tidb',
  title: 'TiDB',
  sqlDialect: 'mysql',
  createMetadata: (ep, ctx) => createMysqlMetadata(ep, ctx),
  createSnapshotSource: (ep, ctx) => createMysqlSnapshotSource(ep, ctx),
  createSinker: (ep, ctx) => createTidbSinker(ep, ctx),
  createStructWriter: (ep, ctx) => createTidbStructWriter(ep, ctx),
  quoteIdent,
};
