/** ClickHouse SQL text: identifiers, string literals, and the extra columns ape-dts adds to every table. */
import type { TableRef } from '../../core/table.ts';

/** ape-dts's delete flag (UInt8, 1 = the row was deleted at the source). */
export const DELETED_COL = '_ape_dts_is_deleted';
/** ape-dts's version column (Int64): ReplacingMergeTree keeps the row with the highest value per key. */
export const VERSION_COL = '_ape_dts_timestamp';
export const EXTRA_COLUMNS = [DELETED_COL, VERSION_COL] as const;

/** Backquoted identifier; backslash escapes work on every ClickHouse version. */
export const quoteIdent = (name: string): string => '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';

export const quoteTable = (t: TableRef): string => `${quoteIdent(t.db)}.${quoteIdent(t.tb)}`;

/** Single-quoted string literal with backslash escapes. */
export const sqlString = (s: string): string => "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";

/** A parsed target type: `Nullable(...)` and `LowCardinality(...)` unwrapped, base name and its arguments. */
export interface ParsedType {
  /** The type text without Nullable / LowCardinality, as the server prints it. */
  inner: string;
  base: string;
  args: string[];
  nullable: boolean;
}

export function parseType(text: string): ParsedType {
  let t = text.trim();
  let nullable = false;
  for (;;) {
    const m = /^(Nullable|LowCardinality)\((.*)\)$/s.exec(t);
    if (!m) break;
    if (m[1] === 'Nullable') nullable = true;
    t = m[2].trim();
  }
  const open = t.indexOf('(');
  if (open < 0) return { inner: t, base: t, args: [], nullable };
  const args = splitArgs(t.slice(open + 1, t.lastIndexOf(')')));
  return { inner: t, base: t.slice(0, open), args, nullable };
}

function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      cur += c;
      if (c === '\\') cur += s[++i] ?? '';
      else if (c === "'") quote = false;
    } else if (c === "'") {
      quote = true;
      cur += c;
    } else if (c === '(') {
      depth++;
      cur += c;
    } else if (c === ')') {
      depth--;
      cur += c;
    } else if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}
