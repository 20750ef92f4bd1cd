import type { ColumnMeta } from '../../core/table.ts';
import type { TypeFamily, Value } from '../../core/values.ts';
import { targetKind, type PgColumn, type TargetKind } from './type-map.ts';

/**
 * Canonical -> PostgreSQL input text, decided by the TARGET column type (and the source family where the
 * same JS value means different things). One text form serves bind parameters, COPY rows and literals.
 *
 * Invariant: never rounds or reinterprets silently. What PostgreSQL cannot store (zero dates, NUL in text)
 * raises {@link ConversionError}; the writer turns it into IN001 naming table, column and key.
 */
export class ConversionError extends Error {}

export type Encoder = (v: Value | undefined) => string | null;

type TargetCol = Pick<PgColumn, 'baseType' | 'isArray'> & { length?: number };

/** The minimal target description for a column known only by its ColumnMeta (a source key column). */
export const asTargetCol = (c: ColumnMeta): TargetCol => ({
  baseType: c.udtName ?? '',
  isArray: c.family === 'array',
  length: c.length,
});

const numText = (n: number): string => (Object.is(n, -0) ? '-0' : String(n));
const jsonText = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : Buffer.isBuffer(x) ? x.toString('base64') : x));

function noNul(s: string): string {
  if (s.indexOf('\0') !== -1) throw new ConversionError('text contains a NUL (\\0) character, which PostgreSQL text cannot store');
  return s;
}

const ZERO_DATE = /^(?:0000-\d\d-\d\d|\d{4}-00-\d\d|\d{4}-\d\d-00)/;
function noZeroDate(s: string): string {
  if (ZERO_DATE.test(s)) throw new ConversionError(`zero date "${s}" cannot be stored in PostgreSQL (only in a text column)`);
  return s;
}

const ZONE = /\d\d:\d\d:\d\d(?:\.\d+)?(Z|[+-]\d\d(?::?\d\d(?::?\d\d)?)?)$/;
const TS = /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d(?::?\d\d(?::?\d\d)?)?)$/;

/** '2024-01-02 03:04:05.5+02' -> '2024-01-02 01:04:05.5': a zoned instant as UTC wall time (timestamp targets). */
export function toUtcWall(s: string): string {
  const m = TS.exec(s);
  if (!m) return s; // infinity, BC, date-only: PostgreSQL parses these itself
  const [, y, mo, d, h, mi, sec, frac = '', zone] = m;
  let off = 0;
  if (zone !== 'Z') {
    const z = zone.replace(/:/g, '');
    const sign = z[0] === '-' ? -1 : 1;
    off = sign * (Number(z.slice(1, 3)) * 3600 + Number(z.slice(3, 5) || 0) * 60 + Number(z.slice(5, 7) || 0));
  }
  const t = new Date(0);
  t.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  t.setUTCHours(Number(h), Number(mi), Number(sec) - off, 0);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(t.getUTCFullYear(), 4)}-${p(t.getUTCMonth() + 1)}-${p(t.getUTCDate())} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())}${frac}`;
}

/** Appends '+00' to a zoneless timestamp so a timestamptz target reads it as UTC whatever the session says. */
function withUtcZone(s: string): string {
  if (ZONE.test(s) || !/\d:\d\d/.test(s)) return s;
  return s.endsWith(' BC') ? `${s.slice(0, -3)}+00 BC` : `${s}+00`;
}

/** PostgreSQL array literal from a JS array (elements quoted, NULL unquoted). */
export function arrayLiteral(a: Value[]): string {
  const el = (x: Value): string => {
    if (x === null || x === undefined) return 'NULL';
    if (Array.isArray(x)) return arrayLiteral(x);
    const s =
      typeof x === 'string' ? x
      : typeof x === 'number' ? numText(x)
      : typeof x === 'boolean' ? (x ? 't' : 'f')
      : Buffer.isBuffer(x) ? `\\x${x.toString('hex')}`
      : typeof x === 'bigint' ? x.toString()
      : jsonText(x);
    return `"${noNul(s).replace(/[\\"]/g, '\\$&')}"`;
  };
  return `{${a.map(el).join(',')}}`;
}

/** MySQL SET text 'a,b' -> '{"a","b"}' for array targets. */
const setToArray = (s: string): string => (s === '' ? '{}' : arrayLiteral(s.split(',')));

const bitsOfBuffer = (b: Buffer): string => Array.from(b, (x) => x.toString(2).padStart(8, '0')).join('');

/**
 * Bits for a bit(n) / varbit(n) target: bit(n) is left-padded with zeros (MySQL BIT(3) b'101' is the same
 * number as bit(10) '0000000101'); surplus leading zeros are dropped (MySQL pads BIT to whole bytes), but a
 * set bit is never dropped -- PostgreSQL then refuses the value (IN001) instead of ferry losing it.
 */
function fitBits(bits: string, col: TargetCol): string {
  const width = col.length;
  if (!width) return bits;
  if (bits.length > width) {
    const extra = bits.slice(0, bits.length - width);
    return /1/.test(extra) ? bits : bits.slice(bits.length - width);
  }
  return col.baseType === 'bit' ? bits.padStart(width, '0') : bits;
}

const isGeomType = (t: number): boolean => {
  const base = (t & 0x0fffffff) % 1000;
  return base >= 1 && base <= 7 && (t & 0x0fffffff) < 4000;
};
const wkbType = (b: Buffer, at: number): number => (b[at] === 1 ? b.readUInt32LE(at + 1) : b.readUInt32BE(at + 1));

/**
 * MySQL's internal geometry (4-byte little-endian SRID + WKB) -> hex EWKB, which PostGIS geometry input
 * accepts in COPY and parameters alike (same result as ST_GeomFromWKB(wkb, srid)). Plain WKB passes as is.
 */
export function mysqlGeometryToEwkbHex(b: Buffer): string {
  const mysql = b.length >= 9 && (b[4] === 0 || b[4] === 1) && isGeomType(wkbType(b, 4));
  if (!mysql) return b.toString('hex');
  const srid = b.readUInt32LE(0);
  const wkb = b.subarray(4);
  if (srid === 0) return wkb.toString('hex');
  const le = wkb[0] === 1;
  const out = Buffer.alloc(wkb.length + 4);
  out[0] = wkb[0];
  const type = (wkbType(wkb, 0) | 0x20000000) >>> 0;
  if (le) {
    out.writeUInt32LE(type, 1);
    out.writeUInt32LE(srid, 5);
  } else {
    out.writeUInt32BE(type, 1);
    out.writeUInt32BE(srid, 5);
  }
  wkb.copy(out, 9, 5);
  return out.toString('hex');
}

const uuidOf = (b: Buffer): string => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** Everything that is not a string, as text for a target of `kind`. */
function nonString(v: Exclude<Value, string | null>, kind: TargetKind, col: TargetCol, family: TypeFamily): string {
  if (typeof v === 'number') {
    if (kind === 'bool') return v !== 0 ? 't' : 'f';
    if (kind === 'bit') return fitBits(Math.trunc(v).toString(2), col);
    return numText(v);
  }
  if (typeof v === 'bigint') {
    if (kind === 'bool') return v !== 0n ? 't' : 'f';
    if (kind === 'bit') return fitBits(v.toString(2), col);
    return v.toString();
  }
  if (typeof v === 'boolean') {
    if (kind === 'bool') return v ? 't' : 'f';
    if (kind === 'int' || kind === 'numeric' || kind === 'float' || kind === 'bit') return v ? '1' : '0';
    return v ? 'true' : 'false';
  }
  if (Buffer.isBuffer(v)) {
    switch (kind) {
      case 'bytea':
        return `\\x${v.toString('hex')}`;
      case 'geometry':
        return mysqlGeometryToEwkbHex(v);
      case 'uuid':
        return v.length === 16 ? uuidOf(v) : noNul(v.toString('utf8'));
      case 'bit':
        return fitBits(bitsOfBuffer(v), col);
      case 'bool':
        return v.some((x) => x !== 0) ? 't' : 'f';
      case 'int':
      case 'numeric':
        return family === 'bit' || family === 'binary' ? BigInt(`0x${v.toString('hex') || '0'}`).toString() : noNul(v.toString('utf8'));
      default:
        return noNul(v.toString('utf8'));
    }
  }
  if (Array.isArray(v)) return kind === 'array' ? arrayLiteral(v) : noNul(jsonText(v));
  return noNul(jsonText(v));
}

function fromString(s: string, kind: TargetKind, col: TargetCol, family: TypeFamily): string {
  switch (kind) {
    case 'bytea':
      return `\\x${Buffer.from(s, 'utf8').toString('hex')}`;
    case 'date':
      return noZeroDate(noNul(s));
    case 'timestamp':
      noZeroDate(noNul(s));
      return family === 'timestamptz' || ZONE.test(s) ? toUtcWall(s) : s;
    case 'timestamptz':
      return withUtcZone(noZeroDate(noNul(s)));
    case 'bool':
      return family === 'bit' ? (/1/.test(s) ? 't' : 'f') : noNul(s);
    case 'int':
    case 'numeric':
      return family === 'bit' ? BigInt(`0b${s || '0'}`).toString() : noNul(s);
    case 'bit':
      return family === 'bit' ? fitBits(s, col) : noNul(s);
    case 'array':
      return family === 'set' ? setToArray(noNul(s)) : noNul(s);
    default:
      return noNul(s);
  }
}

/** The encoder for one (target column, source family) pair; built once per writer, applied per value. */
export function encoderFor(col: TargetCol, family: TypeFamily): Encoder {
  const kind = targetKind(col);
  return (v) => {
    if (v === null || v === undefined) return null;
    if (typeof v === 'string') return fromString(v, kind, col, family);
    return nonString(v, kind, col, family);
  };
}
