import type { TableRef } from '../core/table.ts';
import type { RouterConfig } from '../config/types.ts';

/** Maps source names to target names. Pure; built once per task. */
export interface Router {
  /** The target database of source database `db` (db_map), for database-level work. */
  routeDb(db: string): string;
  /** The target table of a source table: tb_map first, else db_map on the database, else unchanged. */
  routeTable(t: TableRef): TableRef;
  /** The target name of column `col` of SOURCE table `db.tb` (col_map), else unchanged. */
  routeColumn(db: string, tb: string, col: string): string;
  /** The Kafka topic of a source table: `db.tb`, then `db.*`, then `*.*`; undefined when none matches. */
  routeTopic(db: string, tb: string): string | undefined;
  /** False when the config routes nothing (routeTable and routeColumn are identities). */
  readonly hasRules: boolean;
}

const own = <V>(o: Record<string, V>, k: string): V | undefined => (Object.hasOwn(o, k) ? o[k] : undefined);
const key = (db: string, tb: string): string => `${db}.${tb}`;

/**
 * Builds the router with ape-dts semantics (RdbRouter): exact, case-sensitive names, no wildcards;
 * tb_map beats db_map; col_map is looked up by the source table and works with or without a table route.
 * Invariant: routeTable returns a new object and never mutates its argument.
 */
export function createRouter(cfg: RouterConfig): Router {
  const routeDb = (db: string): string => own(cfg.dbMap, db) ?? db;
  return {
    routeDb,
    routeTable: (t) => {
      const hit = own(cfg.tbMap, key(t.db, t.tb));
      return hit ? { db: hit.db, tb: hit.tb } : { db: routeDb(t.db), tb: t.tb };
    },
    routeColumn: (db, tb, col) => {
      const cols = own(cfg.colMap, key(db, tb));
      return (cols && own(cols, col)) ?? col;
    },
    routeTopic: (db, tb) => own(cfg.topicMap, key(db, tb)) ?? own(cfg.topicMap, key(db, '*')) ?? own(cfg.topicMap, '*.*'),
    hasRules: Object.keys(cfg.dbMap).length + Object.keys(cfg.tbMap).length + Object.keys(cfg.colMap).length > 0,
  };
}
