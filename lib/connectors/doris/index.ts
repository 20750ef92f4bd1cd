/**
 * The Apache Doris connector (sinker.db_type = doris): Stream Load into UNIQUE KEY merge-on-write tables
 * (deletes by the hidden `__DORIS_DELETE_SIGN__`), metadata and DDL over the FE's MySQL protocol. Shares
 * lib/connectors/olap with StarRocks.
 */
import { olapConnector } from '../olap/connector.ts';
import { DORIS } from './dialect.ts';

export { DORIS } from './dialect.ts';
export const dorisConnector = olapConnector(DORIS);
