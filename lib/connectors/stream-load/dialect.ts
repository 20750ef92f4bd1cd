/**
 * What differs between StarRocks and Doris on the shared Stream Load + MySQL-protocol path. Each connector
 * folder defines its dialect; everything else in lib/connectors/stream-load is engine-neutral.
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
}
