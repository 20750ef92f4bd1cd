/**
 * Canonical values -> JSONEachRow text for a ClickHouse target column, chosen by the TARGET type (read from
 * system.columns) and the source family.
 *
 * Invariants: nothing is rounded or clamped -- ClickHouse silently wraps an out-of-range integer, zeroes an
 * out-of-range date and puts a default for NULL in a non-Nullable column, so every value is checked here and a
 * value that does not fit raises {@link FitError} (the writer turns it into IN001 naming table and key).
 * Decimals travel as unquoted JSON numbers spelled with all their digits (ClickHouse parses them exactly on
 * every version; 18.16 rejects quoted decimals). Bytes travel raw: a payload with binary values is built as
 * latin1 text whose code units are the UTF-8 / raw bytes.
 */
import type { TypeFamily, Value } from '../../core/values.ts';
import type { ParsedType } from './sql.ts';

/** A value that cannot be stored in its target column; `reason` says why (no value text: it may be secret). */
export class FitError extends Error {}

/** Encodes one non-null value as a JSON fragment. */
export type Encode = (v: Exclude<Value, null>) => string;

const INT_BOUNDS: Record<string, [bigint, bigint]> = {
  Int8: [-128n, 127n],
  Int16: [-32768n, 32767n],
  Int32: [-2147483648n, 2147483647n],
  Int64: [-(2n ** 63n), 2n ** 63n - 1n],
  Int128: [-(2n ** 127n), 2n ** 127n - 1n],
  Int256: [-(2n ** 255n), 2n ** 255n - 1n],
  UInt8: [0n, 255n],
  UInt16: [0n, 65535n],
  UInt32: [0n, 4294967295n],
  UInt64: [0n, 2n ** 64n - 1n],
  UInt128: [0n, 2n ** 128n - 1n],
  UInt256: [0n, 2n ** 256n - 1n],
};

const DATE_RANGE: Record<string, [string, string]> = {
  Date: ['1970-01-01', '2149-06-06'],
  Date32: ['1900-01-01', '2299-12-31'],
  DateTime: ['1970-01-01 00:00:00', '2106-02-07 06:28:15'],
  DateTime64: ['1900-01-01 00:00:00', '2299-12-31 23:59:59'],
};

const DECIMAL_N: Record<string, number> = { Decimal32: 9, Decimal64: 18, Decimal128: 38, Decimal256: 76 };

/** The base types a writer can fill; anything else is refused when the table is opened. */
export const SUPPORTED_BASES = new Set([
  ...Object.keys(INT_BOUNDS), 'Float32', 'Float64', 'Decimal', ...Object.keys(DECIMAL_N), 'Bool', 'String', 'FixedString',
  'UUID', 'Date', 'Date32', 'DateTime', 'DateTime64', 'Enum8', 'Enum16', 'IPv4', 'IPv6', 'JSON', 'Object',
]);

const toLatin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

/** Characters JSON must escape, plus surrogates (a lone one is escaped by JSON.stringify, never sent raw). */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** A JSON string literal; most text needs no escape, and quoting it directly is cheaper than JSON.stringify. */
export const jsonString = (s: string): string => (NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"');

/** The encoder for one target column. `latin1`: the payload carries raw bytes (see module doc). */
export function encoderFor(t: ParsedType, family: TypeFamily, latin1: boolean): Encode {
  const str = latin1 ? (s: string) => JSON.stringify(toLatin1(s)) : jsonString;
  const text = (v: Exclude<Value, null>): string => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    if (typeof v === 'boolean') return v ? '1' : '0';
    if (Buffer.isBuffer(v)) return v.toString('latin1');
    return JSON.stringify(v);
  };
  const b = t.base;
  if (b in INT_BOUNDS) return intEncoder(b, family);
  if (b === 'Float32' || b === 'Float64') return floatEncoder(b === 'Float32');
  if (b === 'Decimal' || b in DECIMAL_N) {
    const p = b === 'Decimal' ? Number(t.args[0] ?? 10) : DECIMAL_N[b];
    const s = Number(b === 'Decimal' ? t.args[1] ?? 0 : t.args[0] ?? 0);
    return decimalEncoder(p, s);
  }
  if (b === 'Bool') return (v) => (truthy(v) ? 'true' : 'false');
  if (b === 'Date' || b === 'Date32') return dateEncoder(DATE_RANGE[b]);
  if (b === 'DateTime' || b === 'DateTime64') {
    const p = b === 'DateTime' ? 0 : Number(t.args[0] ?? 3);
    return dateTimeEncoder(DATE_RANGE[b], p);
  }
  if (b === 'String' || b === 'FixedString') {
    const max = b === 'FixedString' ? Number(t.args[0]) : Infinity;
    return (v) => {
      if (Buffer.isBuffer(v)) {
        if (v.length > max) throw new FitError(`${v.length} bytes do not fit ${t.inner}`);
        if (!latin1) throw new FitError('binary value in a text payload (internal: table not opened for bytes)');
        return JSON.stringify(v.toString('latin1'));
      }
      const s = text(v);
      if (max !== Infinity && Buffer.byteLength(s) > max) throw new FitError(`${Buffer.byteLength(s)} bytes do not fit ${t.inner}`);
      return str(s);
    };
  }
  if (b === 'UUID') {
    return (v) => {
      const s = text(v);
      if (!/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s)) throw new FitError('not a UUID');
      return JSON.stringify(s);
    };
  }
  // Enum8/16, IPv4/6, JSON: the server validates the text (it refuses an unknown enum member or a bad address).
  return (v) => str(text(v));
}

function truthy(v: Exclude<Value, null>): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return v !== 0 && v !== 0n;
  const s = String(v).toLowerCase();
  if (s === 't' || s === 'true' || s === '1' || /^1+$/.test(s)) return true;
  if (s === 'f' || s === 'false' || s === '0' || /^0+$/.test(s)) return false;
  throw new FitError('not a boolean');
}

function intEncoder(base: string, family: TypeFamily): Encode {
  const [lo, hi] = INT_BOUNDS[base];
  const loN = Number(lo);
  const hiN = Number(hi);
  return (v) => {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= loN && v <= hiN) return String(v);
    let n: bigint;
    if (typeof v === 'bigint') n = v;
    else if (typeof v === 'boolean') n = v ? 1n : 0n;
    else if (family === 'bit' && typeof v === 'string' && /^[01]*$/.test(v)) n = v ? BigInt('0b' + v) : 0n;
    else if ((typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v))) n = BigInt(v);
    else throw new FitError(`not an integer for ${base}`);
    if (n < lo || n > hi) throw new FitError(`out of range for ${base}`);
    return n.toString();
  };
}

function floatEncoder(f32: boolean): Encode {
  return (v) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' || typeof v === 'bigint' ? Number(v) : NaN;
    if (Number.isNaN(n)) {
      if (typeof v === 'number' || /^nan$/i.test(String(v))) return 'nan';
      throw new FitError('not a number');
    }
    if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
    if (f32 && Math.abs(n) > 3.4028234663852886e38) throw new FitError('out of range for Float32');
    return String(n);
  };
}

function decimalEncoder(p: number, s: number): Encode {
  return (v) => {
    const raw = typeof v === 'string' ? v.trim() : typeof v === 'number' || typeof v === 'bigint' ? String(v) : '';
    const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(raw);
    if (!m || (!m[2] && !m[3])) throw new FitError(`not a decimal for Decimal(${p}, ${s})`);
    const int = m[2].replace(/^0+/, '');
    const frac = (m[3] ?? '').replace(/0+$/, '');
    if (frac.length > s) throw new FitError(`more than ${s} fractional digits for Decimal(${p}, ${s})`);
    if (int.length > p - s) throw new FitError(`more than ${p - s} integer digits for Decimal(${p}, ${s})`);
    return `${m[1]}${int || '0'}${frac ? '.' + frac : ''}`;
  };
}

function dateEncoder([lo, hi]: [string, string]): Encode {
  return (v) => {
    const d = typeof v === 'string' ? v : '';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) throw new FitError('not a date');
    if (d < lo || d > hi) throw new FitError(`outside ${lo}..${hi}`);
    return `"${d}"`;
  };
}

const TS = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

function dateTimeEncoder([lo, hi]: [string, string], precision: number): Encode {
  return (v) => {
    const m = typeof v === 'string' ? TS.exec(v.trim()) : null;
    if (!m) throw new FitError('not a date-time');
    let day = m[1];
    let clock = m[2];
    if (m[4]) [day, clock] = toUtc(day, clock, m[4]);
    const wall = `${day} ${clock}`;
    if (wall < lo || wall > hi) throw new FitError(`outside ${lo}..${hi}`);
    const frac = (m[3] ?? '').replace(/0+$/, '');
    if (precision === 0) return `"${wall}"`;
    if (frac.length > precision) throw new FitError(`more than ${precision} fractional second digits`);
    return `"${wall}.${frac.padEnd(precision, '0')}"`;
  };
}

/** Wall clock with a zone offset -> UTC wall clock (fraction untouched). */
function toUtc(day: string, clock: string, zone: string): [string, string] {
  if (zone === 'Z' || /^[+-]00(:?00)?$/.test(zone)) return [day, clock];
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0));
  const [y, mo, d] = day.split('-').map(Number);
  const [h, mi, s] = clock.split(':').map(Number);
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi - offsetMin, s, 0);
  const iso = t.toISOString();
  return [iso.slice(0, 10), iso.slice(11, 19)];
}
