/**
 * Canonical values: the one representation rows take between a source and a sinker.
 *
 * Invariant (precision): a source never rounds. DECIMAL/NUMERIC are decimal strings; integers beyond
 * Number.MAX_SAFE_INTEGER are bigint; date/time values are strings in ISO-like SQL form with all the
 * fractional digits the source has; binary is a Buffer. A sinker converts canonical values to its target's
 * literal form using the column's {@link TypeFamily}, never by guessing from the JS type alone.
 */
export type Value =
  | null
  | string
  | number
  | bigint
  | boolean
  | Buffer
  | Value[]
  | { [k: string]: unknown };

/** One row, keyed by (source or routed) column name. */
export type Row = Record<string, Value>;

/**
 * What kind of data a column holds, independent of engine. Sources tag every column with one; sinkers
 * convert by it. Canonical JS form per family:
 * - int: number (safe range) or bigint;   uint: same, unsigned (BIGINT UNSIGNED max is a bigint)
 * - decimal: string ("-12.3400", "NaN" on PostgreSQL)
 * - float: number (NaN, Infinity allowed)
 * - bool: boolean
 * - bit: string of '0'/'1' digits, most significant first, exactly the column width
 * - string / enum / set / uuid / inet / other: string (set: comma-joined members, as MySQL shows it)
 * - binary: Buffer
 * - json: string holding the JSON text as the source printed it
 * - date: 'YYYY-MM-DD'; time: 'HH:MM:SS[.ffffff]' (may be negative / >24h for MySQL TIME)
 * - datetime: 'YYYY-MM-DD HH:MM:SS[.ffffff]' (no zone); timestamptz: same + '+HH:MM' (or 'Z')
 * - year: number; interval: string (PostgreSQL interval text)
 * - array: string in PostgreSQL array text form ('{1,2}') -- converted only between PostgreSQL engines
 * - geometry: Buffer (WKB) when crossing engines, or source text within one engine
 */
export type TypeFamily =
  | 'int'
  | 'uint'
  | 'decimal'
  | 'float'
  | 'bool'
  | 'bit'
  | 'string'
  | 'enum'
  | 'set'
  | 'uuid'
  | 'inet'
  | 'binary'
  | 'json'
  | 'date'
  | 'time'
  | 'datetime'
  | 'timestamptz'
  | 'year'
  | 'interval'
  | 'array'
  | 'geometry'
  | 'other';

/**
 * JSON-safe encoding of values for plans and checkpoints (key bounds cross Step Functions and stores).
 * bigint -> {"$big":"..."}; Buffer -> {"$b64":"..."}; everything else as JSON.
 * Invariant: decodeValue(encodeValue(v)) deep-equals v for every Value a key column can hold.
 */
export function encodeValue(v: Value): unknown {
  if (typeof v === 'bigint') return { $big: v.toString() };
  if (Buffer.isBuffer(v)) return { $b64: v.toString('base64') };
  if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) };
  return v;
}

export function decodeValue(v: unknown): Value {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.$big === 'string') return BigInt(o.$big);
    if (typeof o.$b64 === 'string') return Buffer.from(o.$b64, 'base64');
    if (typeof o.$num === 'string') return Number(o.$num);
  }
  return v as Value;
}

/** A key tuple: the values of the table's key columns, in key order. */
export type KeyTuple = Value[];

export const encodeKey = (k: KeyTuple | null | undefined): unknown[] | null => (k ? k.map(encodeValue) : null);
export const decodeKey = (k: unknown[] | null | undefined): KeyTuple | null => (k ? k.map(decodeValue) : null);

/** Approximate in-memory size of a row, for byte-bounded buffers. Cheap, never exact. */
export function rowBytes(row: Row): number {
  let n = 16;
  for (const k in row) {
    const v = row[k];
    n += k.length + 8;
    if (v === null || v === undefined) continue;
    if (typeof v === 'string') n += v.length;
    else if (Buffer.isBuffer(v)) n += v.length;
    else if (typeof v === 'object') n += JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))?.length ?? 0;
    else n += 8;
  }
  return n;
}
