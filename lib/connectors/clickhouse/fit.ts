/**
 * The value checks both insert formats share (JSONEachRow in encode.ts, RowBinary in rowbinary.ts): a canonical
 * value is read into what the target column stores -- an integer, a float, a decimal's digits, days, epoch
 * seconds and a fraction -- or refused with {@link FitError}.
 *
 * Invariants: nothing is rounded or clamped (ClickHouse silently wraps an out-of-range integer, zeroes or rolls
 * over an impossible date and stores a default for NULL in a non-Nullable column), so both formats accept and
 * refuse exactly the same values. The readers allocate nothing on their common paths (numbers in range,
 * `YYYY-MM-DD HH:MM:SS[.f]` date-times, plain decimal text): results go into a reused scratch object.
 */
import type { TypeFamily, Value } from '../../core/values.ts';
import type { ParsedType } from './sql.ts';

/** A value that cannot be stored in its target column; the message says why (never the value: it may be secret). */
export class FitError extends Error {}

export type NonNull = Exclude<Value, null>;

export const INT_BOUNDS: Record<string, [bigint, bigint]> = {
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

export const DECIMAL_N: Record<string, number> = { Decimal32: 9, Decimal64: 18, Decimal128: 38, Decimal256: 76 };

/** Decimal(P, S) of a parsed Decimal / DecimalN type. */
export function decimalSpec(t: ParsedType): [precision: number, scale: number] {
  if (t.base === 'Decimal') return [Number(t.args[0] ?? 10), Number(t.args[1] ?? 0)];
  return [DECIMAL_N[t.base], Number(t.args[0] ?? 0)];
}

/** Fractional digits of a DateTime (0) / DateTime64(p) (default 3). */
export const dateTimePrecision = (t: ParsedType): number => (t.base === 'DateTime' ? 0 : Number(t.args[0] ?? 3));

/** A value as the text a String / Enum / address column gets (JSON text for objects, latin1 for bytes). */
export function asText(v: NonNull): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  return JSON.stringify(v);
}

// ---- integers ----

export interface IntSpec {
  base: string;
  lo: bigint;
  hi: bigint;
  loN: number;
  hiN: number;
  /** BIT columns: a string of 0/1 digits is the integer it spells. */
  bits: boolean;
}

export function intSpec(base: string, family: TypeFamily): IntSpec {
  const [lo, hi] = INT_BOUNDS[base];
  return { base, lo, hi, loN: Number(lo), hiN: Number(hi), bits: family === 'bit' };
}

/** The integer `v` spells, within the type's bounds: a number when it is a safe integer in range, else a bigint. */
export function toInteger(v: NonNull, s: IntSpec): number | bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= s.loN && v <= s.hiN) return v;
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'boolean') n = v ? 1n : 0n;
  else if (s.bits && typeof v === 'string' && /^[01]*$/.test(v)) n = v ? BigInt('0b' + v) : 0n;
  else if ((typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v))) n = BigInt(v);
  else throw new FitError(`not an integer for ${s.base}`);
  if (n < s.lo || n > s.hi) throw new FitError(`out of range for ${s.base}`);
  return n;
}

// ---- floats, booleans ----

const FLOAT32_MAX = 3.4028234663852886e38;

/** The float `v` spells (NaN and the infinities included); FitError for text that is no number, or beyond Float32. */
export function toFloat(v: NonNull, f32: boolean): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' || typeof v === 'bigint' ? Number(v) : NaN;
  if (Number.isNaN(n)) {
    if (typeof v === 'number' || /^nan$/i.test(String(v))) return NaN;
    throw new FitError('not a number');
  }
  if (f32 && Number.isFinite(n) && Math.abs(n) > FLOAT32_MAX) throw new FitError('out of range for Float32');
  return n;
}

export function truthy(v: NonNull): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return v !== 0 && v !== 0n;
  const s = String(v).toLowerCase();
  if (s === 't' || s === 'true' || s === '1' || /^1+$/.test(s)) return true;
  if (s === 'f' || s === 'false' || s === '0' || /^0+$/.test(s)) return false;
  throw new FitError('not a boolean');
}

// ---- decimals ----

/**
 * A decimal read by {@link readDecimal}: the digits are `text[intStart, intEnd)` (no leading zeros) and
 * `text[fracStart, fracEnd)` (no trailing zeros); `scaled` is the value times 10^scale when that is below 10^15
 * (exact as a number), else -1 (use {@link scaledBigint}).
 */
export interface DecimalRead {
  text: string;
  neg: boolean;
  intStart: number;
  intEnd: number;
  fracStart: number;
  fracEnd: number;
  scaled: number;
}

const DEC: DecimalRead = { text: '', neg: false, intStart: 0, intEnd: 0, fracStart: 0, fracEnd: 0, scaled: 0 };

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * Reads `v` as a decimal for Decimal(p, s): optional `-`, digits, optional `.` and digits (at least one digit in
 * all); surrounding whitespace ignored. FitError when it has more than `s` fractional or `p - s` integer digits
 * (zeros that do not count are not counted). The result is a shared scratch object, valid until the next call.
 */
export function readDecimal(v: NonNull, p: number, s: number): DecimalRead {
  let t = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : '';
  const n0 = t.length;
  if (n0 && (!(isDigit(t.charCodeAt(0)) || t.charCodeAt(0) === 45 || t.charCodeAt(0) === 46) || !(isDigit(t.charCodeAt(n0 - 1)) || t.charCodeAt(n0 - 1) === 46))) {
    t = t.trim();
  }
  const n = t.length;
  let i = 0;
  const neg = n > 0 && t.charCodeAt(0) === 45;
  if (neg) i = 1;
  const digitsStart = i;
  while (i < n && isDigit(t.charCodeAt(i))) i++;
  const intEndRaw = i;
  let fracStart = i;
  let fracEndRaw = i;
  if (i < n && t.charCodeAt(i) === 46) {
    fracStart = ++i;
    while (i < n && isDigit(t.charCodeAt(i))) i++;
    fracEndRaw = i;
  }
  if (i !== n || (intEndRaw === digitsStart && fracEndRaw === fracStart)) throw new FitError(`not a decimal for Decimal(${p}, ${s})`);
  let intStart = digitsStart;
  while (intStart < intEndRaw && t.charCodeAt(intStart) === 48) intStart++;
  let fracEnd = fracEndRaw;
  while (fracEnd > fracStart && t.charCodeAt(fracEnd - 1) === 48) fracEnd--;
  if (fracEnd - fracStart > s) throw new FitError(`more than ${s} fractional digits for Decimal(${p}, ${s})`);
  if (intEndRaw - intStart > p - s) throw new FitError(`more than ${p - s} integer digits for Decimal(${p}, ${s})`);
  let scaled = -1;
  if (intEndRaw - intStart + s <= 15) {
    scaled = 0;
    for (let k = intStart; k < intEndRaw; k++) scaled = scaled * 10 + (t.charCodeAt(k) - 48);
    for (let k = fracStart; k < fracEnd; k++) scaled = scaled * 10 + (t.charCodeAt(k) - 48);
    scaled *= POW10[s - (fracEnd - fracStart)];
  }
  DEC.text = t;
  DEC.neg = neg;
  DEC.intStart = intStart;
  DEC.intEnd = intEndRaw;
  DEC.fracStart = fracStart;
  DEC.fracEnd = fracEnd;
  DEC.scaled = scaled;
  return DEC;
}

const POW10 = Array.from({ length: 23 }, (_v, i) => 10 ** i);

/** The value of a {@link DecimalRead} times 10^scale, signed, as a bigint. */
export function scaledBigint(d: DecimalRead, scale: number): bigint {
  const digits = d.text.slice(d.intStart, d.intEnd) + d.text.slice(d.fracStart, d.fracEnd).padEnd(scale, '0');
  const n = digits ? BigInt(digits) : 0n;
  return d.neg ? -n : n;
}

// ---- dates and date-times ----

/** Days from 1970-01-01 to y-m-d, proleptic Gregorian (m 1..12). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

/** `YYYY-MM-DD` of a day number (inverse of {@link daysFromCivil}). */
export function civilText(days: number): string {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, '0')}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const leap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Digits at t[i, i+n) as a number, or -1 when one is not an ASCII digit. */
function num(t: string, i: number, n: number): number {
  let r = 0;
  for (let k = i; k < i + n; k++) {
    const c = t.charCodeAt(k);
    if (!(c >= 48 && c <= 57)) return -1;
    r = r * 10 + (c - 48);
  }
  return r;
}

/** Day number of `YYYY-MM-DD` at t[i..i+10), or NaN when the text is not a real calendar date. */
function dayAt(t: string, i: number): number {
  const y = num(t, i, 4);
  const m = num(t, i + 5, 2);
  const d = num(t, i + 8, 2);
  if (y < 0 || m < 1 || m > 12 || d < 1 || t.charCodeAt(i + 4) !== 45 || t.charCodeAt(i + 7) !== 45) return NaN;
  if (d > (m === 2 && leap(y) ? 29 : MONTH_DAYS[m - 1])) return NaN;
  return daysFromCivil(y, m, d);
}

/** Inclusive bounds of a date type, in days. */
export const DATE_DAYS: Record<string, [number, number, string]> = {
  Date: [0, 65535, '1970-01-01..2149-06-06'],
  Date32: [daysFromCivil(1900, 1, 1), daysFromCivil(2299, 12, 31), '1900-01-01..2299-12-31'],
};

/** Inclusive bounds of a date-time type, in UTC epoch seconds (the fraction not counted). */
export const DATE_TIME_SECONDS: Record<string, [number, number, string]> = {
  DateTime: [0, 4294967295, '1970-01-01 00:00:00..2106-02-07 06:28:15'],
  DateTime64: [daysFromCivil(1900, 1, 1) * 86400, daysFromCivil(2299, 12, 31) * 86400 + 86399, '1900-01-01 00:00:00..2299-12-31 23:59:59'],
};

/** The day number of a `YYYY-MM-DD` string (a real calendar date) within `base`'s range. */
export function toDays(v: NonNull, base: string): number {
  const [lo, hi, range] = DATE_DAYS[base];
  if (typeof v !== 'string' || v.length !== 10) throw new FitError('not a date');
  const days = dayAt(v, 0);
  if (Number.isNaN(days)) throw new FitError('not a date');
  if (days < lo || days > hi) throw new FitError(`outside ${range}`);
  return days;
}

/** A date-time read by {@link readDateTime}: UTC epoch seconds and the fraction `frac / 10^fracDigits`. */
export interface DateTimeRead {
  seconds: number;
  frac: number;
  fracDigits: number;
}

const DT: DateTimeRead = { seconds: 0, frac: 0, fracDigits: 0 };

const ZONE = /^\s*(?:Z|([+-])(\d{2})(?::?(\d{2}))?)$/;

/**
 * Reads `YYYY-MM-DD[ T]HH:MM:SS[.f...]` with an optional zone (`Z`, `+HH`, `+HHMM`, `+HH:MM`; the value is
 * converted to UTC), surrounding whitespace ignored, for a `base` (DateTime / DateTime64) column of `precision`
 * fractional digits. FitError when it is not a real date and time, when it is outside the type's range, or when it
 * has more significant fractional digits than `precision` -- except at precision 0 (DateTime), which keeps the
 * seconds (the struct task flags that mapping). Returns a shared scratch object, valid until the next call.
 */
export function readDateTime(v: NonNull, base: string, precision: number): DateTimeRead {
  let t = typeof v === 'string' ? v : '';
  if (t.length && (!isDigit(t.charCodeAt(0)) || !(isDigit(t.charCodeAt(t.length - 1)) || t.charCodeAt(t.length - 1) === 90))) t = t.trim();
  const days = t.length >= 19 ? dayAt(t, 0) : NaN;
  const sep = t.charCodeAt(10);
  const h = num(t, 11, 2);
  const mi = num(t, 14, 2);
  const s = num(t, 17, 2);
  if (Number.isNaN(days) || (sep !== 32 && sep !== 84) || t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) {
    throw new FitError('not a date-time');
  }
  let seconds = days * 86400 + h * 3600 + mi * 60 + s;
  let i = 19;
  let frac = 0;
  let fracDigits = 0;
  if (t.charCodeAt(i) === 46) {
    const start = ++i;
    let lastNonZero = start;
    while (i < t.length && isDigit(t.charCodeAt(i))) if (t.charCodeAt(i++) !== 48) lastNonZero = i;
    if (i === start) throw new FitError('not a date-time');
    fracDigits = lastNonZero - start;
    if (precision > 0 && fracDigits > precision) throw new FitError(`more than ${precision} fractional second digits`);
    if (precision === 0) fracDigits = 0;
    for (let k = start; k < start + fracDigits; k++) frac = frac * 10 + (t.charCodeAt(k) - 48);
  }
  if (i < t.length) {
    const z = ZONE.exec(t.slice(i));
    if (!z) throw new FitError('not a date-time');
    if (z[1]) seconds -= (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 3600 + Number(z[3] ?? 0) * 60);
  }
  const [lo, hi, range] = DATE_TIME_SECONDS[base];
  if (seconds < lo || seconds > hi) throw new FitError(`outside ${range}`);
  DT.seconds = seconds;
  DT.frac = frac;
  DT.fracDigits = fracDigits;
  return DT;
}

/** `YYYY-MM-DD HH:MM:SS` (UTC) of epoch seconds. */
export function wallText(seconds: number): string {
  const days = Math.floor(seconds / 86400);
  const sod = seconds - days * 86400;
  const h = Math.floor(sod / 3600);
  const m = Math.floor((sod % 3600) / 60);
  const s = sod % 60;
  const two = (n: number) => (n < 10 ? '0' : '') + n;
  return `${civilText(days)} ${two(h)}:${two(m)}:${two(s)}`;
}

// ---- UUID ----

const UUID_TEXT = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$/i;

/** `v` as UUID text: 36 characters with dashes or 32 hex digits (the two forms ClickHouse parses). */
export function uuidText(v: NonNull): string {
  const s = typeof v === 'string' ? v : '';
  if (!UUID_TEXT.test(s)) throw new FitError('not a UUID');
  return s;
}

// ---- Enum ----

/** An Enum8/16's members: name -> number, and the number ClickHouse stores for a missing value (the lowest). */
export interface EnumMembers {
  byName: Map<string, number>;
  values: Set<number>;
  lowest: number;
}

const ENUM_MEMBER = /^'((?:[^'\\]|\\.)*)'\s*=\s*(-?\d+)$/s;
const QUOTED_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', '0': '\0', a: '\x07', v: '\v', e: '\x1b' };

/** Members of an `Enum8('a' = 1, ...)` type as system.columns prints it; undefined when the text is not understood. */
export function enumMembers(t: ParsedType): EnumMembers | undefined {
  const byName = new Map<string, number>();
  for (const a of t.args) {
    const m = ENUM_MEMBER.exec(a);
    if (!m) return undefined;
    const name = m[1].replace(/\\(x[0-9a-fA-F]{2}|.)/gs, (_all, c: string) =>
      c.length === 3 ? String.fromCharCode(parseInt(c.slice(1), 16)) : QUOTED_ESCAPES[c] ?? c);
    byName.set(name, Number(m[2]));
  }
  if (!byName.size) return undefined;
  const values = new Set(byName.values());
  return { byName, values, lowest: Math.min(...values) };
}

/** The member number of `text`: its name, or (as ClickHouse reads enum text) a number that is a member's. */
export function enumValue(text: string, e: EnumMembers): number {
  const n = e.byName.get(text);
  if (n !== undefined) return n;
  if (/^-?\d+$/.test(text) && e.values.has(Number(text))) return Number(text);
  throw new FitError('not a member of the Enum');
}
