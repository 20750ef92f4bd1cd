import type { ColumnMeta } from '../../core/table.ts';
import type { TypeFamily, Value } from '../../core/values.ts';

/**
 * A column as the PostgreSQL catalog describes it. `baseType` is the pg_type name after unwrapping a domain
 * (for arrays: of the element), which is what both codecs decide by.
 */
export interface PgColumn extends ColumnMeta {
  attnum: number;
  baseType: string;
  /** The pg_type oid of `baseType`: tells a built-in type (fixed oid) from a same-named one of another schema. */
  baseOid: number;
  isArray: boolean;
  typmod: number;
  /** Generated (STORED) columns can be read but never written. */
  generated: boolean;
}

/** How the sinker shapes a value for a target column: the target type decides, not the JS type. */
export type TargetKind =
  | 'bool'
  | 'int'
  | 'numeric'
  | 'float'
  | 'bit'
  | 'bytea'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'time'
  | 'timetz'
  | 'interval'
  | 'json'
  | 'uuid'
  | 'geometry'
  | 'array'
  | 'text';

const KIND: Record<string, TargetKind> = {
  bool: 'bool',
  int2: 'int',
  int4: 'int',
  int8: 'int',
  oid: 'int',
  numeric: 'numeric',
  float4: 'float',
  float8: 'float',
  bit: 'bit',
  varbit: 'bit',
  bytea: 'bytea',
  date: 'date',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  time: 'time',
  timetz: 'timetz',
  interval: 'interval',
  json: 'json',
  jsonb: 'json',
  uuid: 'uuid',
  geometry: 'geometry',
  geography: 'geometry',
};

export const targetKind = (c: Pick<PgColumn, 'baseType' | 'isArray'>): TargetKind => (c.isArray ? 'array' : (KIND[c.baseType] ?? 'text'));

const FAMILY: Record<string, TypeFamily> = {
  int2: 'int',
  int4: 'int',
  int8: 'int',
  oid: 'int',
  numeric: 'decimal',
  float4: 'float',
  float8: 'float',
  bool: 'bool',
  bit: 'bit',
  varbit: 'bit',
  bpchar: 'string',
  varchar: 'string',
  text: 'string',
  name: 'string',
  char: 'string',
  citext: 'string',
  bytea: 'binary',
  json: 'json',
  jsonb: 'json',
  date: 'date',
  time: 'time',
  timetz: 'time',
  timestamp: 'datetime',
  timestamptz: 'timestamptz',
  interval: 'interval',
  uuid: 'uuid',
  inet: 'inet',
  cidr: 'inet',
  macaddr: 'inet',
  macaddr8: 'inet',
  geometry: 'geometry',
  geography: 'geometry',
};

/** The engine-independent family of a PostgreSQL type (`typtype` 'e' = enum). hstore, ltree, xml... are 'other'. */
export function familyOf(baseType: string, baseTyptype: string, isArray: boolean): TypeFamily {
  if (isArray) return 'array';
  if (baseTyptype === 'e') return 'enum';
  return FAMILY[baseType] ?? 'other';
}

/**
 * Decodes typmod into ColumnMeta length / precision / scale. Date-time precision defaults to 6 (what the
 * type stores without a typmod), so decoders can pad fractions to the column's digits.
 */
export function typmodInfo(baseType: string, typmod: number): Pick<ColumnMeta, 'length' | 'precision' | 'scale'> {
  switch (baseType) {
    case 'bpchar':
    case 'varchar':
      return typmod >= 4 ? { length: typmod - 4 } : {};
    case 'numeric':
      return typmod >= 4 ? { precision: ((typmod - 4) >> 16) & 0xffff, scale: (typmod - 4) & 0xffff } : {};
    case 'bit':
    case 'varbit':
      return typmod > 0 ? { length: typmod } : {};
    case 'timestamp':
    case 'timestamptz':
    case 'time':
    case 'timetz':
      return { precision: typmod >= 0 ? typmod : 6 };
    case 'int2':
      return { precision: 16 };
    case 'int4':
      return { precision: 32 };
    case 'int8':
      return { precision: 64 };
    default:
      return {};
  }
}

// ---------------------------------------------------------------------------------------------------------
// Text -> canonical (source side). Input is exactly what the server printed (row protocol or COPY text).

export type Decoder = (raw: string | Buffer) => Value;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** int8 text -> number when safe, bigint beyond (never rounded). */
export function decodeInt8(s: string): number | bigint {
  if (s.length < 16) return Number(s);
  const n = BigInt(s);
  return n >= MIN_SAFE && n <= MAX_SAFE ? Number(n) : n;
}

/**
 * Pads the fractional seconds of a time / timestamp[tz] text to `digits` (PostgreSQL trims trailing zeros;
 * the canonical form carries the column's full precision). 'infinity', BC suffixes and offsets are kept.
 */
export function padFraction(s: string, digits: number): string {
  if (digits <= 0) return s;
  const colon = s.indexOf(':');
  if (colon < 0) return s;
  const secEnd = colon + 6;
  if (secEnd > s.length) return s;
  if (s.charCodeAt(secEnd) === 46 /* . */) {
    let j = secEnd + 1;
    while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    const have = j - secEnd - 1;
    return have >= digits ? s : s.slice(0, j) + '0'.repeat(digits - have) + s.slice(j);
  }
  return `${s.slice(0, secEnd)}.${'0'.repeat(digits)}${s.slice(secEnd)}`;
}

const trimBlanks = (s: string): string => {
  let e = s.length;
  while (e > 0 && s.charCodeAt(e - 1) === 32) e--;
  return e === s.length ? s : s.slice(0, e);
};

const hexToBuffer = (raw: string | Buffer): Buffer => (Buffer.isBuffer(raw) ? raw : Buffer.from(raw.slice(2), 'hex'));
const asText = (raw: string | Buffer): string => (typeof raw === 'string' ? raw : raw.toString('utf8'));

/** The decoder for one source column, chosen once per read (not per value). */
export function decoderFor(col: ColumnMeta): Decoder {
  const base = col.udtName ?? '';
  switch (col.family) {
    case 'int':
      return base === 'int8' || /^bigint/.test(col.nativeType) ? (r) => decodeInt8(asText(r)) : (r) => Number(asText(r));
    case 'float':
      return (r) => Number(asText(r)); // 'NaN', 'Infinity', '-Infinity', '-0' all parse exactly
    case 'bool':
      return (r) => asText(r) === 't';
    case 'binary':
      return hexToBuffer;
    case 'datetime':
    case 'timestamptz':
    case 'time': {
      const digits = col.precision ?? 6;
      return (r) => padFraction(asText(r), digits);
    }
    case 'string':
      // char(n) pads with blanks that PostgreSQL itself treats as insignificant (char -> text drops them, as
      // MySQL does on read); the canonical value is the unpadded text, and writing it back pads again.
      return base === 'bpchar' ? (r) => trimBlanks(asText(r)) : asText;
    default:
      return asText; // decimal, bit, strings, json, date, interval, uuid, inet, enum, array, geometry (hex EWKB), other
  }
}
