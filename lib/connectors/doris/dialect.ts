import type { OlapDialect } from '../olap/dialect.ts';

/**
 * Apache Doris: unique-key (merge-on-write) tables; the hidden `__DORIS_DELETE_SIGN__` column, named in the
 * load's `columns`, deletes the row's key when 1; `partial_columns` for partial rows (Doris 2.0+).
 */
export const DORIS: OlapDialect = {
  dbType: 'doris',
  title: 'Apache Doris',
  opColumn: '__DORIS_DELETE_SIGN__',
  partialHeaders: { partial_columns: 'true' },
  upsertModel: 'UNIQUE',
  ddl: { properties: { enable_unique_key_merge_on_write: 'true' }, autoBuckets: 'AUTO', datetimePrecision: true, varbinary: false, decimalKey: true, maxVarchar: 65533 },
};
