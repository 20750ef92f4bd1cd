import type { TableRef } from '../../core/table.ts';

/** `"a""b"`: always quoted, so upper case, spaces, unicode and reserved words survive unchanged. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** `"schema"."table"`. */
export const qualified = (t: TableRef): string => `${quoteIdent(t.db)}.${quoteIdent(t.tb)}`;

/**
 * A string literal for SQL text that cannot carry bind parameters (COPY). Relies on
 * standard_conforming_strings=on, which every pool session sets at startup, so backslashes are literal.
 * PostgreSQL text never contains NUL, so doubling quotes is the only escaping needed.
 */
export const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`;

export const identList = (names: string[], prefix = ''): string => names.map((n) => prefix + quoteIdent(n)).join(', ');

/**
 * `(k1, k2) > ($1, $2)` for a key tuple. A row comparison is lexicographic and PostgreSQL turns it into one
 * btree index range condition, so keyset pages stay index scans on composite keys. `params` are either
 * `$n` placeholders or literals.
 */
export function keyCompare(keyColumns: string[], op: '>' | '<=' | '>=', params: string[]): string {
  if (keyColumns.length === 1) return `${quoteIdent(keyColumns[0])} ${op} ${params[0]}`;
  return `(${identList(keyColumns)}) ${op} (${params.join(', ')})`;
}

/**
 * Rows whose key has no NULL. Needed on every page of a nullable key: a row comparison decides at the first
 * unequal column, so `(2, NULL) > (1, 5)` is true and NULL-key rows would leak into range chunks.
 */
export const keyNotNull = (keyColumns: string[]): string => keyColumns.map((k) => `${quoteIdent(k)} IS NOT NULL`).join(' AND ');

/** Rows with a NULL in any key column: the `null-key` chunk of a nullable unique key. */
export const keyHasNull = (keyColumns: string[]): string => `(${keyColumns.map((k) => `${quoteIdent(k)} IS NULL`).join(' OR ')})`;

/** `$1, $2, ...` starting after `offset`. */
export const placeholders = (n: number, offset = 0): string[] => Array.from({ length: n }, (_, i) => `$${offset + i + 1}`);

/** Joins predicates with AND; `where` from config is parenthesised so its ORs cannot leak. */
export function whereClause(parts: Array<string | undefined | null>): string {
  const p = parts.filter((x): x is string => !!x && x.trim() !== '');
  return p.length ? ` WHERE ${p.map((x) => `(${x})`).join(' AND ')}` : '';
}
