/**
 * What differs between StarRocks and Doris on the shared Stream Load + MySQL-protocol path. Each connector
 * folder defines its dialect; everything else in lib/connectors/olap is engine-neutral.
 */
export interface OlapDialect {
  dbType: 'starrocks' | 'doris';
  title: string;
  /**
   * The field that carries the operation in a load mixing upserts and deletes, listed in `columns`:
   * StarRocks `__op` (0 upsert, 1 delete; primary-key tables), Doris the hidden `__DORIS_DELETE_SIGN__`
   * (0 keep, 1 delete; unique-key tables with batch delete, the default since Doris 0.15).
   */
  opColumn: string;
  /** Headers of a load that updates only the columns it names (rows whose other columns must stay). */
  partialHeaders: Record<string, string>;
  /** The key model that makes Stream Load an upsert by key: `PRIMARY` (StarRocks) / `UNIQUE` (Doris). */
  upsertModel: 'PRIMARY' | 'UNIQUE';
  /** Structure migration differences (olap/ddl.ts). */
  ddl: {
    /** Table properties every CREATE TABLE gets besides replication_num. */
    properties: Record<string, string>;
    /** `BUCKETS AUTO` is spelled out (Doris) or the clause is left out (StarRocks decides). */
    autoBuckets: 'AUTO' | 'omit';
    /** DATETIME takes a fractional-seconds precision (Doris DATETIMEV2). */
    datetimePrecision: boolean;
    /** Has VARBINARY (StarRocks 3.0+). */
    varbinary: boolean;
    /** DECIMAL can be a key column. */
    decimalKey: boolean;
    /** Largest VARCHAR length in bytes. */
    maxVarchar: number;
  };
}
