/**
 * The StarRocks connector (sinker.db_type = starrocks): Stream Load into PRIMARY KEY tables (deletes by
 * `__op`), metadata and DDL over the FE's MySQL protocol. The engine-neutral machinery is shared with Doris
 * in lib/connectors/olap (not a connector: a protocol library both use, so neither imports the other).
 */
import { olapConnector } from '../olap/connector.ts';
import { STARROCKS } from './dialect.ts';

export { STARROCKS } from './dialect.ts';
export const starrocksConnector = olapConnector(STARROCKS);
