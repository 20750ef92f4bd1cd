/**
 * A neutral column -> TiDB (MySQL dialect) column type. Between MySQL-family engines the source's own type
 * text is kept; from other engines (PostgreSQL) the type comes from the family, flagged where lossy.
 * TiDB has no spatial types: geometry is MD002.
 */
import { FerryError } from '../../core/errors.ts';
import type { ColumnMeta } from '../../core/table.ts';

export interface TidbType {
  sql: string;
  lossy?: string;
}

const q = (s: string): string => "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "''") + "'";

export function tidbType(c: ColumnMeta, where: string, sameEngine: boolean): TidbType {
  const native = c.nativeType.toLowerCase();
  if (c.family === 'geometry' || /^(geometry|point|linestring|polygon|multi\w+|geometrycollection|geography)\b/.test(native)) {
    throw new FerryError('MD002', `${where}: ${c.nativeType} cannot be carried to TiDB (no spatial types)`, { details: { column: where, type: c.nativeType } });
  }
  if (sameEngine) return { sql: c.nativeType };
  switch (c.family) {
    case 'int':
      return { sql: /smallint|int2\b|smallserial/.test(native) ? 'SMALLINT' : /bigint|int8\b|bigserial/.test(native) ? 'BIGINT' : 'INT' };
    case 'uint':
      return { sql: 'BIGINT UNSIGNED' };
    case 'decimal':
      if (!c.precision) return { sql: 'LONGTEXT', lossy: 'unconstrained NUMERIC kept exactly as text' };
      if (c.precision > 65) return { sql: `DECIMAL(65, ${Math.min(c.scale ?? 0, 30)})`, lossy: `precision ${c.precision} above 65` };
      return { sql: `DECIMAL(${c.precision}, ${Math.min(c.scale ?? 0, 30)})`, lossy: (c.scale ?? 0) > 30 ? 'scale above 30 rounded' : undefined };
    case 'float':
      return { sql: /real|float4/.test(native) ? 'FLOAT' : 'DOUBLE' };
    case 'bool':
      return { sql: 'TINYINT(1)' };
    case 'bit':
      return (c.length ?? 1) <= 64 ? { sql: `BIT(${c.length ?? 1})` } : { sql: 'LONGTEXT', lossy: `bit width ${c.length} above 64 kept as text` };
    case 'string':
      return { sql: c.length && c.length <= 16383 ? `VARCHAR(${c.length})` : 'LONGTEXT' };
    case 'enum':
      return c.members?.length ? { sql: `ENUM(${c.members.map(q).join(', ')})` } : { sql: 'VARCHAR(255)', lossy: 'enum without members kept as text' };
    case 'set':
      return c.members?.length ? { sql: `SET(${c.members.map(q).join(', ')})` } : { sql: 'LONGTEXT', lossy: 'set without members kept as text' };
    case 'uuid':
      return { sql: 'CHAR(36)' };
    case 'inet':
      return { sql: 'VARCHAR(64)' };
    case 'binary':
      return { sql: c.length && c.length <= 65535 ? `VARBINARY(${c.length})` : 'LONGBLOB' };
    case 'json':
      return { sql: 'JSON' };
    case 'date':
      return { sql: 'DATE' };
    case 'time':
      return { sql: `TIME(${Math.min(c.precision ?? 0, 6)})` };
    case 'datetime':
      return { sql: `DATETIME(${Math.min(c.precision ?? 0, 6)})` };
    case 'timestamptz':
      return { sql: `DATETIME(${Math.min(c.precision ?? 0, 6)})`, lossy: 'time zone dropped: values stored as UTC' };
    case 'year':
      return { sql: 'YEAR' };
    default:
      return { sql: 'LONGTEXT', lossy: `${c.nativeType} kept as its text form` };
  }
}
