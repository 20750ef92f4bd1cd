import type { TableMapEntry } from '@vlasky/zongji';
import { TextDecoder } from 'node:util';
import type { ColumnMeta } from '../../core/table.ts';
import type { Value } from '../../core/values.ts';
import { bitString, columnMetaOf, float32Value, intValue } from './type-map.ts';

/** MySQL binlog column type codes (field_types.h) that decoding cares about. */
export const BinlogType = {
  FLOAT: 4,
  LONGLONG: 8,
  YEAR: 13,
  VARCHAR: 15,
  BIT: 16,
  BLOB_COMPRESSED: 140,
  VARCHAR_COMPRESSED: 141,
  JSON: 245,
  ENUM: 247,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
  GEOMETRY: 255,
} as const;

const STRINGS = new Set<number>([BinlogType.VARCHAR, BinlogType.VAR_STRING, BinlogType.STRING, BinlogType.VARCHAR_COMPRESSED]);
const BLOBS = new Set<number>([BinlogType.TINY_BLOB, BinlogType.MEDIUM_BLOB, BinlogType.LONG_BLOB, BinlogType.BLOB, BinlogType.BLOB_COMPRESSED]);

/** What the binlog said about a table's columns before ferry adjusted zongji's table map. */
export interface BinlogColumns {
  names: string[];
  types: number[];
  /** zongji's COLUMN_TYPE text built from the binlog metadata (`decimal(65,30)`, `bigint unsigned`, `point`). */
  nativeTypes: string[];
}

const PREPARED = Symbol('ferry.binlogColumns');
type Prepared = TableMapEntry & { [PREPARED]?: BinlogColumns };

/**
 * Makes zongji hand over raw bytes for every character and binary column, and MySQL's own bytes (SRID + WKB)
 * for geometries, by adjusting the table map entry it decodes rows with. Called synchronously when the
 * TABLE_MAP event arrives, before any row of that map is decoded. Why:
 * - zongji 0.9 mis-assigns column charsets from MariaDB's FULL metadata when a GEOMETRY column precedes
 *   character columns (MariaDB counts it among them): a BINARY(4) came back as text, a JSON column as a
 *   Buffer. Bytes are decoded here instead, in the charset information_schema reports.
 * - BINARY(n) loses its trailing zero bytes in the row image; zongji pads them back only for columns it
 *   believes binary. Padding is redone here from the column's declared length.
 * - zongji parses geometries into {x, y} objects; the snapshot reads the internal bytes.
 */
export function prepareTableMap(entry: TableMapEntry): BinlogColumns {
  const e = entry as Prepared;
  if (e[PREPARED]) return e[PREPARED];
  const cols = entry.columns ?? [];
  const info: BinlogColumns = {
    names: cols.map((c) => c.name),
    types: cols.map((c) => c.type),
    nativeTypes: entry.columnSchemas.map((s) => s.COLUMN_TYPE),
  };
  cols.forEach((c, i) => {
    if (STRINGS.has(c.type)) entry.columnSchemas[i] = { ...entry.columnSchemas[i], COLUMN_TYPE: 'varbinary' };
    else if (BLOBS.has(c.type)) c.charset = null;
    else if (c.type === BinlogType.GEOMETRY) {
      c.type = BinlogType.BLOB;
      c.charset = null;
    }
  });
  e[PREPARED] = info;
  return info;
}

/** A ColumnMeta from the binlog alone, for a column information_schema no longer has (dropped since). */
export function columnFromBinlog(name: string, nativeType: string): ColumnMeta {
  const dataType = /^[a-z]+/i.exec(nativeType)?.[0] ?? 'other';
  const m = /\((\d+)(?:,(\d+))?\)/.exec(nativeType);
  return columnMetaOf({
    name,
    dataType,
    columnType: nativeType,
    nullable: 'YES',
    charLength: m ? Number(m[1]) : null,
    numPrecision: m ? Number(m[1]) : null,
    numScale: m?.[2] ? Number(m[2]) : null,
    fsp: m ? Number(m[1]) : null,
  });
}

// ---- text ---------------------------------------------------------------------------------------------

/** MySQL character set -> WHATWG encoding label (TextDecoder); utf8* decode with Buffer directly. */
const ENCODINGS: Record<string, string> = {
  latin1: 'windows-1252',
  ascii: 'windows-1252',
  cp1250: 'windows-1250',
  cp1251: 'windows-1251',
  cp1256: 'windows-1256',
  cp1257: 'windows-1257',
  latin2: 'iso-8859-2',
  latin5: 'iso-8859-9',
  latin7: 'iso-8859-13',
  greek: 'iso-8859-7',
  hebrew: 'iso-8859-8',
  koi8r: 'koi8-r',
  koi8u: 'koi8-u',
  cp866: 'ibm866',
  macroman: 'macintosh',
  tis620: 'windows-874',
  gbk: 'gbk',
  gb2312: 'gbk',
  gb18030: 'gb18030',
  big5: 'big5',
  sjis: 'shift_jis',
  cp932: 'shift_jis',
  ujis: 'euc-jp',
  eucjpms: 'euc-jp',
  euckr: 'euc-kr',
  ucs2: 'utf-16be',
  utf16: 'utf-16be',
  utf16le: 'utf-16le',
};

const decoders = new Map<string, TextDecoder>();

/** A text decoder for a MySQL charset (null: utf8 / unknown -> UTF-8). */
export function textDecoder(charset: string | null | undefined): (b: Buffer) => string {
  const cs = (charset ?? '').toLowerCase();
  if (cs === 'utf32') return utf32;
  const label = ENCODINGS[cs];
  if (!label) return (b) => b.toString('utf8');
  let d = decoders.get(label);
  if (!d) {
    try {
      d = new TextDecoder(label, { ignoreBOM: true });
    } catch {
      return (b) => b.toString('utf8');
    }
    decoders.set(label, d);
  }
  const dec = d;
  return (b) => dec.decode(b);
}

function utf32(b: Buffer): string {
  let s = '';
  for (let i = 0; i + 3 < b.length; i += 4) s += String.fromCodePoint(b.readUInt32BE(i));
  return s;
}

// ---- values -------------------------------------------------------------------------------------------

const pad = (b: Buffer, n: number | undefined): Buffer => (n && b.length < n ? Buffer.concat([b, Buffer.alloc(n - b.length)]) : b);

export const formatUuid = (b: Buffer): string => {
  const h = pad(b, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

/** INET4 dotted quad / INET6 in the server's RFC 5952 text (mapped and compatible IPv4 in dotted form). */
export function formatInet(b: Buffer, v6: boolean): string {
  if (!v6) return [...pad(b, 4).subarray(0, 4)].join('.');
  const a = pad(b, 16);
  if (a.subarray(0, 10).every((x) => x === 0)) {
    const q = [...a.subarray(12)].join('.');
    if (a[10] === 0xff && a[11] === 0xff) return `::ffff:${q}`;
    if (a[10] === 0 && a[11] === 0 && a.readUInt32BE(12) > 1) return `::${q}`;
  }
  const g = Array.from({ length: 8 }, (_, i) => a.readUInt16BE(i * 2));
  let best = -1;
  let len = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > len) [best, len] = [i, j - i];
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + len))}`;
}

export type Converter = (v: unknown) => Value;

/**
 * The converter from what zongji decoded (after {@link prepareTableMap}) to the canonical value the snapshot
 * source reads for the same column (type-map.ts). `col` is the column as information_schema describes it;
 * `binlogType` what the binlog says; `charset` the column's character set.
 */
export function converterFor(col: ColumnMeta, binlogType: number, charset: string | null): Converter {
  const nul = (f: Converter): Converter => (v) => (v === null || v === undefined ? null : f(v));
  switch (binlogType) {
    case BinlogType.LONGLONG:
      return nul((v) => (typeof v === 'string' ? intValue(v) : (v as number)));
    case BinlogType.FLOAT:
      return nul((v) => float32Value(v as number));
    case BinlogType.YEAR:
      // zongji adds 1900 to the stored byte; YEAR 0000 is stored as 0.
      return nul((v) => ((v as number) === 1900 ? 0 : (v as number)));
    case BinlogType.BIT:
      return nul((v) => bitString(v as Buffer, col.family === 'bit' ? (col.length ?? 0) : 0));
    case BinlogType.ENUM:
      // An invalid ENUM value (stored index 0) is '' as the server shows it; zongji yields undefined.
      return (v) => (v === null ? null : v === undefined ? '' : (v as string));
    default:
      break;
  }
  if (STRINGS.has(binlogType) || BLOBS.has(binlogType) || binlogType === BinlogType.GEOMETRY) return nul(bytesConverter(col, charset));
  return (v) => (v === undefined ? null : (v as Value));
}

function bytesConverter(col: ColumnMeta, charset: string | null): Converter {
  switch (col.family) {
    case 'binary':
      return /^binary\(/i.test(col.nativeType) ? (v) => pad(v as Buffer, col.length) : (v) => v as Buffer;
    case 'geometry':
      return (v) => v as Buffer;
    case 'uuid':
      return (v) => formatUuid(v as Buffer);
    case 'inet':
      return (v) => formatInet(v as Buffer, /6/.test(col.nativeType));
    default: {
      const text = textDecoder(charset);
      return (v) => (Buffer.isBuffer(v) ? text(v) : (v as Value));
    }
  }
}
