/**
 * Canonical rows -> the JSON array body of a Stream Load (`format: json`, `strip_outer_array: true`), cut
 * into bodies of at most `maxBytes` (a single row larger than that travels alone).
 *
 * Invariants:
 * - Precision is kept: DECIMAL and BIGINT travel as JSON number tokens written from their text, never through
 *   a JS double; DATETIME keeps its fractional digits; TIMESTAMPTZ values are converted to UTC text.
 * - A value the target cannot receive over JSON (NaN, infinities, bytes that are not UTF-8) raises
 *   {@link ValueError}; callers turn it into IN001 naming table, column and key.
 * - Object keys are target column names; `opColumn` (when given) carries 0 (upsert) or 1 (delete).
 */
import type { Row, TypeFamily, Value } from '../../core/values.ts';

/** A written column: row field `name`, target column `column`, the source family, the target's type name (lower case). */
export interface LoadColumn {
  name: string;
  column: string;
  from: TypeFamily;
  targetType: string;
}

export class ValueError extends Error {
  constructor(
    readonly column: string,
    readonly reason: string,
  ) {
    super(`${column}: ${reason}`);
  }
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const bigintSafe = (_k: string, x: unknown) => (typeof x === 'bigint' ? x.toString() : x);

/** `YYYY-MM-DD HH:MM:SS[.f]+HH:MM` (or Z) -> the same instant as UTC text, fractional digits kept. */
export function utcText(column: string, v: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(v.trim());
  if (!m) throw new ValueError(column, `"${v.slice(0, 40)}" is not a timestamp with time zone`);
  const [, d, t, frac = '', zone] = m;
  if (!zone || /^z$/i.test(zone) || /^[+-]00(:?00)?$/.test(zone)) return `${d} ${t}${frac}`;
  const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
  const offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? 0));
  const ms = Date.parse(`${d}T${t}Z`);
  if (Number.isNaN(ms)) throw new ValueError(column, `"${v.slice(0, 40)}" is not a valid timestamp`);
  const iso = new Date(ms - offsetMin * 60_000).toISOString(); // 2024-01-01T10:00:00.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac}`;
}

/** One value as a JSON token for a column. */
export function jsonToken(c: LoadColumn, v: Value | undefined): string {
  if (v === null || v === undefined) return 'null';
  const jsonTarget = c.targetType === 'json' || c.targetType === 'jsonb';
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) throw new ValueError(c.column, `${v} cannot be stored (no NaN/Infinity over Stream Load)`);
      return JSON.stringify(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return c.targetType === 'boolean' || jsonTarget ? String(v) : v ? '1' : '0';
    case 'string':
      return stringToken(c, v, jsonTarget);
    default:
      break;
  }
  if (Buffer.isBuffer(v)) {
    try {
      return JSON.stringify(utf8.decode(v));
    } catch {
      throw new ValueError(c.column, 'binary value is not UTF-8 text and cannot travel in a JSON Stream Load');
    }
  }
  const text = JSON.stringify(v, bigintSafe);
  return jsonTarget ? text : JSON.stringify(text);
}

function stringToken(c: LoadColumn, v: string, jsonTarget: boolean): string {
  switch (c.from) {
    case 'decimal':
    case 'int':
    case 'uint':
    case 'float':
      if (NUMBER.test(v)) return numberToken(v);
      throw new ValueError(c.column, `"${v.slice(0, 40)}" cannot be stored as a number`);
    case 'bit':
      if (/^[01]+$/.test(v)) return BigInt('0b' + v).toString();
      throw new ValueError(c.column, `"${v.slice(0, 40)}" is not a bit string`);
    case 'timestamptz':
      return JSON.stringify(utcText(c.column, v));
    case 'json':
      if (jsonTarget) {
        try {
          JSON.parse(v);
        } catch {
          throw new ValueError(c.column, 'not valid JSON text');
        }
        return v;
      }
      return JSON.stringify(v);
    default:
      return JSON.stringify(v);
  }
}

/** A JSON number token from decimal text, digits untouched: `007.50` -> `7.50`, `-.5` -> `-0.5`, `1.` -> `1`. */
export function numberToken(v: string): string {
  const m = /^(-?)(\d*)(\.\d*)?([eE][+-]?\d+)?$/.exec(v)!;
  const int = m[2].replace(/^0+(?=\d)/, '') || '0';
  const frac = m[3] && m[3].length > 1 ? m[3] : '';
  return `${m[1]}${int}${frac}${m[4] ?? ''}`;
}

/** One row as a JSON object: every column in order, then `opColumn: op` when given. */
export function rowObject(cols: LoadColumn[], row: Row, op?: { column: string; value: 0 | 1 }): string {
  let out = '{';
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i];
    if (i) out += ',';
    out += JSON.stringify(c.column) + ':' + jsonToken(c, row[c.name] as Value | undefined);
  }
  if (op) out += (cols.length ? ',' : '') + JSON.stringify(op.column) + ':' + op.value;
  return out + '}';
}

export interface Body {
  body: Buffer;
  /** Index range of the rows it carries, in the caller's order: [from, to). */
  from: number;
  to: number;
}

/**
 * Joins row objects into bodies of at most `maxBytes` (`[obj,obj,...]`). `encode(i)` returns row i's object
 * text, and may throw (ValueError) for the caller to name the row.
 */
export function buildBodies(count: number, encode: (i: number) => string, maxBytes: number): Body[] {
  const out: Body[] = [];
  let parts: string[] = [];
  let size = 2;
  let from = 0;
  for (let i = 0; i < count; i++) {
    const obj = encode(i);
    const n = Buffer.byteLength(obj) + 1;
    if (parts.length && size + n > maxBytes) {
      out.push({ body: Buffer.from('[' + parts.join(',') + ']'), from, to: i });
      parts = [];
      size = 2;
      from = i;
    }
    parts.push(obj);
    size += n;
  }
  if (parts.length) out.push({ body: Buffer.from('[' + parts.join(',') + ']'), from, to: count });
  return out;
}
