/**
 * Canonical values -> RowBinary bytes for a ClickHouse target column, chosen by the TARGET type (read from
 * system.columns) and the source family, written straight into the payload's Buffers ({@link ByteChunks}).
 *
 * Invariants:
 * - The same values are accepted and refused as in JSONEachRow (encode.ts): both read values through fit.ts, so
 *   nothing is rounded or clamped and a value that does not fit raises {@link FitError}. For Enum and IPv4/IPv6,
 *   which JSONEachRow leaves to the server's text parser, the checks here follow that parser (a member name or
 *   member number; dotted quads; IPv6 with `::`, an IPv4 tail, or plain IPv4 as `::ffff:a.b.c.d`).
 * - Layout, as ClickHouse reads RowBinary on 18.16 and current versions: integers, floats and the scaled integer
 *   of a Decimal little-endian in the width of the type (Decimal: 4/8/16/32 bytes for precision up to 9/18/38/76);
 *   Bool one byte; String a LEB128 length then the bytes (text as UTF-8, Buffers raw); FixedString(N) exactly N
 *   bytes, zero-padded; UUID its two 64-bit halves, each little-endian; Date UInt16 days, Date32 Int32 days,
 *   DateTime UInt32 seconds, DateTime64(p) Int64 in 10^-p seconds; Enum8/16 the member's number; IPv4 UInt32;
 *   IPv6 16 bytes in network order; Nullable a flag byte (1 = NULL) before the value; LowCardinality as its type.
 * - A column absent from a row (delete markers carry only the key) gets the type's default, as JSONEachRow gives
 *   a column without a DEFAULT expression: NULL, zero, empty, the epoch, the lowest Enum member.
 * - DateTime / DateTime64 are written only in a UTC zone: RowBinary carries epoch seconds while the canonical
 *   value is a UTC wall clock (fit.ts); other zones, JSON and Object columns are {@link Unsupported}, and the
 *   table keeps JSONEachRow.
 */
import type { TypeFamily, Value } from '../../core/values.ts';
import type { ByteChunks } from './bytes.ts';
import {
  DECIMAL_N, FitError, INT_BOUNDS, asText, dateTimePrecision, decimalSpec, enumMembers, enumValue, intSpec, readDateTime, readDecimal,
  scaledBigint, toDays, toFloat, toInteger, truthy, uuidText, type NonNull,
} from './fit.ts';
import type { ParsedType } from './sql.ts';

/** Writes one value of a column (null / undefined included) at the end of the payload. */
export type WriteValue = (o: ByteChunks, v: Value | undefined) => void;

/** Why a column cannot go as RowBinary. */
export interface Unsupported {
  unsupported: string;
}

type WriteNonNull = (o: ByteChunks, v: NonNull) => void;

interface Plan {
  write: WriteNonNull;
  /** The type's default value, as bytes. */
  dflt: Buffer;
}

/** Zone names that are UTC. */
const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'UCT', 'Etc/UCT', 'GMT', 'Etc/GMT', 'GMT0', 'Etc/GMT0', 'Etc/GMT+0', 'Etc/GMT-0', 'Greenwich', 'Etc/Greenwich', 'Universal', 'Etc/Universal', 'Zulu', 'Etc/Zulu']);

/** The zone argument of DateTime('tz') / DateTime64(p, 'tz'), unquoted; undefined without one. */
export function dateTimeZone(t: ParsedType): string | undefined {
  const a = t.base === 'DateTime' ? t.args[0] : t.args[1];
  return a === undefined ? undefined : a.replace(/^'(.*)'$/s, '$1');
}

export const isUtcZone = (zone: string): boolean => UTC_ZONES.has(zone);

/**
 * The RowBinary writer of a column of type `t` (Nullable and LowCardinality unwrapped by parseType), or why there
 * is none. `serverZone`: the server's timezone(), for DateTime columns without a zone of their own.
 */
export function binaryColumn(t: ParsedType, family: TypeFamily, serverZone: string | undefined): WriteValue | Unsupported {
  const p = plan(t, family, serverZone);
  if ('unsupported' in p) return p;
  const { write, dflt } = p;
  if (t.nullable) {
    return (o, v) => {
      o.room(1);
      if (v === null || v === undefined) {
        o.buf[o.pos++] = 1;
        return;
      }
      o.buf[o.pos++] = 0;
      write(o, v);
    };
  }
  return (o, v) => {
    if (v === undefined) {
      o.room(dflt.length);
      o.pos += dflt.copy(o.buf, o.pos);
    } else if (v === null) throw new FitError(`NULL in non-Nullable ${t.inner}`);
    else write(o, v);
  };
}

function plan(t: ParsedType, family: TypeFamily, serverZone: string | undefined): Plan | Unsupported {
  const b = t.base;
  if (b in INT_BOUNDS) return intPlan(b, family);
  if (b === 'Float32') return { write: (o, v) => void (o.room(4), (o.pos = o.buf.writeFloatLE(toFloat(v, true), o.pos))), dflt: Buffer.alloc(4) };
  if (b === 'Float64') return { write: (o, v) => void (o.room(8), (o.pos = o.buf.writeDoubleLE(toFloat(v, false), o.pos))), dflt: Buffer.alloc(8) };
  if (b === 'Decimal' || b in DECIMAL_N) return decimalPlan(...decimalSpec(t));
  if (b === 'Bool') return { write: (o, v) => void (o.room(1), (o.buf[o.pos++] = truthy(v) ? 1 : 0)), dflt: Buffer.alloc(1) };
  if (b === 'String') return { write: (o, v) => (Buffer.isBuffer(v) ? writeBytes(o, v) : writeString(o, typeof v === 'string' ? v : asText(v))), dflt: Buffer.alloc(1) };
  if (b === 'FixedString') return fixedStringPlan(t);
  if (b === 'UUID') return { write: writeUuid, dflt: Buffer.alloc(16) };
  if (b === 'Date') return { write: (o, v) => void (o.room(2), (o.pos = o.buf.writeUInt16LE(toDays(v, 'Date'), o.pos))), dflt: Buffer.alloc(2) };
  if (b === 'Date32') return { write: (o, v) => void (o.room(4), (o.pos = o.buf.writeInt32LE(toDays(v, 'Date32'), o.pos))), dflt: Buffer.alloc(4) };
  if (b === 'DateTime' || b === 'DateTime64') {
    const zone = dateTimeZone(t) ?? serverZone;
    if (zone === undefined || !isUtcZone(zone)) {
      return { unsupported: `${t.inner} is not in UTC${zone === undefined ? '' : ` (${zone})`}: its wall clock is only known as text` };
    }
    return b === 'DateTime' ? dateTimePlan() : dateTime64Plan(dateTimePrecision(t));
  }
  if (b === 'Enum8' || b === 'Enum16') return enumPlan(t);
  if (b === 'IPv4') return { write: writeIpv4, dflt: Buffer.alloc(4) };
  if (b === 'IPv6') return { write: writeIpv6, dflt: Buffer.alloc(16) };
  return { unsupported: `${t.inner} has no exact RowBinary form in ferry` };
}

// ---- integers ----

const TWO32 = 4294967296;
const MASK64 = (1n << 64n) - 1n;

/** A safe integer as 8 bytes, two's complement little-endian. */
function int64Number(buf: Buffer, pos: number, n: number): void {
  buf.writeUInt32LE(n >>> 0, pos);
  buf.writeInt32LE(Math.floor(n / TWO32), pos + 4);
}

/** An integer as `bytes` bytes (8, 16 or 32), two's complement little-endian. */
function writeWide(o: ByteChunks, n: number | bigint, bytes: number): void {
  o.room(bytes);
  const buf = o.buf;
  const pos = o.pos;
  if (typeof n === 'number') {
    int64Number(buf, pos, n);
    if (bytes > 8) buf.fill(n < 0 ? 0xff : 0, pos + 8, pos + bytes);
  } else {
    let x = BigInt.asUintN(bytes * 8, n);
    for (let k = 0; k < bytes; k += 8) {
      buf.writeBigUInt64LE(x & MASK64, pos + k);
      x >>= 64n;
    }
  }
  o.pos = pos + bytes;
}

function intPlan(base: string, family: TypeFamily): Plan {
  const spec = intSpec(base, family);
  const bits = Number(base.replace(/^U?Int/, ''));
  const dflt = Buffer.alloc(bits / 8);
  const unsigned = base.startsWith('U');
  let write: WriteNonNull;
  if (bits === 8) write = (o, v) => void (o.room(1), (o.buf[o.pos++] = Number(toInteger(v, spec)) & 0xff));
  else if (bits === 16) write = (o, v) => void (o.room(2), (o.pos = o.buf.writeUInt16LE(Number(toInteger(v, spec)) & 0xffff, o.pos)));
  else if (bits === 32) {
    write = unsigned
      ? (o, v) => void (o.room(4), (o.pos = o.buf.writeUInt32LE(Number(toInteger(v, spec)), o.pos)))
      : (o, v) => void (o.room(4), (o.pos = o.buf.writeInt32LE(Number(toInteger(v, spec)), o.pos)));
  } else if (bits === 64) {
    write = (o, v) => {
      const n = toInteger(v, spec);
      o.room(8);
      if (typeof n === 'number') int64Number(o.buf, o.pos, n);
      else if (unsigned) o.buf.writeBigUInt64LE(n, o.pos);
      else o.buf.writeBigInt64LE(n, o.pos);
      o.pos += 8;
    };
  } else write = (o, v) => writeWide(o, toInteger(v, spec), bits / 8);
  return { write, dflt };
}

// ---- decimals ----

function decimalPlan(p: number, s: number): Plan {
  const bytes = p <= 9 ? 4 : p <= 18 ? 8 : p <= 38 ? 16 : 32;
  const write: WriteNonNull = (o, v) => {
    const d = readDecimal(v, p, s);
    const n = d.scaled >= 0 ? (d.neg ? -d.scaled : d.scaled) : scaledBigint(d, s);
    if (bytes === 4) {
      o.room(4);
      o.pos = o.buf.writeInt32LE(Number(n), o.pos);
    } else if (bytes === 8 && typeof n === 'bigint') {
      o.room(8);
      o.pos = o.buf.writeBigInt64LE(n, o.pos);
    } else writeWide(o, n, bytes);
  };
  return { write, dflt: Buffer.alloc(bytes) };
}

// ---- strings ----

/** Bytes of the LEB128 encoding of `n`. */
const varintBytes = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/**
 * A String value: LEB128 length then UTF-8. The text is written first, after room for the length it would have
 * if every UTF-16 unit were one byte; the bytes move up in the rare case the UTF-8 length needs a longer prefix.
 * Short ASCII text is copied by hand (cheaper than a call into the encoder).
 */
export function writeString(o: ByteChunks, s: string): void {
  const n = s.length;
  o.room(n * 3 + 5);
  const buf = o.buf;
  const pos = o.pos;
  const guess = varintBytes(n);
  let w = -1;
  if (n <= 32) {
    let k = 0;
    const at = pos + guess;
    for (; k < n; k++) {
      const c = s.charCodeAt(k);
      if (c >= 0x80) break;
      buf[at + k] = c;
    }
    if (k === n) w = n;
  }
  if (w < 0) w = buf.write(s, pos + guess, 'utf8');
  const need = varintBytes(w);
  if (need !== guess) buf.copyWithin(pos + need, pos + guess, pos + guess + w);
  o.pos = writeVarint(buf, pos, w) + w;
}

/** A String value from raw bytes. */
export function writeBytes(o: ByteChunks, b: Buffer): void {
  o.room(b.length + 5);
  const pos = writeVarint(o.buf, o.pos, b.length);
  o.pos = pos + b.copy(o.buf, pos);
}

function fixedStringPlan(t: ParsedType): Plan {
  const size = Number(t.args[0]);
  const write: WriteNonNull = (o, v) => {
    if (Buffer.isBuffer(v)) {
      if (v.length > size) throw new FitError(`${v.length} bytes do not fit ${t.inner}`);
      o.room(size);
      v.copy(o.buf, o.pos);
      o.buf.fill(0, o.pos + v.length, o.pos + size);
    } else {
      const s = asText(v);
      o.room(Math.max(size, s.length * 3));
      const w = o.buf.write(s, o.pos, 'utf8');
      if (w > size) throw new FitError(`${w} bytes do not fit ${t.inner}`);
      o.buf.fill(0, o.pos + w, o.pos + size);
    }
    o.pos += size;
  };
  return { write, dflt: Buffer.alloc(size) };
}

// ---- UUID ----

const hexValue = (c: number): number => (c <= 57 ? c - 48 : (c | 32) - 87);

/** The 16 bytes of the UUID in text order, written as ClickHouse stores it: each 8-byte half reversed. */
function writeUuid(o: ByteChunks, v: NonNull): void {
  const s = uuidText(v);
  o.room(16);
  const buf = o.buf;
  const pos = o.pos;
  let i = 0;
  for (let j = 0; j < 16; j++) {
    if (s.charCodeAt(i) === 45) i++;
    const byte = (hexValue(s.charCodeAt(i)) << 4) | hexValue(s.charCodeAt(i + 1));
    i += 2;
    buf[pos + (j < 8 ? 7 - j : 23 - j)] = byte;
  }
  o.pos = pos + 16;
}

// ---- dates and times ----

function dateTimePlan(): Plan {
  const write: WriteNonNull = (o, v) => {
    const r = readDateTime(v, 'DateTime', 0);
    o.room(4);
    o.pos = o.buf.writeUInt32LE(r.seconds, o.pos);
  };
  return { write, dflt: Buffer.alloc(4) };
}

function dateTime64Plan(precision: number): Plan {
  const scale = 10 ** precision;
  // Epoch seconds up to this bound times 10^precision, plus the fraction, stay exact as numbers.
  const safeSeconds = Math.floor((Number.MAX_SAFE_INTEGER - scale) / scale);
  const write: WriteNonNull = (o, v) => {
    const r = readDateTime(v, 'DateTime64', precision);
    const frac = r.fracDigits ? r.frac * 10 ** (precision - r.fracDigits) : 0;
    o.room(8);
    if (Math.abs(r.seconds) <= safeSeconds) int64Number(o.buf, o.pos, r.seconds * scale + frac);
    else {
      const n = BigInt(r.seconds) * BigInt(scale) + BigInt(frac);
      if (n >= 1n << 63n || n < -(1n << 63n)) throw new FitError(`outside the range of DateTime64(${precision})`);
      o.buf.writeBigInt64LE(n, o.pos);
    }
    o.pos += 8;
  };
  return { write, dflt: Buffer.alloc(8) };
}

// ---- Enum ----

function enumPlan(t: ParsedType): Plan | Unsupported {
  const members = enumMembers(t);
  if (!members) return { unsupported: `${t.inner}: members not understood` };
  const dflt = Buffer.alloc(t.base === 'Enum8' ? 1 : 2);
  if (t.base === 'Enum8') {
    dflt.writeInt8(members.lowest);
    return { write: (o, v) => void (o.room(1), (o.pos = o.buf.writeInt8(enumValue(asText(v), members), o.pos))), dflt };
  }
  dflt.writeInt16LE(members.lowest);
  return { write: (o, v) => void (o.room(2), (o.pos = o.buf.writeInt16LE(enumValue(asText(v), members), o.pos))), dflt };
}

// ---- addresses ----

/** A dotted quad in s[from, to) as a number, or -1: four decimal parts of 1-3 digits up to 255. */
function ipv4At(s: string, from: number, to: number): number {
  let value = 0;
  let i = from;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (s.charCodeAt(i) !== 46) return -1;
      i++;
    }
    const start = i;
    let n = 0;
    while (i < to && i - start < 3 && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) n = n * 10 + (s.charCodeAt(i++) - 48);
    if (i === start || n > 255) return -1;
    value = value * 256 + n;
  }
  return i === to ? value : -1;
}

function writeIpv4(o: ByteChunks, v: NonNull): void {
  const s = asText(v);
  const n = ipv4At(s, 0, s.length);
  if (n < 0) throw new FitError('not an IPv4 address');
  o.room(4);
  o.pos = o.buf.writeUInt32LE(n, o.pos);
}

const IPV6 = new Uint8Array(16);

/** Parses IPv6 text into {@link IPV6}; false when it is not an address. */
function parseIpv6(s: string): boolean {
  IPV6.fill(0);
  if (s.indexOf(':') < 0) {
    const n = ipv4At(s, 0, s.length);
    if (n < 0) return false;
    IPV6[10] = IPV6[11] = 0xff;
    IPV6[12] = n >>> 24;
    IPV6[13] = (n >>> 16) & 0xff;
    IPV6[14] = (n >>> 8) & 0xff;
    IPV6[15] = n & 0xff;
    return true;
  }
  const gap = s.indexOf('::');
  if (gap >= 0 && s.indexOf('::', gap + 1) >= 0) return false;
  const head = groups(gap < 0 ? s : s.slice(0, gap), gap < 0);
  const tail = gap < 0 ? [] : groups(s.slice(gap + 2), true);
  if (!head || !tail) return false;
  const total = head.length + tail.length;
  if (gap < 0 ? total !== 8 : total > 7) return false;
  head.forEach((g, k) => {
    IPV6[2 * k] = g >> 8;
    IPV6[2 * k + 1] = g & 0xff;
  });
  tail.forEach((g, k) => {
    const at = 16 - 2 * (tail.length - k);
    IPV6[at] = g >> 8;
    IPV6[at + 1] = g & 0xff;
  });
  return true;
}

/** The 16-bit groups of `a:b:c` (an IPv4 tail as two groups when `last`); null when malformed. */
function groups(text: string, last: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const out: number[] = [];
  for (let k = 0; k < parts.length; k++) {
    const g = parts[k];
    if (last && k === parts.length - 1 && g.includes('.')) {
      const n = ipv4At(g, 0, g.length);
      if (n < 0) return null;
      out.push(n >>> 16, n & 0xffff);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
    else return null;
  }
  return out;
}

function writeIpv6(o: ByteChunks, v: NonNull): void {
  if (!parseIpv6(asText(v))) throw new FitError('not an IPv6 address');
  o.room(16);
  o.buf.set(IPV6, o.pos);
  o.pos += 16;
}
