/**
 * Column types and defaults for PostgreSQL targets of structure migration.
 *
 * Like engine (source is PostgreSQL): the source's format_type text is kept (enum types re-qualified with
 * their routed schema). Other engines: mapped from the neutral family, spelled as format_type prints it so a
 * structure check reads back the same text (docs/struct.md has the table). Lossy conversions are flagged,
 * impossible ones are MD002.
 */
import type { PlanBuilder } from '../../core/struct-util.ts';
import { unsupportedType } from '../../core/struct-util.ts';
import type { SchemaModel, StructColumn, StructTable } from '../../core/struct.ts';
import { qualified, quoteLiteral } from './sql.ts';

/** Integer storage bytes from a MySQL-style native type (`tinyint`, `mediumint unsigned`...), else by digits. */
function intBytes(c: StructColumn): number {
  const m = /^(tinyint|smallint|mediumint|int|integer|bigint)\b/i.exec(c.nativeType);
  if (m) return { tinyint: 1, smallint: 2, mediumint: 3, int: 4, integer: 4, bigint: 8 }[m[1].toLowerCase()]!;
  const p = c.precision ?? 19;
  return p <= 5 ? 2 : p <= 10 ? 4 : 8;
}

/** The enum type of a like-engine column, re-qualified with the model's (routed) schema. */
function enumTypeOf(model: SchemaModel, c: StructColumn): string | undefined {
  const e = model.enumTypes.find((x) => x.tb === c.udtName && JSON.stringify(x.labels) === JSON.stringify(c.members));
  return e ? qualified(e) : undefined;
}

/** The PostgreSQL column type for `c` of `t`. */
export function pgColumnType(model: SchemaModel, t: StructTable, c: StructColumn, like: boolean, plan: PlanBuilder): string {
  if (like) return (c.family === 'enum' && enumTypeOf(model, c)) || c.nativeType;
  const obj = `${t.db}.${t.tb}.${c.name}`;
  const flag = (to: string, reason: string) => {
    plan.flag(obj, c.nativeType, to, reason);
    return to;
  };
  switch (c.family) {
    case 'int': {
      const b = intBytes(c);
      return b <= 2 ? 'smallint' : b <= 4 ? 'integer' : 'bigint';
    }
    case 'uint': {
      const b = intBytes(c);
      return b === 1 ? 'smallint' : b <= 3 ? 'integer' : b === 4 ? 'bigint' : 'numeric(20,0)';
    }
    case 'decimal':
      return c.precision === undefined ? 'numeric' : `numeric(${c.precision},${c.scale ?? 0})`;
    case 'float':
      return /^float\b/i.test(c.nativeType) && (c.precision ?? 24) <= 24 ? 'real' : 'double precision';
    case 'bool':
      return 'boolean';
    case 'bit':
      return `bit(${c.length ?? 1})`;
    case 'string': {
      if (/^char\b/i.test(c.nativeType) && c.length !== undefined) return `character(${c.length})`;
      if (/^varchar\b/i.test(c.nativeType) && c.length !== undefined) return `character varying(${c.length})`;
      return 'text';
    }
    case 'enum': {
      // varchar + CHECK rather than CREATE TYPE: the data path writes enum values as text, and a CHECK keeps
      // the allowed members without a type to create, route and drop (docs/struct.md).
      const n = Math.max(1, ...(c.members ?? []).map((m) => [...m].length));
      return `character varying(${n})`;
    }
    case 'set':
      return flag('text', 'SET stored as its comma-joined text; membership is not enforced');
    case 'uuid':
      return 'uuid';
    case 'inet':
      return 'inet';
    case 'binary':
      return 'bytea';
    case 'json':
      return flag('jsonb', 'JSON becomes JSONB: key order, duplicate keys and whitespace are not kept');
    case 'date':
      return 'date';
    case 'time':
      return flag(`time(${c.precision ?? 0}) without time zone`, 'MySQL TIME values outside 00:00:00-24:00:00 (durations, negatives) fail');
    case 'datetime':
      // MySQL TIMESTAMP is an instant (ferry reads it as UTC): timestamptz keeps its meaning.
      if (/^timestamp\b/i.test(c.nativeType)) return `timestamp(${c.precision ?? 0}) with time zone`;
      return `timestamp(${c.precision ?? 0}) without time zone`;
    case 'timestamptz':
      return `timestamp(${c.precision ?? 6}) with time zone`;
    case 'year':
      return 'smallint';
    case 'interval':
      return 'interval';
    case 'geometry':
      throw unsupportedType(t, c, 'PostgreSQL', 'geometry between engines is not migrated');
    default:
      throw unsupportedType(t, c, 'PostgreSQL');
  }
}

const NUMERIC_FAMILIES = new Set(['int', 'uint', 'decimal', 'float', 'year']);
const ZERO_DATE = /^0000-00-00/;

/** ` DEFAULT ...` for `c` (empty when none, or not portable: flagged). */
export function pgDefault(t: StructTable, c: StructColumn, like: boolean, plan: PlanBuilder): string {
  const d = c.default;
  if (!d) return '';
  const obj = `${t.db}.${t.tb}.${c.name}`;
  const drop = (from: string, reason: string) => {
    plan.flag(obj, from, '(no default)', reason);
    return '';
  };
  switch (d.kind) {
    case 'literal':
      if (c.family === 'bool') return ` DEFAULT ${/^(t|true|1|y|yes|on)$/i.test(d.value)}`;
      if (NUMERIC_FAMILIES.has(c.family) && /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(d.value)) return ` DEFAULT ${d.value}`;
      if (ZERO_DATE.test(d.value) && !like) return drop(`DEFAULT '${d.value}'`, 'zero dates do not exist in PostgreSQL');
      if (!like && (c.family === 'binary' || c.family === 'bit' || c.family === 'geometry')) return drop(`DEFAULT ${d.value}`, `${c.family} default not carried between engines`);
      return ` DEFAULT ${quoteLiteral(d.value)}`;
    case 'current_timestamp': {
      if (c.family !== 'datetime' && c.family !== 'timestamptz') return drop('DEFAULT CURRENT_TIMESTAMP', 'only timestamp columns take CURRENT_TIMESTAMP');
      // timestamptz (and MySQL TIMESTAMP, mapped to it) -> CURRENT_TIMESTAMP; timestamp -> LOCALTIMESTAMP, the same clock.
      const zoned = c.family === 'timestamptz' || (!like && /^timestamp\b/i.test(c.nativeType));
      const fn = zoned ? 'CURRENT_TIMESTAMP' : 'LOCALTIMESTAMP';
      return ` DEFAULT ${d.precision !== undefined ? `${fn}(${d.precision})` : fn}`;
    }
    default:
      if (like) return ` DEFAULT ${d.text}`;
      return drop(`DEFAULT ${d.text}`, 'default expression is engine-specific');
  }
}
