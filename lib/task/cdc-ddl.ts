/** Helpers for CDC DDL events: the ape-dts DDL type of a statement, and whether it names its database. */

/** Whether `sql` qualifies a name with database `db` (`db.t`, `` `db`.t ``, `"db".t`). */
export function namesDatabase(sql: string, db: string): boolean {
  const esc = db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w])(${esc}|\`${esc}\`|"${esc}")\\s*\\.`).test(sql);
}

/** ape-dts DDL type names (`create_table`, `alter_table`, `drop_table`, `truncate_table`, ...) from SQL text. */
export function ddlType(sql: string): string {
  const words = sql
    .replace(/\/\*.*?\*\//gs, ' ')
    .trim()
    .split(/\s+/)
    .map((w) => w.toLowerCase());
  const skip = new Set(['or', 'replace', 'temporary', 'unique', 'if', 'not', 'exists', 'online', 'ignore', 'fulltext', 'spatial']);
  const [verb, ...rest] = words;
  const object = rest.find((w) => !skip.has(w)) ?? '';
  return `${verb}_${object === 'schema' ? 'database' : object}`;
}
