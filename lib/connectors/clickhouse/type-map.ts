/**
 * Source column (neutral {@link ColumnMeta}) -> ClickHouse column type, after ape-dts's MySQL->ClickHouse and
 * PG->ClickHouse mapping, for the server's features. Conversions that can lose information come back as a
 * {@link StructFlag}; a family ferry does not know raises MD002 naming `db.tb.column` and the type.
 *
 * Choices (docs/connectors/clickhouse.md): ENUM -> String (Enum8/16 would refuse a member added at the source
 * later); date-times -> DateTime64(6, 'UTC') holding the source's wall clock (timestamptz converted to UTC);
 * unconstrained PostgreSQL numeric -> String (no Decimal holds any precision); Nullable only where the source
 * allows NULL and never for sorting-key columns.
 */
import { FerryError } from '../../core/errors.ts';
import type { StructFlag } from '../../core/struct.ts';
import type { ColumnMeta } from '../../core/table.ts';
import type { ServerFeatures } from './features.ts';

export interface MappedType {
  /** The type without Nullable. */
  type: string;
  flag?: Omit<StructFlag, 'object'>;
}

const INT_SIZES: Array<[RegExp, string]> = [
  [/^(tinyint|int1)\b/, '8'],
  [/^(smallint|int2|smallserial|serial2)\b/, '16'],
  [/^(mediumint|int3)\b/, '32'],
  [/^(int|integer|int4|serial|serial4|oid)\b/, '32'],
  [/^(bigint|int8|bigserial|serial8)\b/, '64'],
];

function intBits(c: ColumnMeta): string {
  const t = (c.udtName ?? c.nativeType).toLowerCase().trim();
  for (const [re, bits] of INT_SIZES) if (re.test(t)) return bits;
  return '64';
}

/** Maps one column; `object` is `db.tb.column` for flags and errors. */
export function mapType(c: ColumnMeta, f: ServerFeatures, object: string): MappedType {
  const flag = (to: string, reason: string): MappedType => ({ type: to, flag: { from: c.nativeType, to, reason } });
  const native = c.nativeType.toLowerCase();
  switch (c.family) {
    case 'int':
      return { type: `Int${intBits(c)}` };
    case 'uint':
      return { type: `UInt${intBits(c)}` };
    case 'decimal': {
      const p = c.precision;
      const s = c.scale ?? 0;
      if (!p) return flag('String', 'numeric without precision: kept exactly as text (no Decimal holds any precision)');
      if (p > f.maxDecimalPrecision) return flag('String', `precision ${p} above Decimal(${f.maxDecimalPrecision}): kept exactly as text`);
      return { type: `Decimal(${p}, ${s})` };
    }
    case 'float':
      // PostgreSQL real (float4), MySQL FLOAT: single precision; everything else double.
      return { type: c.udtName === 'float4' || (/^float\b/.test(native) && (c.precision ?? 24) <= 24) ? 'Float32' : 'Float64' };
    case 'bool':
      return f.bool ? { type: 'Bool' } : flag('UInt8', 'no Bool type before ClickHouse 21.12: 1 = true, 0 = false');
    case 'bit':
      if ((c.length ?? 64) <= 64) return flag('UInt64', 'BIT value kept as an unsigned integer; its width is lost');
      return flag('String', 'BIT wider than 64: kept as a string of 0/1 digits');
    case 'year':
      return { type: 'Int32' };
    case 'date':
      return f.date32 ? { type: 'Date32' } : flag('Date', 'Date holds 1970-01-01..2149-06-06 only before ClickHouse 21.9 (Date32)');
    case 'datetime':
    case 'timestamptz': {
      const zone = c.family === 'timestamptz' ? 'stored as UTC wall clock' : 'wall clock kept';
      if (!f.dateTime64) return flag("DateTime('UTC')", `no DateTime64 before ClickHouse 20.1: fractional seconds dropped, 1970..2106 only; ${zone}`);
      return c.family === 'timestamptz' ? flag("DateTime64(6, 'UTC')", 'time zone offset dropped: stored as UTC') : { type: "DateTime64(6, 'UTC')" };
    }
    case 'time':
      return flag('String', 'TIME kept as text (ClickHouse has no time-of-day type ferry relies on)');
    case 'set':
      return flag('String', 'SET kept as comma-separated text; member checks lost');
    case 'enum':
      return { type: 'String' };
    case 'uuid':
      return { type: 'UUID' };
    case 'string':
    case 'json':
    case 'inet':
    case 'interval':
      return { type: 'String' };
    case 'binary':
      return { type: 'String' };
    case 'array':
      return flag('String', 'array kept in PostgreSQL text form');
    case 'geometry':
      return flag('String', 'geometry kept as WKB bytes');
    case 'other':
      return flag('String', `${c.nativeType} kept as text`);
    default:
      throw new FerryError('MD002', `${object}: type ${c.nativeType} (${String(c.family)}) cannot be carried to ClickHouse`, {
        details: { object, type: c.nativeType },
      });
  }
}
