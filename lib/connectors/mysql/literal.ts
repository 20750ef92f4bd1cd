/**
 * Canonical values IN: any source family -> a MySQL literal, chosen by the TARGET column's type.
 * The server then converts under a strict sql_mode, so whatever does not fit errors (IN001) instead of
 * being silently truncated.
 *
 * Invariant: a value read from MySQL by this connector produces a literal that stores the identical value
 * back into a column of the same type (the MySQL -> MySQL round trip is exact).
 */
import type { ColumnMeta } from '../../core/table.ts';
import type { TypeFamily, Value } from '../../core/values.ts';
import { bitLiteral, doubleLiteral, hexLiteral, isFloat32, NUMERIC_TEXT, sqlString } from './sql.ts';

/** A value this target column can never hold; the writer turns it into IN001 with the row's key. */
export class ValueError extends Error {
  constructor(
    readonly column: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const NUMERIC_TARGETS = new Set<TypeFamily>(['int', 'uint', 'decimal', 'float', 'bit', 'year']);
const BIT_TARGETS = new Set<TypeFamily>(['bit', 'int', 'uint', 'decimal', 'binary']);

/** Literal for `v` (source family `from`) into target column `to`. */
export function literalFor(to: ColumnMeta, from: TypeFamily, v: Value): string {
  if (v === null || v === undefined) return 'NULL';
  switch (typeof v) {
    case 'string':
      return stringLiteral(to, from, v);
    case 'number':
      return numberLiteral(to, v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      if (to.family === 'bit') return v ? "b'1'" : "b'0'";
      if (to.family === 'json') return v ? "'true'" : "'false'";
      return v ? '1' : '0';
    default:
      break;
  }
  if (Buffer.isBuffer(v)) return to.family === 'geometry' ? geometryLiteral(v) : hexLiteral(v);
  // Arrays/objects (a driver's decoded JSON or array): stored as their JSON text.
  return sqlString(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : Buffer.isBuffer(x) ? x.toString('hex') : x)));
}

function numberLiteral(to: ColumnMeta, n: number): string {
  if (!Number.isFinite(n)) {
    if (to.family === 'string' || to.family === 'other') return sqlString(String(n));
    throw new ValueError(to.name, `${n} cannot be stored (MySQL has no NaN/Infinity)`);
  }
  if (to.family === 'float') {
    // A FLOAT column gets the float32 the server would store, written exactly: the shortest decimal of
    // FLT_MAX (3.4028235e38) is above FLT_MAX as a double and would be refused as out of range.
    const f = isFloat32(to) ? Math.fround(n) : n;
    return doubleLiteral(Number.isFinite(f) ? f : n);
  }
  if (to.family === 'json') return sqlString(String(n));
  // Integers and short decimals print exactly; DECIMAL targets then get the exact decimal text.
  return Object.is(n, -0) ? '0' : String(n);
}

function stringLiteral(to: ColumnMeta, from: TypeFamily, s: string): string {
  switch (to.family) {
    case 'datetime':
      if (from === 'timestamptz') return sqlString(toUtcDatetime(to.name, s));
      return sqlString(s);
    case 'geometry': {
      // WKT or PostgreSQL EWKT text ('SRID=4326;POINT(1 2)').
      const m = /^SRID=(\d+);(.*)$/is.exec(s);
      return m ? `ST_GeomFromText(${sqlString(m[2])}, ${m[1]})` : `ST_GeomFromText(${sqlString(s)})`;
    }
    default:
      break;
  }
  if (from === 'bit' && BIT_TARGETS.has(to.family) && /^[01]+$/.test(s)) return bitLiteral(s);
  if (NUMERIC_TARGETS.has(to.family)) {
    if (/^[+-]?(nan|inf(inity)?)$/i.test(s)) throw new ValueError(to.name, `${s} cannot be stored (MySQL has no NaN/Infinity)`);
    // Exact digits go in unquoted: DECIMAL(65,30) and BIGINT UNSIGNED text converts without a double step.
    if (NUMERIC_TEXT.test(s) && to.family !== 'bit') return to.family === 'float' && !/[eE]/.test(s) ? `${s}e0` : s;
  }
  return sqlString(s);
}

const TSTZ = /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?\s*(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)$/i;

/**
 * '2024-01-02 03:04:05.123456+05:30' -> '2024-01-01 21:34:05.123456' (UTC wall clock, the session zone).
 * Fractional digits are carried as text, never through a float.
 */
export function toUtcDatetime(columnName: string, s: string): string {
  const m = TSTZ.exec(s.trim());
  if (!m) throw new ValueError(columnName, `'${s}' is not a timestamp with time zone MySQL can store`);
  const [, y, mo, d, h, mi, se, frac = '', tz] = m;
  let offset = 0;
  if (tz.toUpperCase() !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(/:/g, '');
    offset = sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || 0) * 60 + Number(digits.slice(4, 6) || 0));
  }
  const t = new Date(0);
  t.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  t.setUTCHours(Number(h), Number(mi), Number(se) - offset, 0);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(t.getUTCFullYear(), 4)}-${p(t.getUTCMonth() + 1)}-${p(t.getUTCDate())} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())}${frac}`;
}

/**
 * A geometry from bytes. MySQL's own format (4-byte SRID + WKB) is stored as is; plain WKB (what other
 * engines send) goes through ST_GeomFromWKB. Told apart by walking the WKB structure: only one reading
 * consumes the buffer exactly.
 */
export function geometryLiteral(b: Buffer): string {
  if (b.length >= 4 && wkbLength(b, 4) === b.length - 4) return hexLiteral(b);
  if (wkbLength(b, 0) === b.length) return `ST_GeomFromWKB(${hexLiteral(b)})`;
  return hexLiteral(b);
}

/** Bytes one WKB geometry at `o` spans, or -1 when it is not well-formed WKB. */
export function wkbLength(b: Buffer, o: number): number {
  if (o + 5 > b.length) return -1;
  const le = b[o] === 1;
  if (b[o] > 1) return -1;
  const u32 = (at: number) => (at + 4 > b.length ? -1 : le ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const type = u32(o + 1);
  let p = o + 5;
  const points = (n: number) => (n < 0 || p + n * 16 > b.length ? -1 : (p += n * 16));
  switch (type) {
    case 1:
      return points(1) < 0 ? -1 : p - o;
    case 2: {
      const n = u32(p);
      p += 4;
      return points(n) < 0 ? -1 : p - o;
    }
    case 3: {
      const rings = u32(p);
      p += 4;
      for (let i = 0; i < rings && rings >= 0; i++) {
        const n = u32(p);
        p += 4;
        if (points(n) < 0) return -1;
      }
      return rings < 0 ? -1 : p - o;
    }
    case 4:
    case 5:
    case 6:
    case 7: {
      const n = u32(p);
      p += 4;
      for (let i = 0; i < n; i++) {
        const len = wkbLength(b, p);
        if (len < 0) return -1;
        p += len;
      }
      return n < 0 ? -1 : p - o;
    }
    default:
      return -1;
  }
}
