/**
 * MySQL/MariaDB native types -> {@link TypeFamily}, and the codecs that turn what the driver reads into
 * canonical values (lib/core/values.ts). Values going the other way live in literal.ts.
 */
import type { ColumnMeta } from '../../core/table.ts';
import type { Row, TypeFamily, Value } from '../../core/values.ts';

const FAMILY_BY_DATA_TYPE: Record<string, TypeFamily> = {
  tinyint: 'int',
  smallint: 'int',
  mediumint: 'int',
  int: 'int',
  integer: 'int',
  bigint: 'int',
  decimal: 'decimal',
  numeric: 'decimal',
  float: 'float',
  double: 'float',
  real: 'float',
  'double precision': 'float',
  bit: 'bit',
  char: 'string',
  varchar: 'string',
  tinytext: 'string',
  text: 'string',
  mediumtext: 'string',
  longtext: 'string',
  enum: 'enum',
  set: 'set',
  binary: 'binary',
  varbinary: 'binary',
  tinyblob: 'binary',
  blob: 'binary',
  mediumblob: 'binary',
  longblob: 'binary',
  json: 'json',
  date: 'date',
  time: 'time',
  datetime: 'datetime',
  // TIMESTAMP is read in the session time zone, which ferry pins to UTC: the text is a UTC wall clock.
  timestamp: 'datetime',
  year: 'year',
  geometry: 'geometry',
  point: 'geometry',
  linestring: 'geometry',
  polygon: 'geometry',
  multipoint: 'geometry',
  multilinestring: 'geometry',
  multipolygon: 'geometry',
  geometrycollection: 'geometry',
  geomcollection: 'geometry',
  // MariaDB 10.7+ / 10.10+ native types; the driver reads them as text.
  uuid: 'uuid',
  inet4: 'inet',
  inet6: 'inet',
};

/**
 * The family of a column from information_schema.COLUMNS DATA_TYPE and COLUMN_TYPE.
 * tinyint(1)/BOOLEAN stays 'int' (MySQL has no boolean; 2 and -1 are legal values).
 */
export function familyOf(dataType: string, columnType: string): TypeFamily {
  const f = FAMILY_BY_DATA_TYPE[dataType.toLowerCase()] ?? 'other';
  if (f === 'int' && /\bunsigned\b/i.test(columnType)) return 'uint';
  return f;
}

/** Members of `enum('a','b''c')` / `set(...)` from COLUMN_TYPE, unescaped, in declaration order. */
export function parseMembers(columnType: string): string[] {
  const open = columnType.indexOf('(');
  const out: string[] = [];
  let i = open + 1;
  while (i > 0 && i < columnType.length) {
    if (columnType[i] !== "'") {
      i++;
      continue;
    }
    let s = '';
    i++;
    for (; i < columnType.length; i++) {
      const c = columnType[i];
      if (c === "'" && columnType[i + 1] === "'") {
        s += "'";
        i++;
      } else if (c === '\\' && i + 1 < columnType.length) {
        s += columnType[++i];
      } else if (c === "'") break;
      else s += c;
    }
    out.push(s);
    i++;
  }
  return out;
}

/** One information_schema.COLUMNS row, as metadata.ts and the sinker select it. */
export interface ColumnRow {
  name: string;
  dataType: string;
  columnType: string;
  nullable: string;
  charLength: number | bigint | null;
  numPrecision: number | bigint | null;
  numScale: number | bigint | null;
  fsp: number | bigint | null;
  /** MariaDB: the column carries CHECK (json_valid(col)), i.e. it was declared JSON. */
  isJson?: boolean;
}

const num = (v: number | bigint | null | undefined): number | undefined => (v === null || v === undefined ? undefined : Number(v));

/**
 * ColumnMeta from information_schema. `length`: characters (strings), bytes (binary), bits (BIT);
 * `precision`/`scale`: numeric precision and scale; for date/time types `precision` is the fsp.
 */
export function columnMetaOf(r: ColumnRow): ColumnMeta {
  let family = familyOf(r.dataType, r.columnType);
  if (r.isJson && family === 'string') family = 'json';
  const meta: ColumnMeta = { name: r.name, nativeType: r.columnType, family, nullable: r.nullable === 'YES' };
  if (family === 'bit') meta.length = num(r.numPrecision);
  else if (family === 'string' || family === 'binary') meta.length = num(r.charLength);
  if (family === 'int' || family === 'uint' || family === 'decimal' || family === 'float') {
    meta.precision = num(r.numPrecision);
    meta.scale = num(r.numScale);
  }
  if (family === 'float' && /^float\b/i.test(r.columnType)) meta.precision = 24;
  if (family === 'time' || family === 'datetime') meta.precision = num(r.fsp) ?? 0;
  if (family === 'enum' || family === 'set') meta.members = parseMembers(r.columnType);
  return meta;
}

// ---- values out ----------------------------------------------------------------------------------------

interface CastField {
  type: string;
  length: number;
  string(encoding?: string): string | null;
  buffer(): Buffer | null;
}

/** Integer text -> number when safe, else bigint (so BIGINT UNSIGNED max stays exact). */
export function intValue(s: string): number | bigint {
  if (s.length < 16) return Number(s);
  const b = BigInt(s);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

/** '0'/'1' digits of a BIT value, most significant first, exactly `width` long. */
export function bitString(b: Buffer, width: number): string {
  let s = '';
  for (const byte of b) s += byte.toString(2).padStart(8, '0');
  return width > 0 ? s.slice(-width).padStart(width, '0') : s;
}

/**
 * mysql2 typeCast for every connection. With `dateStrings`, `jsonStrings`, `bigNumberStrings` and
 * `decimalNumbers: false` the driver already returns exact text for DECIMAL/date/time/JSON; this adds:
 * BIGINT as number-or-bigint, BIT as a '0'/'1' string of the column width, GEOMETRY as the raw internal
 * bytes (SRID + WKB) instead of the driver's {x, y} objects.
 */
export function typeCast(field: CastField, next: () => unknown): unknown {
  switch (field.type) {
    case 'LONGLONG': {
      const s = field.string('ascii');
      return s === null ? null : intValue(s);
    }
    case 'BIT': {
      const b = field.buffer();
      return b === null ? null : bitString(b, field.length);
    }
    case 'GEOMETRY':
      return field.buffer();
    default:
      return next();
  }
}

/**
 * The shortest decimal that reads back as the same float32. FLOAT columns are selected as
 * CAST(col AS DOUBLE) because the server prints FLOAT with only 6 significant digits (123456792 prints
 * as 123457000, which would not round-trip); this turns the exact widened value back into the short form
 * a human (and PostgreSQL `real`) would print.
 */
export function float32Value(d: number): number {
  if (!Number.isFinite(d) || d === 0) return d;
  for (let p = 1; p <= 9; p++) {
    const n = Number(d.toPrecision(p));
    if (Math.fround(n) === d) return n;
  }
  return d;
}

/** Whether a column must be selected through CAST(... AS DOUBLE) (see {@link float32Value}). */
export const readsAsDouble = (c: ColumnMeta): boolean => c.family === 'float' && /^float\b/i.test(c.nativeType);

/** Builds canonical rows from `rowsAsArray` results for the given columns. */
export function rowDecoder(cols: ColumnMeta[]): (arr: unknown[]) => Row {
  const floats = cols.map(readsAsDouble);
  const names = cols.map((c) => c.name);
  return (arr) => {
    const row: Row = {};
    for (let i = 0; i < names.length; i++) {
      const v = arr[i] as Value;
      row[names[i]] = floats[i] && typeof v === 'number' ? float32Value(v) : v;
    }
    return row;
  };
}
