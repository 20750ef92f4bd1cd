import type { FilterConfig, NamePattern } from '../config/types.ts';
import { regexOf } from '../config/patterns.ts';

/** Which databases, tables, columns, rows and events a task moves. Pure; built once per task. */
export interface TableFilter {
  /** Whether anything of database `db` can be moved (for listing databases and database-level DDL). */
  dbIncluded(db: string): boolean;
  /** Whether table `db.tb` is moved. */
  tableIncluded(db: string, tb: string): boolean;
  /** Source columns of `db.tb` left out (filter.ignore_cols), in config order; empty when none. */
  ignoredColumns(db: string, tb: string): string[];
  /** The extra source predicate for `db.tb` (filter.where_conditions), if any. */
  whereCondition(db: string, tb: string): string | undefined;
  /** Whether a row event (`insert` / `update` / `delete`) of `db.tb` is moved. */
  eventIncluded(db: string, tb: string, event: string): boolean;
  /** Whether a DDL of type `ddlType` (ape-dts names: create_table...) is applied; `tb` empty for database DDL. */
  ddlIncluded(db: string, tb: string | undefined, ddlType: string): boolean;
}

const test = (p: NamePattern, name: string): boolean => regexOf(p).test(name);
const anyDb = (list: NamePattern[], db: string): boolean => list.some((p) => test(p, db));
const anyTb = (list: FilterConfig['doTbs'], db: string, tb: string): boolean =>
  list.some((p) => test(p.db, db) && test(p.tb, tb));
const matchAll = (list: string[], item: string): boolean => list.includes('*') || list.includes(item);

/**
 * Builds the filter with ape-dts precedence (RdbFilter):
 * - a table is moved when it matches do_tbs or its database matches do_dbs (the union), and matches
 *   neither ignore_tbs nor ignore_dbs -- ignore always wins over do;
 * - empty do_dbs and do_tbs include nothing (ape-dts: "keep empty to match nothing");
 * - a database is moved when it matches do_dbs or the database side of a do_tbs entry, unless ignore_dbs
 *   matches it or an ignore_tbs entry covers all its tables (`db.*`);
 * - names are case-sensitive; `*` any run of characters, `?` zero or one character, quoted names exact,
 *   `r#...#` regex;
 * - do_events `*` (the default) lets every event through; an empty do_ddls lets no DDL through.
 * Invariant: every answer is a pure function of `cfg` and the arguments (decisions are memoised).
 */
export function createFilter(cfg: FilterConfig): TableFilter {
  const tables = new Map<string, boolean>();
  const tableIncluded = (db: string, tb: string): boolean => {
    const key = JSON.stringify([db, tb]);
    let r = tables.get(key);
    if (r === undefined) {
      const ignored = anyTb(cfg.ignoreTbs, db, tb) || anyDb(cfg.ignoreDbs, db);
      r = !ignored && (anyTb(cfg.doTbs, db, tb) || anyDb(cfg.doDbs, db));
      tables.set(key, r);
    }
    return r;
  };
  const dbIncluded = (db: string): boolean => {
    // ape-dts asks whether the whole database is ignored by matching the table name "*" itself.
    if (anyTb(cfg.ignoreTbs, db, '*') || anyDb(cfg.ignoreDbs, db)) return false;
    return anyDb(cfg.doDbs, db) || cfg.doTbs.some((p) => test(p.db, db));
  };
  return {
    dbIncluded,
    tableIncluded,
    ignoredColumns: (db, tb) => [
      ...new Set(cfg.ignoreCols.filter((c) => c.db === db && c.tb === tb).flatMap((c) => c.ignoreCols)),
    ],
    whereCondition: (db, tb) => cfg.whereConditions.find((w) => w.db === db && w.tb === tb)?.condition,
    eventIncluded: (db, tb, event) => matchAll(cfg.doEvents, event) && tableIncluded(db, tb),
    ddlIncluded: (db, tb, ddlType) =>
      matchAll(cfg.doDdls, ddlType) && (tb === undefined || tb === '' ? dbIncluded(db) : tableIncluded(db, tb)),
  };
}
