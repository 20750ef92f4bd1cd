import { FerryError } from '../core/errors.ts';
import type { ConnectorDefinition } from '../core/connector.ts';
import type { EndpointConfig } from '../config/types.ts';

/**
 * THE one place a connector is registered: config `db_type` -> lazy import of its definition.
 * Adding a connector = one folder + one line here; nothing else in the core changes.
 */
const loaders: Record<string, () => Promise<ConnectorDefinition<EndpointConfig>>> = {
  mysql: async () => (await import('./mysql/index.ts')).mysqlConnector,
  pg: async () => (await import('./pg/index.ts')).pgConnector,
  clickhouse: async () => (await import('./clickhouse/index.ts')).clickhouseConnector,
  starrocks: async () => (await import('./starrocks/index.ts')).starrocksConnector,
  doris: async () => (await import('./doris/index.ts')).dorisConnector,
  tidb: async () => (await import('./tidb/index.ts')).tidbConnector,
};

/** Loads the connector for `dbType`; CF001 naming `configKey` when there is none. */
export async function loadConnector(dbType: string, configKey: string): Promise<ConnectorDefinition<EndpointConfig>> {
  const load = loaders[dbType];
  if (!load) {
    throw new FerryError('CF001', `${configKey}: unsupported db_type "${dbType}" (supported: ${Object.keys(loaders).join(', ')})`, {
      details: { key: configKey },
    });
  }
  return load();
}

export const registeredDbTypes = (): string[] => Object.keys(loaders);
