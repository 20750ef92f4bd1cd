import { FerryError } from '../core/errors.ts';
import type { DbType } from './types.ts';

/**
 * The value tokenizer of ape-dts (`config_token_parser.rs`), re-implemented from its documented behaviour:
 * - a value is a sequence of tokens separated by delimiter characters (`,` and `.` for filters, plus `:`
 *   for router maps);
 * - a token that starts with the engine's quote character (`` ` `` for MySQL-family engines, `"` for
 *   PostgreSQL and Redis, none for MongoDB and Kafka) runs to the next quote and may contain delimiters:
 *   `` `db.a`.`tb,1` `` is the two names `db.a` and `tb,1`;
 * - in filters, a token that starts with `r#` is a regex running to the next `#`: `r#^db\.t.*#`;
 * - tokens are trimmed; everything else is a plain token up to the next delimiter.
 * Stricter than ape-dts where ape-dts silently misreads: an unclosed quote, an empty quoted name, or
 * text after a closing quote is a CF001 error instead of a mangled name.
 */

export interface Token {
  /** As written, quotes included (used in messages and as NamePattern.source). */
  raw: string;
  /** The name without quotes, the regex body without `r#`/`#`, or the plain text. */
  value: string;
  kind: 'plain' | 'quoted' | 'regex';
  /** The delimiter that ended the token; null at the end of the value. */
  delim: string | null;
}

/** Quote characters ape-dts accepts around names, by source engine (`SqlUtil::get_escape_pairs`). */
export function quoteCharsFor(dbType: DbType): string[] {
  switch (dbType) {
    case 'mysql':
    case 'tidb':
    case 'clickhouse':
    case 'starrocks':
    case 'doris':
      return ['`'];
    case 'pg':
    case 'redis':
      return ['"'];
    default:
      return [];
  }
}

export interface ScanOptions {
  delims: string;
  quotes: string[];
  /** Recognise `r#...#` regex tokens (filters only). */
  regex: boolean;
  /** `section.key`, for messages. */
  where: string;
}

const bad = (where: string, expected: string, got: string): FerryError =>
  new FerryError('CF001', `${where}: expected ${expected}, got ${got}`, { details: { key: where } });

const show = (s: string): string => JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);

/** Splits a value into tokens. An empty or blank value has no tokens. */
export function scan(input: string, o: ScanOptions): Token[] {
  const s = input;
  const n = s.length;
  const tokens: Token[] = [];
  if (s.trim() === '') return tokens;
  let i = 0;
  const skipBlanks = () => {
    while (i < n && /\s/.test(s[i])) i++;
  };
  const expectDelim = (raw: string) => {
    skipBlanks();
    if (i < n && !o.delims.includes(s[i])) {
      throw bad(o.where, `one of ${[...o.delims].map((d) => `"${d}"`).join(' ')} after ${raw}`, show(s.slice(i, i + 20)));
    }
  };
  for (;;) {
    skipBlanks();
    let tok: Omit<Token, 'delim'>;
    const q = o.quotes.find((c) => s[i] === c);
    if (q) {
      const close = s.indexOf(q, i + 1);
      if (close < 0) throw bad(o.where, `a closing ${q}`, `${show(s.slice(i))} (unterminated)`);
      tok = { raw: s.slice(i, close + 1), value: s.slice(i + 1, close), kind: 'quoted' };
      if (tok.value === '') throw bad(o.where, `a name between ${q}${q}`, 'an empty name');
      i = close + 1;
      expectDelim(tok.raw);
    } else if (o.regex && s.startsWith('r#', i)) {
      const close = s.indexOf('#', i + 2);
      if (close < 0) throw bad(o.where, 'a regex written r#...#', `${show(s.slice(i))} (no closing #)`);
      tok = { raw: s.slice(i, close + 1), value: s.slice(i + 2, close), kind: 'regex' };
      i = close + 1;
      expectDelim(tok.raw);
    } else {
      let j = i;
      while (j < n && !o.delims.includes(s[j])) j++;
      const raw = s.slice(i, j).trim();
      tok = { raw, value: raw, kind: 'plain' };
      i = j;
    }
    tokens.push({ ...tok, delim: i < n ? s[i] : null });
    if (i >= n) break;
    i++;
  }
  return tokens;
}

/**
 * Groups tokens into the comma-separated items of a list. Empty items (`a,,b`, a trailing comma) are
 * dropped, as they name nothing.
 */
export function items(tokens: Token[]): Token[][] {
  const out: Token[][] = [];
  let cur: Token[] = [];
  for (const t of tokens) {
    cur.push(t);
    if (t.delim === ',' || t.delim === null) {
      if (!(cur.length === 1 && cur[0].kind === 'plain' && cur[0].value === '')) out.push(cur);
      cur = [];
    }
  }
  return out;
}

/** Splits one item at `sep` delimiters: `a.b:c.d` at ':' gives [[a, b], [c, d]]. */
export function splitAt(item: Token[], sep: string): Token[][] {
  const parts: Token[][] = [[]];
  for (const t of item) {
    parts[parts.length - 1].push(t);
    if (t.delim === sep) parts.push([]);
  }
  return parts;
}

/** The item as written, for messages. */
export const itemText = (item: Token[]): string =>
  item.map((t) => t.raw + (t.delim && t.delim !== ',' ? t.delim : '')).join('');

/** Checks every token of an item is a non-empty name; CF001 naming the item otherwise. */
export function requireNames(item: Token[], where: string, expected: string): void {
  if (item.some((t) => t.kind === 'plain' && t.value === '')) throw bad(where, expected, show(itemText(item)));
}

export { bad as tokenError, show as showValue };
