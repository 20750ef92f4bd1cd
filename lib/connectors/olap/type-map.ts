/**
 * Source column (engine-neutral ColumnMeta) -> StarRocks / Doris column type, after ape-dts's MySQL ->
 * StarRocks table (docs/connectors/starrocks.md lists it), with every lossy step flagged.
 *
 * Invariants: a type that loses information yields a flag (reason in words); a type that cannot be carried at
 * all (geometry) throws MD002 naming `db.tb.column` and the source type; key columns get a type both
 * engines accept in a key, or MD002.
 */
import { FerryError } from '../../core/errors.ts';
import type { ColumnMeta } from '../../core/table.ts';
import type { OlapDialect } from './dialect.ts';

export interface MappedType {
  sql: string;
  /** Why the mapping loses something, when it does. */
  lossy?: string;
}

const BYTES_PER_CHAR = 4; // utf8mb4: both engines size VARCHAR in bytes

function intType(native: string): string {
  if (/tinyint|int1\b/.test(native)) return 'TINYINT';
  if (/smallint|int2\b|smallserial/.test(native)) return 'SMALLINT';
  if (/bigint|int8\b|bigserial/.test(native)) return 'BIGINT';
  return 'INT';
}

function uintType(native: string): string {
  if (/tinyint/.test(native)) return 'SMALLINT';
  if (/smallint/.test(native)) return 'INT';
  if (/bigint/.test(native)) return 'LARGEINT';
  return 'BIGINT'; // int / mediumint unsigned
}

function text(d: OlapDialect, chars: number | undefined): string {
  if (!chars) return 'STRING';
  const bytes = chars * BYTES_PER_CHAR;
  return bytes <= d.ddl.maxVarchar ? `VARCHAR(${bytes})` : 'STRING';
}

/** Maps one column; `key` for a key column (both engines refuse STRING, JSON, floats... there). */
export function mapType(d: OlapDialect, c: ColumnMeta, where: string, key: boolean): MappedType {
  const native = c.nativeType.toLowerCase();
  const m = mapValueType(d, c, native, where);
  if (!key) return m;
  if (/^(STRING|JSON|FLOAT|DOUBLE|VARBINARY)/.test(m.sql)) {
    if (m.sql === 'STRING') return { sql: `VARCHAR(${Math.min(d.ddl.maxVarchar, 65533)})`, lossy: joinReasons(m.lossy, 'key column: unbounded text kept as the longest VARCHAR a key allows') };
    throw new FerryError('MD002', `${where}: ${c.nativeType} cannot be a ${d.title} key column (mapped to ${m.sql})`, { details: { column: where, type: c.nativeType } });
  }
  if (m.sql.startsWith('DECIMAL') && !d.ddl.decimalKey) {
    const p = c.precision ?? 38;
    return { sql: `VARCHAR(${p + 2})`, lossy: joinReasons(m.lossy, `${d.title} primary keys take no DECIMAL: key kept as its decimal text`) };
  }
  return m;
}

const joinReasons = (a: string | undefined, b: string): string => (a ? `${a}; ${b}` : b);

function mapValueType(d: OlapDialect, c: ColumnMeta, native: string, where: string): MappedType {
  switch (c.family) {
    case 'int':
      return { sql: intType(native) };
    case 'uint':
      return { sql: uintType(native) };
    case 'decimal': {
      if (c.precision === undefined || c.precision === 0) return { sql: 'STRING', lossy: 'unconstrained NUMERIC kept exactly as text (no numeric type without a precision)' };
      const s = c.scale ?? 0;
      if (c.precision <= 38) return { sql: `DECIMAL(${c.precision}, ${s})` };
      const scale = Math.min(s, 38);
      return { sql: `DECIMAL(38, ${scale})`, lossy: `precision ${c.precision} above 38: values with more than ${38 - scale} integer digits will not load` };
    }
    case 'float':
      return { sql: /double|float8|real\b.*8|double precision/.test(native) || (c.precision ?? 0) > 24 ? 'DOUBLE' : 'FLOAT' };
    case 'bool':
      return { sql: 'BOOLEAN' };
    case 'bit':
      return { sql: (c.length ?? 64) > 63 ? 'LARGEINT' : 'BIGINT' };
    case 'string':
    case 'uuid':
    case 'inet':
      if (c.family === 'uuid') return { sql: 'VARCHAR(36)' };
      if (c.family === 'inet') return { sql: 'VARCHAR(64)' };
      return { sql: /text|clob/.test(native) ? 'STRING' : text(d, c.length) };
    case 'enum':
    case 'set': {
      const members = c.members ?? [];
      const chars = c.family === 'enum' ? Math.max(1, ...members.map((m) => m.length)) : Math.max(1, members.reduce((n, m) => n + m.length + 1, 0));
      return { sql: text(d, chars), lossy: `${c.family.toUpperCase()} kept as text: the member list is not enforced` };
    }
    case 'binary':
      if (d.ddl.varbinary) return { sql: 'VARBINARY', lossy: 'bytes travel as UTF-8 text in JSON Stream Load: values that are not UTF-8 are refused (IN001)' };
      return { sql: 'STRING', lossy: 'no binary type: bytes kept as UTF-8 text; values that are not UTF-8 are refused (IN001)' };
    case 'json':
      return { sql: 'JSON' };
    case 'date':
      return { sql: 'DATE' };
    case 'time':
      return { sql: 'VARCHAR(32)', lossy: 'no TIME type: kept as text' };
    case 'datetime':
    case 'timestamptz': {
      const p = c.precision ?? 0;
      const zone = c.family === 'timestamptz' ? 'time zone dropped: values stored as UTC' : undefined;
      if (d.ddl.datetimePrecision) return { sql: p > 0 ? `DATETIME(${Math.min(p, 6)})` : 'DATETIME', lossy: zone };
      const frac = p > 0 ? `fractional seconds (${p} digits) kept only by ${d.title} versions whose DATETIME stores microseconds` : undefined;
      return { sql: 'DATETIME', lossy: frac && zone ? `${zone}; ${frac}` : (frac ?? zone) };
    }
    case 'year':
      return { sql: 'INT' };
    case 'interval':
    case 'array':
      return { sql: 'STRING', lossy: `${c.nativeType} kept as its text form` };
    case 'geometry':
      throw new FerryError('MD002', `${where}: ${c.nativeType} (geometry) cannot be carried to ${d.title}`, { details: { column: where, type: c.nativeType } });
    default:
      if (/geometry|geography|point|polygon|linestring/.test(native)) {
        throw new FerryError('MD002', `${where}: ${c.nativeType} (geometry) cannot be carried to ${d.title}`, { details: { column: where, type: c.nativeType } });
      }
      return { sql: 'STRING', lossy: `${c.nativeType} kept as its text form` };
  }
}
