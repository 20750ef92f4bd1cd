/**
 * Canonical values -> JSONEachRow text for a ClickHouse target column, chosen by the TARGET type (read from
 * system.columns) and the source family.
 *
 * Invariants: nothing is rounded or clamped -- ClickHouse silently wraps an out-of-range integer, zeroes an
 * out-of-range date and puts a default for NULL in a non-Nullable column, so every value is checked (fit.ts, the
 * checks RowBinary shares) and a value that does not fit raises {@link FitError} (the writer turns it into IN001
 * naming table and key).
 * Decimals travel as unquoted JSON numbers spelled with all their digits (ClickHouse parses them exactly on
 * every version; 18.16 rejects quoted decimals). Bytes travel raw: a payload with binary values is built as
 * latin1 text whose code units are the UTF-8 / raw bytes.
 */
import type { TypeFamily, Value } from '../../core/values.ts';
import {
  DECIMAL_N, FitError, asText, INT_BOUNDS, dateTimePrecision, decimalSpec, intSpec, readDateTime, readDecimal, toDays, toFloat, toInteger,
  truthy, uuidText, wallText,
} from './fit.ts';
import type { ParsedType } from './sql.ts';

export { FitError } from './fit.ts';

/** Encodes one non-null value as a JSON fragment. */
export type Encode = (v: Exclude<Value, null>) => string;

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
  const b = t.base;
  if (b in INT_BOUNDS) return intEncoder(b, family);
  if (b === 'Float32' || b === 'Float64') return floatEncoder(b === 'Float32');
  if (b === 'Decimal' || b in DECIMAL_N) return decimalEncoder(...decimalSpec(t));
  if (b === 'Bool') return (v) => (truthy(v) ? 'true' : 'false');
  if (b === 'Date' || b === 'Date32') {
    return (v) => {
      toDays(v, b);
      return `"${v as string}"`;
    };
  }
  if (b === 'DateTime' || b === 'DateTime64') return dateTimeEncoder(b, dateTimePrecision(t));
  if (b === 'String' || b === 'FixedString') {
    const max = b === 'FixedString' ? Number(t.args[0]) : Infinity;
    return (v) => {
      if (Buffer.isBuffer(v)) {
        if (v.length > max) throw new FitError(`${v.length} bytes do not fit ${t.inner}`);
        if (!latin1) throw new FitError('binary value in a text payload (internal: table not opened for bytes)');
        return JSON.stringify(v.toString('latin1'));
      }
      const s = asText(v);
      if (max !== Infinity && Buffer.byteLength(s) > max) throw new FitError(`${Buffer.byteLength(s)} bytes do not fit ${t.inner}`);
      return str(s);
    };
  }
  if (b === 'UUID') {
    return (v) => `"${uuidText(v)}"`;
  }
  // Enum8/16, IPv4/6, JSON: the server validates the text (it refuses an unknown enum member or a bad address).
  return (v) => str(asText(v));
}

function intEncoder(base: string, family: TypeFamily): Encode {
  const spec = intSpec(base, family);
  return (v) => String(toInteger(v, spec));
}

function floatEncoder(f32: boolean): Encode {
  return (v) => {
    const n = toFloat(v, f32);
    // Quoted: a bare nan is read as a misspelt null (18.16 and current versions alike).
    if (Number.isNaN(n)) return '"nan"';
    if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
    return String(n);
  };
}

function decimalEncoder(p: number, s: number): Encode {
  return (v) => {
    const d = readDecimal(v, p, s);
    const int = d.intEnd > d.intStart ? d.text.slice(d.intStart, d.intEnd) : '0';
    return `${d.neg ? '-' : ''}${int}${d.fracEnd > d.fracStart ? '.' + d.text.slice(d.fracStart, d.fracEnd) : ''}`;
  };
}

function dateTimeEncoder(base: string, precision: number): Encode {
  return (v) => {
    const r = readDateTime(v, base, precision);
    const wall = wallText(r.seconds);
    if (precision === 0) return `"${wall}"`;
    return `"${wall}.${String(r.frac).padStart(r.fracDigits, '0').padEnd(precision, '0')}"`;
  };
}
