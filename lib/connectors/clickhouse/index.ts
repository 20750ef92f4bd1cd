/**
 * The ClickHouse connector (db_type = clickhouse): a target only -- sinker (snapshot + CDC apply) and
 * structure writer, over the HTTP interface (@clickhouse/client). ape-dts keys: `[sinker] url=http://host:8123`,
 * `username`, `password`, `batch_size`, `max_connections`.
 */
import type { ConnectorContext, ConnectorDefinition } from '../../core/connector.ts';
import type { EndpointConfig } from '../../config/types.ts';
import { ClickhouseClient } from './client.ts';
import { resolveClickhouseConfig } from './config.ts';
import { ClickhouseSinker } from './sinker.ts';
import { quoteIdent } from './sql.ts';
import { ClickhouseStructWriter } from './struct.ts';

export { ClickhouseClient } from './client.ts';
export { ClickhouseSinker } from './sinker.ts';
export { ClickhouseStructWriter } from './struct.ts';
export { featuresOf, MODERN } from './features.ts';

export function openClickhouseClient(ep: EndpointConfig, ctx: ConnectorContext): ClickhouseClient {
  const cfg = resolveClickhouseConfig(ep);
  return new ClickhouseClient(cfg, ctx.logger.child({ connector: 'clickhouse', address: cfg.address }));
}

export async function createClickhouseSinker(ep: EndpointConfig, ctx: ConnectorContext): Promise<ClickhouseSinker> {
  const client = openClickhouseClient(ep, ctx);
  return new ClickhouseSinker(client, ctx.logger.child({ connector: 'clickhouse', role: 'sinker' }));
}

/** Asks the server's version once, so `planDdl` plans for what that server supports. */
export async function createClickhouseStructWriter(ep: EndpointConfig, ctx: ConnectorContext): Promise<ClickhouseStructWriter> {
  const client = openClickhouseClient(ep, ctx);
  try {
    return new ClickhouseStructWriter(await client.server(ctx.signal), client);
  } catch (e) {
    await client.close();
    throw e;
  }
}

export const clickhouseConnector: ConnectorDefinition<EndpointConfig> = {
  dbType: 'clickhouse',
  title: 'ClickHouse',
  createSinker: (ep, ctx) => createClickhouseSinker(ep, ctx),
  createStructWriter: (ep, ctx) => createClickhouseStructWriter(ep, ctx),
  quoteIdent,
};
