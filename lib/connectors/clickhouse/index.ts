/**
 * The ClickHouse connector (db_type = clickhouse): a target only -- sinker (snapshot + CDC apply) and
 * structure writer, over the HTTP interface (@clickhouse/client). ape-dts keys: `[sinker] url=http://host:8123`,
 * `username`, `password`, `batch_size`, `max_connections`; ferry's `clickhouse_format=auto|rowbinary|json`.
 */
import { FerryError } from '../../core/errors.ts';
import type { ConnectorContext, ConnectorDefinition } from '../../core/connector.ts';
import type { EndpointConfig } from '../../config/types.ts';
import { ClickhouseClient } from './client.ts';
import { resolveClickhouseConfig } from './config.ts';
import { ClickhouseSinker } from './sinker.ts';
import { quoteIdent } from './sql.ts';
import { ClickhouseStructWriter } from './struct.ts';
import { FORMAT_CHOICES, type FormatChoice } from './target.ts';

export { ClickhouseClient } from './client.ts';
export { ClickhouseSinker } from './sinker.ts';
export { ClickhouseStructWriter } from './struct.ts';
export { featuresOf, MODERN } from './features.ts';

export function openClickhouseClient(ep: EndpointConfig, ctx: ConnectorContext): ClickhouseClient {
  const cfg = resolveClickhouseConfig(ep);
  return new ClickhouseClient(cfg, ctx.logger.child({ connector: 'clickhouse', address: cfg.address }));
}

/** `sinker.clickhouse_format` (default auto); CF001 naming the key for another value. */
export function clickhouseFormat(ep: Pick<EndpointConfig, 'raw'>): FormatChoice {
  const v = ep.raw?.clickhouse_format?.trim().toLowerCase();
  if (!v) return 'auto';
  if (!(FORMAT_CHOICES as readonly string[]).includes(v)) {
    throw new FerryError('CF001', `sinker.clickhouse_format: expected ${FORMAT_CHOICES.join('|')}, got "${v.slice(0, 40)}"`, { details: { key: 'sinker.clickhouse_format' } });
  }
  return v as FormatChoice;
}

export async function createClickhouseSinker(ep: EndpointConfig, ctx: ConnectorContext): Promise<ClickhouseSinker> {
  const format = clickhouseFormat(ep);
  const client = openClickhouseClient(ep, ctx);
  return new ClickhouseSinker(client, ctx.logger.child({ connector: 'clickhouse', role: 'sinker' }), format, ep.batchSize);
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
