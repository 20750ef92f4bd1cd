import type { TableRef } from '../../core/table.ts';

/** What ferry needs to know about a statement from a binlog QUERY event. */
export interface ParsedStatement {
  kind: 'ddl' | 'truncate' | 'other';
  /**
   * The one table the statement is about (ALTER/CREATE/DROP/TRUNCATE/RENAME TABLE, CREATE/DROP INDEX),
   * unqualified names resolved against `defaultDb`; absent for several tables or none.
   */
  table?: TableRef;
  /** Every table the statement names (RENAME a TO b: both), for metadata invalidation. */
  touched: TableRef[];
  /** Database-level statements (CREATE/DROP/ALTER DATABASE): the database. */
  database?: string;
}

/**
 * Comments removed; MySQL/MariaDB executable comments (`/*!40101 ...* /`, `/*M!100301 ...* /`) unwrapped,
 * since the server runs their content.
 */
export function stripComments(sql: string): string {
  return sql
    .replace(/\/\*(M?!\d*)?([\s\S]*?)\*\//g, (_m, exec: string | undefined, body: string) => (exec ? ` ${body} ` : ' '))
    .replace(/^\s*(--\s|#).*$/gm, ' ')
    .trim();
}

interface Cursor {
  s: string;
  i: number;
}

const skipWs = (c: Cursor) => {
  while (c.i < c.s.length && /\s/.test(c.s[c.i])) c.i++;
};

/** The next word (lower-cased) without consuming it. */
function peekWord(c: Cursor): string {
  skipWs(c);
  const m = /^[A-Za-z_]+/.exec(c.s.slice(c.i, c.i + 40));
  return m ? m[0].toLowerCase() : '';
}

function word(c: Cursor): string {
  const w = peekWord(c);
  c.i += w.length;
  return w;
}

/** Skips the words in `optional` (any order, any count). */
function skipWords(c: Cursor, optional: string[]): void {
  while (optional.includes(peekWord(c))) word(c);
}

/** One identifier: `quoted``name` or a bare name. */
function ident(c: Cursor): string | null {
  skipWs(c);
  if (c.s[c.i] === '`') {
    let out = '';
    for (c.i++; c.i < c.s.length; c.i++) {
      if (c.s[c.i] === '`') {
        if (c.s[c.i + 1] === '`') {
          out += '`';
          c.i++;
        } else {
          c.i++;
          return out;
        }
      } else out += c.s[c.i];
    }
    return null;
  }
  const m = /^[\p{L}\p{N}_$]+/u.exec(c.s.slice(c.i));
  if (!m) return null;
  c.i += m[0].length;
  return m[0];
}

/** `db.tb` or `tb` (resolved against `db`). */
function tableName(c: Cursor, db: string): TableRef | null {
  const first = ident(c);
  if (first === null) return null;
  skipWs(c);
  if (c.s[c.i] === '.') {
    c.i++;
    const second = ident(c);
    return second === null ? null : { db: first, tb: second };
  }
  return { db, tb: first };
}

/** A comma-separated list of table names (DROP TABLE a, b). */
function tableList(c: Cursor, db: string): TableRef[] {
  const out: TableRef[] = [];
  for (;;) {
    const t = tableName(c, db);
    if (!t) return out;
    out.push(t);
    skipWs(c);
    if (c.s[c.i] !== ',') return out;
    c.i++;
  }
}

const one = (tables: TableRef[]): ParsedStatement => ({ kind: 'ddl', ...(tables.length === 1 ? { table: tables[0] } : {}), touched: tables });

/**
 * Classifies a QUERY event's statement. DDL = CREATE/ALTER/DROP/RENAME/TRUNCATE of tables, indexes, views
 * and databases; users, roles, servers, grants and everything else are `other` (they only move the position).
 */
export function parseStatement(sql: string, defaultDb: string): ParsedStatement {
  const c: Cursor = { s: stripComments(sql), i: 0 };
  const verb = word(c);
  const other: ParsedStatement = { kind: 'other', touched: [] };
  switch (verb) {
    case 'truncate': {
      skipWords(c, ['table']);
      const t = tableName(c, defaultDb);
      return t ? { kind: 'truncate', table: t, touched: [t] } : other;
    }
    case 'rename': {
      if (word(c) !== 'table') return other;
      const touched: TableRef[] = [];
      for (;;) {
        const from = tableName(c, defaultDb);
        if (!from || word(c) !== 'to') break;
        const to = tableName(c, defaultDb);
        if (!to) break;
        touched.push(from, to);
        skipWs(c);
        if (c.s[c.i] !== ',') break;
        c.i++;
      }
      return { kind: 'ddl', ...(touched.length === 2 ? { table: touched[0] } : {}), touched };
    }
    case 'create':
    case 'alter':
    case 'drop': {
      skipWords(c, ['or', 'replace', 'temporary', 'online', 'offline', 'ignore', 'unique', 'fulltext', 'spatial']);
      const object = word(c);
      if (object === 'table') {
        skipWords(c, ['if', 'not', 'exists']);
        return one(verb === 'drop' ? tableList(c, defaultDb) : [tableName(c, defaultDb)].filter((t): t is TableRef => !!t));
      }
      if (object === 'index') {
        skipWords(c, ['if', 'not', 'exists']);
        ident(c);
        skipWords(c, ['on']);
        const t = tableName(c, defaultDb);
        return one(t ? [t] : []);
      }
      if (object === 'database' || object === 'schema') {
        skipWords(c, ['if', 'not', 'exists']);
        const d = ident(c);
        return { kind: 'ddl', touched: [], ...(d ? { database: d } : {}) };
      }
      // Views, routines, triggers, events (also behind DEFINER=... / ALGORITHM=...): DDL without a table.
      if (object === 'sequence' || /\b(view|trigger|function|procedure|event)\b/i.test(c.s.slice(0, 300).split(/['"]/)[0])) return { kind: 'ddl', touched: [] };
      return other;
    }
    default:
      return other;
  }
}
