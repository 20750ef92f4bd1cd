import { FerryError } from '../../core/errors.ts';
import type { TableRef } from '../../core/table.ts';
import { tableId } from '../../core/table.ts';
import type { PgPool } from './pool.ts';
import { familyOf, typmodInfo, type PgColumn } from './type-map.ts';

/** A unique index usable as a key: non-partial, no expressions, valid. */
export interface PgUniqueIndex {
  name: string;
  columns: string[];
  primary: boolean;
  /** Not DEFERRABLE: only these can arbitrate ON CONFLICT. */
  immediate: boolean;
}

export interface PgTableShape {
  ref: TableRef;
  oid: string;
  relkind: string;
  columns: PgColumn[];
  uniques: PgUniqueIndex[];
  estimatedRows: number;
}

// All catalog reads go through pg_catalog with the table's oid: quoting-proof for any name and cheap.
const TABLE_SQL = `
SELECT c.oid::text, c.relkind::text,
  CASE WHEN c.relkind = 'p' THEN coalesce((
    SELECT sum(greatest(k.reltuples, 0)) FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid WHERE i.inhparent = c.oid), 0)
  ELSE greatest(c.reltuples, 0) END::bigint::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'f', 'm', 'v')`;

const COLUMNS_SQL = `
SELECT a.attnum::text, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull::text,
  (CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END)::text,
  (a.attgenerated <> '')::text,
  (b.typcategory = 'A')::text,
  coalesce(e.typname, b.typname),
  coalesce(e.typtype, b.typtype)::text,
  (SELECT json_agg(l.enumlabel ORDER BY l.enumsortorder) FROM pg_enum l WHERE l.enumtypid = coalesce(e.oid, b.oid))::text,
  coalesce(e.oid, b.oid)::text
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_type e ON b.typcategory = 'A' AND e.oid = b.typelem
WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`;

const UNIQUES_SQL = `
SELECT x.relname, i.indisprimary::text, i.indimmediate::text,
  (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE k.ord <= i.indnkeyatts)::text
FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
WHERE i.indrelid = $1::oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
ORDER BY x.relname`;

/** Reads a table's columns and unique indexes; MD001 naming `schema.table` when it does not exist. */
export async function readTableShape(pool: PgPool, ref: TableRef, signal: AbortSignal, role = 'source'): Promise<PgTableShape> {
  const ctx = `${role} ${tableId(ref)}`;
  const t = await pool.query<string[]>({ text: TABLE_SQL, values: [ref.db, ref.tb] }, signal, ctx);
  if (!t.length) {
    throw new FerryError('MD001', `${role} table ${tableId(ref)} does not exist in ${pool.target.label}`, {
      details: { table: tableId(ref) },
    });
  }
  const [oid, relkind, rows] = t[0];
  const [cols, idx] = await Promise.all([
    pool.query<string[]>({ text: COLUMNS_SQL, values: [oid] }, signal, ctx),
    pool.query<string[]>({ text: UNIQUES_SQL, values: [oid] }, signal, ctx),
  ]);
  const columns = cols.map(([attnum, name, native, notnull, typmod, generated, isArray, base, typtype, members, baseOid]): PgColumn => {
    const arr = isArray === 'true';
    const mod = Number(typmod);
    return {
      name,
      nativeType: native,
      family: familyOf(base, typtype, arr),
      nullable: notnull !== 'true',
      ...(arr ? {} : typmodInfo(base, mod)),
      ...(members ? { members: JSON.parse(members) as string[] } : {}),
      udtName: base,
      attnum: Number(attnum),
      baseType: base,
      baseOid: Number(baseOid),
      isArray: arr,
      typmod: mod,
      generated: generated === 'true',
    };
  });
  const uniques = idx.map(([name, primary, immediate, colsJson]) => ({
    name,
    primary: primary === 'true',
    immediate: immediate === 'true',
    columns: JSON.parse(colsJson ?? '[]') as string[],
  }));
  return { ref, oid, relkind, columns, uniques, estimatedRows: Number(rows) };
}
