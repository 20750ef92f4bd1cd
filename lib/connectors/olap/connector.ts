/**
 * Builds the connector definition of a MySQL-protocol FE + Stream Load engine from its dialect: sinker (with
 * CDC apply) and structure writer. Nothing connects until the first call.
 */
import type { ConnectorContext, ConnectorDefinition } from '../../core/connector.ts';
import type { EndpointConfig } from '../../config/types.ts';
import { resolveOlapConfig } from './config.ts';
import type { OlapDialect } from './dialect.ts';
import { FeClient, quoteIdent } from './fe-client.ts';
import type { LoaderOptions } from './loader.ts';
import { StreamLoadSinker } from './sinker.ts';
import { OlapStructWriter } from './struct-writer.ts';

export async function createOlapSinker(d: OlapDialect, ep: EndpointConfig, ctx: ConnectorContext, loader: LoaderOptions = {}): Promise<StreamLoadSinker> {
  const cfg = resolveOlapConfig(ep);
  return new StreamLoadSinker(d, cfg, new FeClient(cfg), ctx.logger, loader);
}

export async function createOlapStructWriter(d: OlapDialect, ep: EndpointConfig): Promise<OlapStructWriter> {
  const cfg = resolveOlapConfig(ep);
  return new OlapStructWriter(d, { replicationNum: cfg.replicationNum, buckets: cfg.buckets }, new FeClient(cfg));
}

export function olapConnector(d: OlapDialect): ConnectorDefinition<EndpointConfig> {
  return {
    dbType: d.dbType,
    title: d.title,
    createSinker: (ep, ctx) => createOlapSinker(d, ep, ctx),
    createStructWriter: (ep) => createOlapStructWriter(d, ep),
    quoteIdent,
  };
}
