/**
 * SQL text helpers for MySQL/MariaDB: identifier quoting, literal escaping, and keyset predicates.
 *
 * Every value ferry sends is inlined as a literal built here (never interpolated raw), so the exact bytes the
 * server sees are under our control: numbers as digits, binary as X'..', bit strings as b'..'.
 * Invariant: the session never runs with NO_BACKSLASH_ESCAPES or ANSI_QUOTES off-assumptions broken --
 * {@link sqlString} escapes backslashes, which is correct for every sql_mode except NO_BACKSLASH_ESCAPES;
 * the sink session sets its own sql_mode, and source sessions are checked in client.ts.
 */
import type { ColumnMeta, TableRef } from '../../core/table.ts';
import type { KeyTuple, Value } from '../../core/values.ts';

/** `a``b` -- backticks doubled; works for any name MySQL accepts (spaces, quotes, unicode, reserved words). */
export const quoteIdent = (name: string): string => '`' + name.replace(/`/g, '``') + '`';

export const quoteTable = (t: TableRef): string => `${quoteIdent(t.db)}.${quoteIdent(t.tb)}`;

const ESCAPES: Record<string, string> = {
  '\0': '\\0',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\x1a': '\\Z',
  "'": "\\'",
  '\\': '\\\\',
};
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\0\b\t\n\r\x1a'\\]/g;

/** A quoted string literal in the connection character set (utf8mb4). */
export const sqlString = (s: string): string => "'" + s.replace(NEEDS_ESCAPE, (c) => ESCAPES[c]) + "'";

/** A binary literal; X'' is the empty byte string. */
export const hexLiteral = (b: Buffer): string => `X'${b.toString('hex')}'`;

/** A bit-value literal from a '0'/'1' string (b'' is not valid SQL, so empty means 0). */
export const bitLiteral = (bits: string): string => `b'${bits === '' ? '0' : bits}'`;

const INT_TEXT = /^[+-]?\d+$/;
/** Plain or scientific decimal text, as DECIMAL strings and JS numbers print. */
export const NUMERIC_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A double literal that the server parses as an approximate number (the `e0` suffix), so it is converted
 * with strtod and round-trips exactly; without it `0.1` would be read as DECIMAL first.
 */
export function doubleLiteral(n: number): string {
  if (Object.is(n, -0)) return '-0e0';
  const s = String(n);
  return /[eE]/.test(s) ? s : `${s}e0`;
}

/**
 * The literal for a key value, compared by the server against the column (never in JS).
 * - FLOAT columns: the value is widened to the float32 the column stores and sent as an exact double, because
 *   a decimal literal such as 1.2345678 compares unequal to the stored float (the comparison happens in double).
 * - ENUM/SET: the member index / bit mask, because ORDER BY sorts enums by index while `e > 'x'` would
 *   compare them as strings -- keyset pagination would then skip or repeat rows.
 */
export function keyLiteral(col: ColumnMeta, v: Value): string {
  if (v === null || v === undefined) return 'NULL';
  switch (col.family) {
    case 'float':
      if (typeof v === 'number') return doubleLiteral(isFloat32(col) ? Math.fround(v) : v);
      break;
    case 'enum': {
      const i = typeof v === 'string' && col.members ? col.members.indexOf(v) : -1;
      if (i >= 0) return String(i + 1);
      break;
    }
    case 'set': {
      if (typeof v === 'string' && col.members) {
        let mask = 0n;
        for (const m of v === '' ? [] : v.split(',')) {
          const i = col.members.indexOf(m);
          if (i < 0) return sqlString(v);
          mask |= 1n << BigInt(i);
        }
        return mask.toString();
      }
      break;
    }
    case 'bit':
      if (typeof v === 'string' && /^[01]*$/.test(v)) return bitLiteral(v);
      break;
    default:
      break;
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : doubleLiteral(v);
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (Buffer.isBuffer(v)) return hexLiteral(v);
  if (typeof v === 'string') {
    if ((col.family === 'decimal' && NUMERIC_TEXT.test(v)) || ((col.family === 'int' || col.family === 'uint') && INT_TEXT.test(v))) return v;
    return sqlString(v);
  }
  return sqlString(JSON.stringify(v));
}

export const isFloat32 = (col: ColumnMeta): boolean => /^float\b/i.test(col.nativeType) && (col.precision ?? 0) <= 24;

/**
 * `key > lower` over a composite key, in the expanded form `a > x OR (a = x AND b > y) ...`.
 * Why not `(a, b) > (x, y)`: MariaDB 10.11 does not build a range from a row-value comparison; it scans the
 * index from the start (measured on a 1M-row (a,b) key: 500,600 index reads for a LIMIT 100 page against 99
 * with this form; a bounded chunk read every index entry instead of only its own).
 */
export function keyAfter(cols: string[], lits: string[]): string {
  return expand(cols, lits, '>');
}

/** `key <= upper` in the same expanded, index-friendly form. */
export function keyAtMost(cols: string[], lits: string[]): string {
  return expand(cols, lits, '<=');
}

function expand(cols: string[], lits: string[], op: '>' | '<='): string {
  const strict = op === '>' ? '>' : '<';
  // Built from the last column outwards: a > x OR (a = x AND (b > y OR (b = y AND c > z)))
  let expr = `${cols[cols.length - 1]} ${op} ${lits[lits.length - 1]}`;
  for (let i = cols.length - 2; i >= 0; i--) {
    expr = `${cols[i]} ${strict} ${lits[i]} OR (${cols[i]} = ${lits[i]} AND (${expr}))`;
  }
  return `(${expr})`;
}

/** The key literals of a tuple, column by column. */
export const keyLiterals = (keyCols: ColumnMeta[], key: KeyTuple): string[] => keyCols.map((c, i) => keyLiteral(c, key[i]));

/** `a IS NOT NULL AND b IS NOT NULL` for nullable unique keys, so range chunks never pick up NULL-key rows. */
export const keyNotNull = (cols: string[]): string => cols.map((c) => `${c} IS NOT NULL`).join(' AND ');

/** `a IS NULL OR b IS NULL`: the rows of the null-key chunk. */
export const keyHasNull = (cols: string[]): string => '(' + cols.map((c) => `${c} IS NULL`).join(' OR ') + ')';
