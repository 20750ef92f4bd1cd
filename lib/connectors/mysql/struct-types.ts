/**
 * Column types and defaults for MySQL/MariaDB targets of structure migration.
 *
 * Like engine (source is MySQL): the source's COLUMN_TYPE is kept, only integer display widths equal to the
 * type's default are dropped (MariaDB prints `int(11)`, MySQL 8 `int`: both mean the same column).
 * Other engines: mapped from the neutral family (docs/struct.md has the table); every conversion that can lose
 * information is flagged, a type MySQL cannot hold is MD002.
 */
import type { PlanBuilder } from '../../core/struct-util.ts';
import { unsupportedType } from '../../core/struct-util.ts';
import type { StructColumn, StructTable } from '../../core/struct.ts';
import { sqlString } from './sql.ts';

const DEFAULT_WIDTH: Record<string, [number, number]> = {
  tinyint: [4, 3], smallint: [6, 5], mediumint: [9, 8], int: [11, 10], integer: [11, 10], bigint: [20, 20],
};

/** `int(11)` -> `int`, `int(10) unsigned` -> `int unsigned`; `tinyint(1)` and other widths stay. */
export function canonicalMysqlType(native: string): string {
  return native.replace(/^(tinyint|smallint|mediumint|int|integer|bigint)\((\d+)\)(.*)$/i, (m, t: string, w: string, rest: string) => {
    const [signed, unsigned] = DEFAULT_WIDTH[t.toLowerCase()];
    const isUnsigned = /unsigned/i.test(rest);
    return Number(w) === (isUnsigned ? unsigned : signed) ? `${t}${rest}` : m;
  });
}

/** Longest MySQL VARCHAR that fits a utf8mb4 row; longer strings become LONGTEXT. */
const MAX_VARCHAR = 16383;
/** 768 utf8mb4 characters = 3072 bytes, InnoDB's index key limit. */
const INDEXABLE_CHARS = 768;

const intByBits = (bits: number | undefined, unsigned: boolean): string => {
  const base = bits === undefined ? 'bigint' : bits <= 8 ? 'tinyint' : bits <= 16 ? 'smallint' : bits <= 32 ? 'int' : 'bigint';
  return unsigned ? `${base} unsigned` : base;
};

/**
 * The MySQL column type for `c` of `t`. `indexed`: the column is part of a key or index (MySQL cannot index
 * TEXT/BLOB without a prefix, so unbounded strings become VARCHAR(768) / VARBINARY(3072), flagged).
 */
export function mysqlColumnType(t: StructTable, c: StructColumn, like: boolean, indexed: boolean, plan: PlanBuilder): string {
  if (like) return c.family === 'json' ? 'json' : canonicalMysqlType(c.nativeType);
  const obj = `${t.db}.${t.tb}.${c.name}`;
  const flag = (to: string, reason: string) => {
    plan.flag(obj, c.nativeType, to, reason);
    return to;
  };
  const udt = (c.udtName ?? '').toLowerCase();
  switch (c.family) {
    case 'int':
    case 'uint':
      return intByBits(c.precision, c.family === 'uint');
    case 'decimal': {
      if (c.precision === undefined) return flag('decimal(65,30)', 'unconstrained NUMERIC: MySQL keeps at most 65 digits, 30 after the point');
      if (c.precision > 65 || (c.scale ?? 0) > 30) throw unsupportedType(t, c, 'MySQL', 'DECIMAL holds at most 65 digits, 30 after the point');
      return `decimal(${c.precision},${c.scale ?? 0})`;
    }
    case 'float':
      return (c.precision ?? 53) <= 24 ? 'float' : 'double';
    case 'bool':
      return 'tinyint(1)';
    case 'bit': {
      const n = c.length ?? 1;
      if (n > 64) throw unsupportedType(t, c, 'MySQL', 'BIT holds at most 64 bits');
      if (/varying/i.test(c.nativeType)) return flag(`bit(${n})`, 'BIT VARYING becomes fixed-width BIT (values are zero-padded on the left)');
      return `bit(${n})`;
    }
    case 'string': {
      const n = c.length;
      if (udt === 'citext') return flag(indexed ? `varchar(${INDEXABLE_CHARS})` : 'longtext', 'citext: comparisons follow the column collation');
      if (n !== undefined && (udt === 'bpchar' || udt === 'char') && n <= 255) return `char(${n})`;
      if (n !== undefined && n <= MAX_VARCHAR) return `varchar(${n})`;
      if (indexed) return flag(`varchar(${INDEXABLE_CHARS})`, 'unbounded text in a key or index: MySQL indexes at most 3072 bytes; longer values fail');
      return 'longtext';
    }
    case 'enum':
      return `enum(${(c.members ?? []).map(sqlString).join(',')})`;
    case 'set':
      return `set(${(c.members ?? []).map(sqlString).join(',')})`;
    case 'uuid':
      return 'char(36)';
    case 'inet':
      return flag('varchar(43)', 'network address stored as text');
    case 'binary':
      return indexed ? flag('varbinary(3072)', 'unbounded binary in a key or index: MySQL indexes at most 3072 bytes') : 'longblob';
    case 'json':
      return 'json';
    case 'date':
      return 'date';
    case 'time':
      if (udt === 'timetz') return flag(`time(${c.precision ?? 6})`, 'time zone offset dropped');
      return `time(${c.precision ?? 0})`;
    case 'datetime':
      return `datetime(${c.precision ?? 0})`;
    case 'timestamptz':
      return flag(`datetime(${c.precision ?? 6})`, 'time zone: values are stored as UTC wall-clock time');
    case 'year':
      return 'year';
    case 'interval':
      return flag('varchar(64)', 'interval stored as its text form');
    case 'array':
      return flag('longtext', 'array stored as its PostgreSQL text form ({a,b})');
    case 'geometry':
      throw unsupportedType(t, c, 'MySQL', 'geometry between engines is not migrated');
    default:
      return flag('longtext', `${c.nativeType} stored as text`);
  }
}

const NUMERIC_FAMILIES = new Set(['int', 'uint', 'decimal', 'float', 'year']);

/** ` DEFAULT ...` for `c` (empty when none or not portable, flagged). */
export function mysqlDefault(t: StructTable, c: StructColumn, like: boolean, plan: PlanBuilder): string {
  const d = c.default;
  if (!d) return c.nullable && !c.autoIncrement && !c.generated ? ' DEFAULT NULL' : '';
  const obj = `${t.db}.${t.tb}.${c.name}`;
  switch (d.kind) {
    case 'literal':
      if (c.family === 'bool') return ` DEFAULT ${/^(t|true|1|y|yes|on)$/i.test(d.value) ? 1 : 0}`;
      if (NUMERIC_FAMILIES.has(c.family) && /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(d.value)) return ` DEFAULT ${d.value}`;
      if (!like && /^(binary|json|geometry|array)$/.test(c.family)) {
        plan.flag(obj, `DEFAULT ${d.value}`, '(no default)', `${c.family} default not carried between engines`);
        return '';
      }
      return ` DEFAULT ${sqlString(d.value)}`;
    case 'current_timestamp': {
      if (c.family !== 'datetime' && c.family !== 'timestamptz') {
        plan.flag(obj, 'DEFAULT CURRENT_TIMESTAMP', '(no default)', 'only DATETIME/TIMESTAMP columns take CURRENT_TIMESTAMP');
        return '';
      }
      const p = like ? d.precision : c.precision;
      return ` DEFAULT ${p ? `current_timestamp(${p})` : 'current_timestamp()'}`;
    }
    default:
      if (like) return ` DEFAULT (${d.text})`;
      plan.flag(obj, `DEFAULT ${d.text}`, '(no default)', 'default expression is engine-specific');
      return '';
  }
}
