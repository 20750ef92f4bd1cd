/**
 * Query builders shared by the metadata accessor (chunk boundaries) and the snapshot source (pages).
 * Invariant: every key comparison is done by the server, in the column's collation, with literals from
 * {@link keyLiteral}; JS never orders keys. So the planner's bounds and the reader's pages agree.
 */
import { FerryError } from '../../core/errors.ts';
import { column, tableId, type ColumnMeta, type TableMeta } from '../../core/table.ts';
import type { KeyTuple } from '../../core/values.ts';
import { keyAfter, keyAtMost, keyHasNull, keyLiterals, keyNotNull, quoteIdent, quoteTable } from './sql.ts';
import { readsAsDouble } from './type-map.ts';

export function keyColumnsOf(meta: TableMeta): ColumnMeta[] {
  return meta.keyColumns.map((n) => {
    const c = column(meta, n);
    if (!c) throw new FerryError('RT002', `source ${tableId(meta)}: key column ${n} is not among the table's columns`);
    return c;
  });
}

/** The select list for `cols`; FLOAT columns widened to DOUBLE (see type-map.ts float32Value). */
export const selectList = (cols: ColumnMeta[]): string =>
  cols.map((c) => (readsAsDouble(c) ? `CAST(${quoteIdent(c.name)} AS DOUBLE) AS ${quoteIdent(c.name)}` : quoteIdent(c.name))).join(', ');

/** Conditions for rows with lower < key <= upper (null bounds open), NULL-key rows excluded. */
export function rangeConds(meta: TableMeta, lower: KeyTuple | null | undefined, upper: KeyTuple | null | undefined): string[] {
  const kc = keyColumnsOf(meta);
  const names = kc.map((c) => quoteIdent(c.name));
  const conds: string[] = [];
  if (lower) conds.push(keyAfter(names, keyLiterals(kc, lower)));
  if (upper) conds.push(keyAtMost(names, keyLiterals(kc, upper)));
  if (meta.keyNullable) conds.push(keyNotNull(names));
  return conds;
}

export const nullKeyCond = (meta: TableMeta): string => keyHasNull(meta.keyColumns.map(quoteIdent));

export const orderBy = (names: string[], desc = false): string => names.map((n) => quoteIdent(n) + (desc ? ' DESC' : '')).join(', ');

/** `WHERE a AND b AND (user filter)`, or '' when there is nothing to filter. */
export function whereClause(conds: string[], where: string | undefined): string {
  const all = where?.trim() ? [...conds, `(${where})`] : conds;
  return all.length ? ` WHERE ${all.join(' AND ')}` : '';
}

/** `SELECT cols FROM t WHERE ... ORDER BY key LIMIT n [OFFSET m]` for keyset pages and boundaries. */
export function keysetSelect(
  meta: TableMeta,
  cols: ColumnMeta[],
  conds: string[],
  where: string | undefined,
  limit: number,
  offset = 0,
  desc = false,
): string {
  return (
    `SELECT ${selectList(cols)} FROM ${quoteTable(meta)}${whereClause(conds, where)}` +
    ` ORDER BY ${orderBy(meta.keyColumns, desc)} LIMIT ${Math.max(1, Math.floor(limit))}` +
    (offset > 0 ? ` OFFSET ${Math.floor(offset)}` : '')
  );
}
