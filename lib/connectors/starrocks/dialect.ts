import type { OlapDialect } from '../olap/dialect.ts';

/** StarRocks: primary-key tables; `__op` 0/1 in the load upserts/deletes; `partial_update` for partial rows. */
export const STARROCKS: OlapDialect = {
  dbType: 'starrocks',
  title: 'StarRocks',
  opColumn: '__op',
  partialHeaders: { partial_update: 'true' },
  upsertModel: 'PRIMARY',
  ddl: { properties: {}, autoBuckets: 'omit', datetimePrecision: false, varbinary: true, decimalKey: false, maxVarchar: 1048576 },
};
