import type { ColumnMeta } from '../../core/table.ts';
import type { PgPool } from './pool.ts';
import { familyOf, typmodInfo } from './type-map.ts';

/** What a type OID means for decoding, resolved the way catalog.ts resolves table columns. */
export interface PgTypeInfo {
  /** pg_type name after unwrapping a domain; for arrays, of the element. */
  base: string;
  baseTyptype: string;
  isArray: boolean;
  /** A domain's own typmod (it wins over the column's, as in catalog.ts); null for non-domains. */
  domainTypmod: number | null;
}

// The same unwrapping as catalog.ts COLUMNS_SQL (one domain level, arrays by element), keyed by type oid.
const TYPES_SQL = `
SELECT t.oid::text,
  CASE WHEN t.typtype = 'd' THEN t.typtypmod::text END,
  (b.typcategory = 'A')::text,
  coalesce(e.typname, b.typname),
  coalesce(e.typtype, b.typtype)::text
FROM pg_type t
JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_type e ON b.typcategory = 'A' AND e.oid = b.typelem
WHERE t.oid = ANY($1::oid[])`;

/**
 * Type OIDs of pgoutput Relation messages -> the ColumnMeta the snapshot source would build for the same
 * column, so CDC values go through the very decoders snapshot values do. Cached per OID (types do not change
 * meaning under an OID); one catalog query per batch of unknown OIDs.
 */
export class PgTypeResolver {
  private readonly cache = new Map<number, PgTypeInfo>();

  constructor(private readonly pool: PgPool) {}

  async resolve(oids: number[], signal: AbortSignal): Promise<void> {
    const missing = [...new Set(oids.filter((o) => !this.cache.has(o)))];
    if (!missing.length) return;
    const rows = await this.pool.query<Array<string | null>>({ text: TYPES_SQL, values: [`{${missing.join(',')}}`] }, signal, 'cdc type lookup');
    for (const [oid, domainMod, isArray, base, typtype] of rows) {
      this.cache.set(Number(oid), { base: base!, baseTyptype: typtype!, isArray: isArray === 'true', domainTypmod: domainMod === null ? null : Number(domainMod) });
    }
    // A type dropped since the change was written: decode its text as is rather than stop the stream.
    for (const o of missing) if (!this.cache.has(o)) this.cache.set(o, { base: `oid ${o}`, baseTyptype: 'b', isArray: false, domainTypmod: null });
  }

  /** ColumnMeta for a column of a Relation message; `resolve` must have seen `typeOid`. */
  columnMeta(name: string, typeOid: number, typeMod: number): ColumnMeta {
    const t = this.cache.get(typeOid);
    if (!t) throw new Error(`type ${typeOid} not resolved`);
    const mod = t.domainTypmod ?? typeMod;
    return {
      name,
      nativeType: t.isArray ? `${t.base}[]` : t.base,
      family: familyOf(t.base, t.baseTyptype, t.isArray),
      nullable: true,
      ...(t.isArray ? {} : typmodInfo(t.base, mod)),
      udtName: t.base,
    };
  }
}
