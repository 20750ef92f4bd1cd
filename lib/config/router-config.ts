import { z } from 'zod';
import type { DbType, RouterConfig } from './types.ts';
import { contradiction, invalid, json, mapping, readSection } from './fields.ts';
import { items, itemText, quoteCharsFor, scan, splitAt, type Token } from './tokens.ts';

const COL_MAP = z.array(z.object({ db: z.string(), tb: z.string(), col_map: z.record(z.string()) }).strict());

export const ROUTER_FIELDS = {
  db_map: mapping('a comma list of src_db:dst_db'),
  tb_map: mapping('a comma list of src_db.src_tb:dst_db.dst_tb'),
  col_map: json(COL_MAP, 'json:[{"db":"..","tb":"..","col_map":{"src_col":"dst_col"}}]'),
  topic_map: mapping('a comma list of db.tb:topic (db and tb may be *)'),
};

/** The key of tb_map / col_map / topic_map entries: `db.tb` with the names unquoted. */
export const tableKey = (db: string, tb: string): string => `${db}.${tb}`;

type Rule = { from: string; to: string; text: string };

/** Sets an own property even for names like `__proto__` (a table may be called anything). */
const setOwn = <V>(o: Record<string, V>, k: string, v: V): void => {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
};

/**
 * Parses `src:dst` items whose sides have `leftParts` / `rightParts` dot-separated names (0 = any number,
 * joined back with dots: Kafka topics may contain dots). Names are unquoted, as ape-dts does for routes.
 */
function rules(value: string | undefined, where: string, dbType: DbType, leftParts: number, rightParts: number, shape: string): Array<{ left: string[]; right: string[]; text: string }> {
  if (value === undefined) return [];
  const tokens = scan(value, { delims: ',:.', quotes: quoteCharsFor(dbType), regex: false, where });
  return items(tokens).map((item) => {
    const sides = splitAt(item, ':');
    const names = (side: Token[]) => side.map((t) => t.value);
    const fits = (side: Token[], parts: number) =>
      side.every((t) => t.value !== '') && (parts === 0 ? side.length > 0 : side.length === parts);
    if (sides.length !== 2 || !fits(sides[0], leftParts) || !fits(sides[1], rightParts)) {
      throw invalid(where, `${shape} (quote names that contain "." "," or ":")`, itemText(item));
    }
    return { left: names(sides[0]), right: names(sides[1]), text: itemText(item) };
  });
}

/** Builds a map from rules; the same source routed to two different targets is a contradiction (CF003). */
function toMap<V>(list: Rule[], where: string, value: (r: Rule) => V): Record<string, V> {
  const out: Record<string, V> = {};
  const first = new Map<string, Rule>();
  for (const r of list) {
    const prev = first.get(r.from);
    if (prev && prev.to !== r.to) {
      throw contradiction(`${where}: expected one target per source, got ${prev.text} and ${r.text}`, [where]);
    }
    first.set(r.from, r);
    setOwn(out, r.from, value(r));
  }
  return out;
}

/**
 * [router] -> RouterConfig. Formats as ape-dts: db_map `src:dst,...`, tb_map `db.tb:db2.tb2,...`,
 * col_map `json:[{"db","tb","col_map":{src:dst}}]`, topic_map `db.tb:topic,...` with `*` for any db/tb.
 * No wildcards in db_map/tb_map (ape-dts has none); names may be quoted with the source engine's quote.
 */
export function buildRouter(raw: Record<string, unknown>, dbType: DbType): RouterConfig {
  const f = readSection('router', ROUTER_FIELDS, raw);
  const db = rules(f.db_map, 'router.db_map', dbType, 1, 1, 'src_db:dst_db').map((r) => ({
    from: r.left[0],
    to: r.right[0],
    text: r.text,
  }));
  const tb = rules(f.tb_map, 'router.tb_map', dbType, 2, 2, 'src_db.src_tb:dst_db.dst_tb').map((r) => ({
    from: tableKey(r.left[0], r.left[1]),
    to: JSON.stringify(r.right),
    text: r.text,
  }));
  const topic = rules(f.topic_map, 'router.topic_map', dbType, 2, 0, 'db.tb:topic').map((r) => ({
    from: tableKey(r.left[0], r.left[1]),
    to: r.right.join('.'),
    text: r.text,
  }));
  const colMap: RouterConfig['colMap'] = {};
  for (const c of f.col_map ?? []) {
    const key = tableKey(c.db, c.tb);
    const cols = Object.hasOwn(colMap, key) ? colMap[key] : {};
    for (const [src, dst] of Object.entries(c.col_map)) setOwn(cols, src, dst);
    setOwn(colMap, key, cols);
  }
  return {
    dbMap: toMap(db, 'router.db_map', (r) => r.to),
    tbMap: toMap(tb, 'router.tb_map', (r) => {
      const [d, t] = JSON.parse(r.to) as [string, string];
      return { db: d, tb: t };
    }),
    colMap,
    topicMap: toMap(topic, 'router.topic_map', (r) => r.to),
  };
}
