/**
 * When a ClickHouse table can take a MySQL page as it came (`mysql-text-tsv`, core/tsv.ts) and get exactly what the
 * decoded rows would give it: per column, the target type must read MySQL's text of the source type as the same
 * value, for every value the source type can hold -- or, for dates, for every value inside the target's range,
 * which each page's bounds are checked against before it is sent.
 *
 * Taken: any of the format's families but integers into String; integers (and YEAR) into an integer type holding the source
 * type's whole range; DECIMAL(p,s) into Decimal(P,S) with S >= s and P-S >= p-s; DATE into Date / Date32; DATETIME
 * and TIMESTAMP into DateTime / DateTime64 in UTC with at least the source's fractional digits. A nullable source
 * column needs a Nullable target. Anything else (FixedString, Enum, floats, UUID ...) keeps the decoded path.
 */
import type { ColumnMeta } from '../../core/table.ts';
import { MYSQL_TEXT_TSV_FAMILIES } from '../../core/tsv.ts';
import { DATE_DAYS, DATE_TIME_SECONDS, INT_BOUNDS, dateTimePrecision, decimalSpec } from './fit.ts';
import { dateTimeZone, isUtcZone } from './rowbinary.ts';
import type { ParsedType } from './sql.ts';

/** A table's `mysql-text-tsv` plan: per column, the [lowest, highest] text its target type holds, or null (any). */
export interface TsvPlan {
  bounds: Array<readonly [string, string] | null>;
}

const MYSQL_INT_BITS: Record<string, number> = { tinyint: 8, smallint: 16, mediumint: 24, int: 32, integer: 32, bigint: 64 };

/** The range of a MySQL integer column (YEAR: 0 and 1901..2155), or undefined when its type is not understood. */
function sourceIntRange(c: ColumnMeta): [bigint, bigint] | undefined {
  if (c.family === 'year') return [0n, 2155n];
  const m = /^(tinyint|smallint|mediumint|int|integer|bigint)\b/i.exec(c.nativeType);
  if (!m) return undefined;
  const bits = BigInt(MYSQL_INT_BITS[m[1].toLowerCase()]);
  return c.family === 'uint' ? [0n, (1n << bits) - 1n] : [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n];
}

const rangeOf = (text: string): readonly [string, string] => text.split('..') as unknown as [string, string];

/** Whether `t` reads MySQL's text of `c` exactly: undefined when it does not, else the bounds to check per page. */
function columnBounds(c: ColumnMeta, t: ParsedType, serverZone: string | undefined): readonly [string, string] | null | undefined {
  if (!MYSQL_TEXT_TSV_FAMILIES.has(c.family) || (c.nullable && !t.nullable)) return undefined;
  const b = t.base;
  // Integers are numbers once decoded: a ZEROFILL column's text ('00042') would differ from the decoded 42.
  if (b === 'String') return c.family === 'int' || c.family === 'uint' || c.family === 'year' ? undefined : null;
  if (b in INT_BOUNDS) {
    const r = sourceIntRange(c);
    const [lo, hi] = INT_BOUNDS[b];
    return (c.family === 'int' || c.family === 'uint' || c.family === 'year') && r && r[0] >= lo && r[1] <= hi ? null : undefined;
  }
  if (b === 'Decimal' || b.startsWith('Decimal')) {
    if (c.family !== 'decimal' || c.precision === undefined) return undefined;
    const [p, s] = decimalSpec(t);
    const cs = c.scale ?? 0;
    return s >= cs && p - s >= c.precision - cs ? null : undefined;
  }
  if (b === 'Date' || b === 'Date32') return c.family === 'date' ? rangeOf(DATE_DAYS[b][2]) : undefined;
  if (b === 'DateTime' || b === 'DateTime64') {
    const zone = dateTimeZone(t) ?? serverZone;
    if (c.family !== 'datetime' || zone === undefined || !isUtcZone(zone) || dateTimePrecision(t) < (c.precision ?? 0)) return undefined;
    return rangeOf(DATE_TIME_SECONDS[b][2]);
  }
  return undefined;
}

/**
 * The plan for a table whose written columns are `columns` (source meta and target type, in write order), or the
 * first column that keeps it off the raw path. `extrasDefaulted`: both extra columns are left to their type's
 * default (0, the snapshot row's values) when omitted -- they have no DEFAULT expression.
 */
export function tsvPlan(columns: Array<{ meta: ColumnMeta; type: ParsedType }>, serverZone: string | undefined, extrasDefaulted: boolean): TsvPlan | { refused: string } {
  if (!extrasDefaulted) return { refused: 'an extra column has a DEFAULT expression' };
  const bounds: TsvPlan['bounds'] = [];
  for (const { meta, type } of columns) {
    const b = columnBounds(meta, type, serverZone);
    if (b === undefined) return { refused: `${meta.name}: ${meta.nativeType} into ${type.inner}` };
    bounds.push(b);
  }
  return { bounds };
}

/** Whether every bounded column's page range lies inside its target's (texts compare as date-times do). */
export function withinBounds(plan: TsvPlan, page: ReadonlyArray<readonly [string, string] | null> | undefined): boolean {
  for (let i = 0; i < plan.bounds.length; i++) {
    const want = plan.bounds[i];
    if (!want) continue;
    const got = page?.[i];
    if (got === undefined) return false;
    if (got === null) continue;
    if (got[0].slice(0, want[0].length) < want[0] || got[1].slice(0, want[1].length) > want[1]) return false;
  }
  return true;
}
