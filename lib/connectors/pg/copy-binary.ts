/**
 * Binary COPY pages (`COPY ... (FORMAT binary)`) for the PG -> PG pass-through. A binary COPY stream is a file
 * header (11-byte signature, int32 flags, int32 extension length, the extension), the tuples (int16 field
 * count, then per field an int32 length, -1 for NULL, and that many bytes of the type's send form) and a
 * trailer (int16 -1). PostgreSQL 15 sends the header inside the first row's CopyData message, one message per
 * further row, and the trailer in a message of its own; an empty result is one message, header and trailer.
 *
 * ferry never decodes a binary page's values: the page goes to the target unchanged. It reads key fields only,
 * of types whose binary form it turns into the text form the server would have printed, so the text decoders
 * give exactly the key a text page gives.
 */
import { FerryError } from '../../core/errors.ts';
import type { ColumnMeta } from '../../core/table.ts';
import { forEachPayload, type CopyPage } from './copy-wire.ts';
import type { PgColumn } from './type-map.ts';

/** The raw format (core `RawRows`) of binary COPY pages: the CopyData messages as the source sent them. */
export const PG_COPY_BINARY = 'pg-copy-binary';

/**
 * Built-in types (fixed pg_type oids) whose binary form says exactly what their text form says: the target's
 * receive function applies the column's typmod (length, precision, rounding) as its input function does, and
 * text types go through the client encoding as COPY text does. Arrays, enums, ranges, extension and other
 * user types (hstore, citext, PostGIS...), money, xml, geometric types are not here: they take COPY text.
 */
export const BINARY_EXACT: ReadonlyMap<string, number> = new Map([
  ['bool', 16],
  ['bytea', 17],
  ['int8', 20],
  ['int2', 21],
  ['int4', 23],
  ['text', 25],
  ['json', 114],
  ['cidr', 650],
  ['float4', 700],
  ['float8', 701],
  ['macaddr', 829],
  ['inet', 869],
  ['bpchar', 1042],
  ['varchar', 1043],
  ['date', 1082],
  ['time', 1083],
  ['timestamp', 1114],
  ['timestamptz', 1184],
  ['interval', 1186],
  ['timetz', 1266],
  ['bit', 1560],
  ['varbit', 1562],
  ['numeric', 1700],
  ['uuid', 2950],
  ['jsonb', 3802],
]);

/** Key column types ferry reads from binary pages (their binary form -> the server's text form). */
export const BINARY_KEY_TYPES: ReadonlySet<string> = new Set(['int2', 'int4', 'int8', 'text', 'varchar']);

/** A source / target column's base type when it is one of `BINARY_EXACT` (checked by oid, not by name). */
export function binaryType(c: ColumnMeta): string | undefined {
  const p = c as Partial<PgColumn>;
  if (c.family === 'array' || p.isArray || c.family === 'enum' || c.udtName === undefined) return undefined;
  return p.baseOid !== undefined && BINARY_EXACT.get(c.udtName) === p.baseOid ? c.udtName : undefined;
}

/**
 * The base types of `keyColumns` (names in `columns`) when every one is in BINARY_KEY_TYPES, so a binary tuple's
 * key fields can be read back into the resume key; null otherwise (or with no key).
 */
export function binaryKeyTypes(columns: ColumnMeta[], keyColumns: string[]): string[] | null {
  if (!keyColumns.length) return null;
  const types: string[] = [];
  for (const k of keyColumns) {
    const col = columns.find((c) => c.name === k);
    const t = col && binaryType(col);
    if (t === undefined || !BINARY_KEY_TYPES.has(t)) return null;
    types.push(t);
  }
  return types;
}

/**
 * Whether a PostgreSQL source column's binary COPY form means the same value to the target column: the same
 * built-in base type of `BINARY_EXACT` on both sides (domains over it included; typmods may differ, the target
 * applies its own as it does to text). MySQL columns carry no `udtName` and never match.
 */
export function sameCopyBinary(src: ColumnMeta, dst: PgColumn): boolean {
  const t = binaryType(dst);
  return t !== undefined && binaryType(src) === t;
}

const SIGNATURE = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]); // PGCOPY\n\377\r\n\0
const HEADER = Buffer.concat([SIGNATURE, Buffer.alloc(8)]); // flags 0, no extension
const TRAILER = Buffer.from([0xff, 0xff]);

export type Tuple = Array<Buffer | null>;

const malformed = (what: string) => new FerryError('RT002', `binary COPY page: ${what}`);

/** Where the tuples start when `b` starts with a binary COPY header (no OID column); -1 otherwise. */
export function afterHeader(b: Buffer): number {
  if (b.length < 19 || !b.subarray(0, 11).equals(SIGNATURE)) return -1;
  if (b.readInt32BE(11) & 0x10000) return -1; // tuples with OIDs: never asked for
  const end = 19 + b.readInt32BE(15);
  return end <= b.length ? end : -1;
}

/** The tuple at `pos` and where it ends; null when `b` holds no whole tuple there (or the trailer). */
export function readTuple(b: Buffer, pos: number): { fields: Tuple; end: number } | null {
  if (pos + 2 > b.length) return null;
  const n = b.readInt16BE(pos);
  if (n < 0) return null;
  const fields: Tuple = new Array(n);
  let at = pos + 2;
  for (let i = 0; i < n; i++) {
    if (at + 4 > b.length) return null;
    const len = b.readInt32BE(at);
    at += 4;
    if (len < 0) fields[i] = null;
    else {
      if (at + len > b.length) return null;
      fields[i] = b.subarray(at, at + len);
      at += len;
    }
  }
  return { fields, end: at };
}

/** The payloads of a page's CopyData messages, as one binary COPY stream. */
export function pageStream(chunks: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  forEachPayload(chunks, (p) => parts.push(p));
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/** The tuples of a whole binary COPY stream (header, tuples, trailer), each as its bytes. RT002 when malformed. */
export function splitTuples(stream: Buffer): Buffer[] {
  let pos = afterHeader(stream);
  if (pos < 0) throw malformed('no valid header');
  const out: Buffer[] = [];
  for (;;) {
    if (pos + 2 <= stream.length && stream.readInt16BE(pos) === -1) {
      if (pos + 2 !== stream.length) throw malformed('data after the trailer');
      return out;
    }
    const t = readTuple(stream, pos);
    if (!t) throw malformed('truncated tuple');
    out.push(stream.subarray(pos, t.end));
    pos = t.end;
  }
}

/**
 * The last tuple's fields of a page with `page.rows` rows of `width` fields; null for an empty page. Reads the
 * message before the trailer when the server split the page one row per message (PostgreSQL does; checked:
 * that message must hold exactly one tuple of the right width), else walks the whole page.
 */
export function lastTuple(page: CopyPage, width: number): Tuple | null {
  if (!page.rows) return null;
  if (page.messages === page.rows + 1 && page.last.equals(TRAILER)) {
    const m = page.beforeLast;
    const start = page.messages === 2 ? afterHeader(m) : 0;
    const t = start >= 0 ? readTuple(m, start) : null;
    if (t && t.end === m.length && t.fields.length === width) return t.fields;
  }
  const tuples = splitTuples(pageStream(page.chunks));
  if (tuples.length !== page.rows) throw malformed(`${tuples.length} tuples where the server reported ${page.rows}`);
  const t = readTuple(tuples[tuples.length - 1], 0)!;
  if (t.fields.length !== width) throw malformed(`a tuple of ${t.fields.length} fields where ${width} were read`);
  return t.fields;
}

/** A key field's text form (what COPY text would carry) from its binary form; `type` is one of BINARY_KEY_TYPES. */
export function keyFieldText(type: string, b: Buffer): string {
  const need = type === 'int2' ? 2 : type === 'int4' ? 4 : type === 'int8' ? 8 : -1;
  if (need > 0 && b.length !== need) throw malformed(`a ${type} key field of ${b.length} bytes`);
  switch (type) {
    case 'int2':
      return String(b.readInt16BE(0));
    case 'int4':
      return String(b.readInt32BE(0));
    case 'int8':
      return b.readBigInt64BE(0).toString();
    case 'text':
    case 'varchar':
      return b.toString('utf8');
    default:
      throw new FerryError('RT002', `binary COPY page: cannot read a key of type ${type}`);
  }
}

/** One CopyData message carrying a binary COPY stream of `tuples` (header, the tuples, trailer). */
export function binaryPage(tuples: Buffer[]): Buffer[] {
  let len = HEADER.length + TRAILER.length;
  for (const t of tuples) len += t.length;
  const head = Buffer.allocUnsafe(5);
  head[0] = 0x64; // 'd'
  head.writeUInt32BE(4 + len, 1);
  return [head, HEADER, ...tuples, TRAILER];
}
