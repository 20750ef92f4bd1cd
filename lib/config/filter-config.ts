import { z } from 'zod';
import type { DbType, FilterConfig, NamePattern } from './types.ts';
import { contradiction, invalid, json, list, readSection } from './fields.ts';
import { items, itemText, quoteCharsFor, scan, type Token } from './tokens.ts';
import { patternFromToken } from './patterns.ts';

const EVENTS = ['insert', 'update', 'delete'];

/** ape-dts do_structures words, plus ferry's `type` (enum types) and `foreign_key` (a part of `constraint`). */
export const STRUCTURES = ['database', 'table', 'constraint', 'sequence', 'comment', 'index', 'type', 'foreign_key'];

/** ape-dts DdlType names (dt-common ddl_type.rs). */
export const DDL_TYPES = [
  'create_database', 'drop_database', 'alter_database', 'create_schema', 'drop_schema', 'alter_schema',
  'create_table', 'drop_table', 'truncate_table', 'rename_table', 'alter_table', 'create_index', 'drop_index',
  'mongo_create_collection', 'mongo_drop_collection', 'mongo_rename_collection', 'mongo_drop_database',
  'mongo_create_index', 'mongo_drop_index', 'mongo_coll_mod', 'mongo_shard_collection', 'mongo_reshard_collection',
  'mongo_refine_collection_shard_key',
];

const IGNORE_COLS = z.array(z.object({ db: z.string(), tb: z.string(), ignore_cols: z.array(z.string()) }).strict());
const WHERE = z.array(z.object({ db: z.string(), tb: z.string(), condition: z.string().min(1) }).strict());

export const FILTER_FIELDS = {
  do_dbs: list('a comma list of database names or patterns'),
  ignore_dbs: list('a comma list of database names or patterns'),
  do_tbs: list('a comma list of db.tb names or patterns'),
  ignore_tbs: list('a comma list of db.tb names or patterns'),
  ignore_cols: json(IGNORE_COLS, 'json:[{"db":"..","tb":"..","ignore_cols":[".."]}]'),
  where_conditions: json(WHERE, 'json:[{"db":"..","tb":"..","condition":".."}]'),
  do_events: list(`a comma list of ${EVENTS.join(', ')} or *`),
  do_ddls: list('a comma list of ddl types (create_table, alter_table, ...) or *'),
  do_structures: list(`a comma list of ${STRUCTURES.join(', ')} or *`),
};

const scanNames = (value: string | undefined, where: string, dbType: DbType): Token[][] =>
  value === undefined ? [] : items(scan(value, { delims: ',.', quotes: quoteCharsFor(dbType), regex: true, where }));

/** do_dbs / ignore_dbs: like ape-dts, `.` separates names too, so `a.b` is the two names a and b. */
function dbPatterns(value: string | undefined, where: string, dbType: DbType): NamePattern[] {
  return scanNames(value, where, dbType)
    .flat()
    .filter((t) => !(t.kind === 'plain' && t.value === ''))
    .map((t) => patternFromToken(t, where));
}

/** do_tbs / ignore_tbs: each item is exactly `db.tb`, each side a name or pattern. */
function tbPatterns(value: string | undefined, where: string, dbType: DbType): FilterConfig['doTbs'] {
  return scanNames(value, where, dbType).map((item) => {
    const ok = item.length === 2 && item[0].delim === '.' && item.every((t) => t.kind !== 'plain' || t.value !== '');
    if (!ok) throw invalid(where, 'db.tb (quote names that contain "." or ",")', itemText(item));
    return { db: patternFromToken(item[0], where), tb: patternFromToken(item[1], where) };
  });
}

/** A comma list of words from `allowed` (or `*`), lower-cased; CF001 naming the first stranger. */
function words(value: string | undefined, where: string, allowed: string[], expected: string): string[] | undefined {
  if (value === undefined) return undefined;
  const out = value.split(',').map((w) => w.trim().toLowerCase()).filter((w) => w !== '');
  const stranger = out.find((w) => w !== '*' && !allowed.includes(w));
  if (stranger !== undefined) throw invalid(where, expected, stranger);
  return out;
}

/**
 * [filter] -> FilterConfig. Names are tokenized with the quote character of the source engine
 * (`dbType`). Defaults as ape-dts: every do_* / ignore_* list empty (an empty do list includes nothing),
 * do_events `*`, do_ddls empty (no DDL), do_structures `*` (every object kind). Two where_conditions for one table contradict each other (CF003).
 */
export function buildFilter(raw: Record<string, unknown>, dbType: DbType): FilterConfig {
  const f = readSection('filter', FILTER_FIELDS, raw);
  const whereConditions = (f.where_conditions ?? []).map((w) => ({ db: w.db, tb: w.tb, condition: w.condition }));
  const seen = new Set<string>();
  for (const w of whereConditions) {
    const id = JSON.stringify([w.db, w.tb]);
    if (seen.has(id)) {
      throw contradiction(`filter.where_conditions: expected one condition per table, got two for ${w.db}.${w.tb}`, [
        'filter.where_conditions',
      ]);
    }
    seen.add(id);
  }
  return {
    doDbs: dbPatterns(f.do_dbs, 'filter.do_dbs', dbType),
    ignoreDbs: dbPatterns(f.ignore_dbs, 'filter.ignore_dbs', dbType),
    doTbs: tbPatterns(f.do_tbs, 'filter.do_tbs', dbType),
    ignoreTbs: tbPatterns(f.ignore_tbs, 'filter.ignore_tbs', dbType),
    ignoreCols: (f.ignore_cols ?? []).map((c) => ({ db: c.db, tb: c.tb, ignoreCols: c.ignore_cols })),
    whereConditions,
    doEvents: words(f.do_events, 'filter.do_events', EVENTS, FILTER_FIELDS.do_events.expected) ?? ['*'],
    doDdls: words(f.do_ddls, 'filter.do_ddls', DDL_TYPES, FILTER_FIELDS.do_ddls.expected) ?? [],
    doStructures: words(f.do_structures, 'filter.do_structures', STRUCTURES, FILTER_FIELDS.do_structures.expected) ?? ['*'],
  };
}
