/**
 * StructReader for PostgreSQL: the neutral schema model (lib/core/struct.ts) from pg_catalog.
 *
 * Reads schemas, tables (comment), columns (type, nullability, default, collation, comment, serial /
 * identity, generated), primary key, unique constraints and indexes (partial and expression indexes, access
 * method, descending parts), foreign keys, CHECK constraints, the sequences the tables own plus free-standing
 * sequences of their schemas (with the value they would hand out next) and the enum types columns use.
 * Invariant: read-only; all lookups go by oid, so any name works.
 */
import { FerryError } from '../../core/errors.ts';
import type {
  SchemaModel, StructColumn, StructDefault, StructEnumType, StructForeignKey, StructIndex, StructReader, StructSequence, StructTable,
} from '../../core/struct.ts';
import { tableId, type TableRef } from '../../core/table.ts';
import type { PgPool } from './pool.ts';
import { familyOf, typmodInfo } from './type-map.ts';

const TABLE_SQL = `
SELECT c.oid::text, c.relname, obj_description(c.oid, 'pg_class')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`;

const COLUMNS_SQL = `
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull::text,
  (CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END)::text,
  (b.typcategory = 'A')::text, coalesce(e.typname, b.typname), coalesce(e.typtype, b.typtype)::text,
  (SELECT json_agg(l.enumlabel ORDER BY l.enumsortorder) FROM pg_enum l WHERE l.enumtypid = coalesce(e.oid, b.oid))::text,
  pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text, col_description(a.attrelid, a.attnum),
  CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN co.collname END,
  tn.nspname, coalesce(et.typname, t.typname), pg_get_serial_sequence(quote_ident($2) || '.' || quote_ident($3), a.attname)
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_type e ON b.typcategory = 'A' AND e.oid = b.typelem
LEFT JOIN pg_type et ON t.typcategory = 'A' AND et.oid = t.typelem
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`;

const cols = (arr: string, rel = 'c.conrelid') =>
  `(SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(${arr}) WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = ${rel} AND a.attnum = k.attnum)::text`;

const CONSTRAINTS_SQL = `
SELECT c.conname, c.contype::text, ${cols('c.conkey')}, pg_get_constraintdef(c.oid, true),
  rn.nspname, r.relname, ${cols('c.confkey', 'c.confrelid')}, c.confupdtype::text, c.confdeltype::text
FROM pg_constraint c
LEFT JOIN pg_class r ON r.oid = c.confrelid LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE c.conrelid = $1::oid AND c.contype IN ('p', 'u', 'f', 'c')
ORDER BY c.conname`;

const INDEXES_SQL = `
SELECT x.relname, i.indisunique::text, am.amname, pg_get_expr(i.indpred, i.indrelid, true),
  (SELECT json_agg(json_build_array(k.attnum, pg_get_indexdef(i.indexrelid, k.ord::int, true), (i.indoption[k.ord - 1] & 1) = 1) ORDER BY k.ord)
     FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord) WHERE k.ord <= i.indnkeyatts)::text,
  obj_description(x.oid, 'pg_class')
FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_am am ON am.oid = x.relam
WHERE i.indrelid = $1::oid AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
ORDER BY x.relname`;

const SEQUENCES_SQL = `
SELECT n.nspname, c.relname, s.seqstart::text, s.seqincrement::text, s.seqmin::text, s.seqmax::text, s.seqcycle::text,
  q.last_value::text, (SELECT rn.nspname || '.' || r.relname || '.' || a.attname FROM pg_depend d JOIN pg_class r ON r.oid = d.refobjid
    JOIN pg_namespace rn ON rn.oid = r.relnamespace JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1),
  (SELECT d.deptype::text FROM pg_depend d WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid
LEFT JOIN pg_sequences q ON q.schemaname = n.nspname AND q.sequencename = c.relname
WHERE c.relkind = 'S' AND n.nspname = ANY($1::text[])
ORDER BY n.nspname, c.relname`;

const RULES: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

/** `'abc'::text`, `42`, `now()`, `CURRENT_TIMESTAMP(3)`... as printed by pg_get_expr -> a {@link StructDefault}. */
export function parsePgDefault(expr: string | null): StructDefault | undefined {
  if (expr === null) return undefined;
  const s = expr.trim();
  const lit = /^'((?:[^']|'')*)'(?:::[\w\s".[\]()]+)?$/s.exec(s);
  if (lit) return { kind: 'literal', value: lit[1].replace(/''/g, "'") };
  const num = /^\(?(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\)?(?:::[\w\s]+)?$/i.exec(s);
  if (num) return { kind: 'literal', value: num[1] };
  if (/^(true|false)$/i.test(s)) return { kind: 'literal', value: s.toLowerCase() };
  if (/^(now\(\)|transaction_timestamp\(\)|CURRENT_TIMESTAMP|LOCALTIMESTAMP)$/i.test(s)) return { kind: 'current_timestamp' };
  const p = /^(?:CURRENT_TIMESTAMP|LOCALTIMESTAMP)\((\d+)\)$/i.exec(s);
  if (p) return { kind: 'current_timestamp', precision: Number(p[1]) };
  return { kind: 'expression', text: s };
}

const json = <T>(s: string | null): T | undefined => (s === null ? undefined : (JSON.parse(s) as T));

export class PgStructReader implements StructReader {
  constructor(private readonly pool: PgPool) {}

  async readSchema(tables: TableRef[], signal: AbortSignal = new AbortController().signal): Promise<SchemaModel> {
    const sorted = [...tables].sort((a, b) => (a.db === b.db ? (a.tb < b.tb ? -1 : 1) : a.db < b.db ? -1 : 1));
    const out: StructTable[] = [];
    const enums = new Map<string, StructEnumType>();
    for (const t of sorted) out.push(await this.readTable(t, enums, signal));
    const schemas = [...new Set(tables.map((t) => t.db))].sort();
    const seqRows = schemas.length ? await this.pool.query<Array<string | null>>({ text: SEQUENCES_SQL, values: [schemas] }, signal, 'read sequences') : [];
    const picked = new Set(out.map((t) => JSON.stringify([t.db, t.tb])));
    const sequences: StructSequence[] = [];
    for (const [db, name, start, inc, min, max, cycle, last, owner, deptype] of seqRows) {
      // Owned by a table of the task -> carried with it; owned by another table -> left out with that table.
      const ownerTable = owner ? out.find((t) => owner.startsWith(`${t.db}.${t.tb}.`) && t.columns.some((c) => owner === `${t.db}.${t.tb}.${c.name}`)) : undefined;
      if (owner && !ownerTable) continue;
      if (ownerTable && !picked.has(JSON.stringify([ownerTable.db, ownerTable.tb]))) continue;
      const next = last === null ? start! : (BigInt(last) + BigInt(inc!)).toString();
      const seq: StructSequence = { db: db!, tb: name!, start: start!, increment: inc!, min: min!, max: max!, cycle: cycle === 'true', nextValue: next };
      if (owner) seq.ownedBy = owner;
      if (deptype === 'i') {
        const col = ownerTable!.columns.find((c) => owner === `${ownerTable!.db}.${ownerTable!.tb}.${c.name}`);
        seq.identity = (col as StructColumn & { identityKind?: string })?.identityKind === 'a' ? 'always' : 'by_default';
      }
      sequences.push(seq);
    }
    for (const t of out) for (const c of t.columns) delete (c as StructColumn & { identityKind?: string }).identityKind;
    return {
      sourceDbType: 'pg',
      databases: schemas.map((name) => ({ name })),
      tables: out,
      sequences,
      enumTypes: [...enums.values()].sort((a, b) => tableId(a).localeCompare(tableId(b))),
    };
  }

  private async readTable(t: TableRef, enums: Map<string, StructEnumType>, signal: AbortSignal): Promise<StructTable> {
    const ctx = `source ${tableId(t)}`;
    const found = await this.pool.query<Array<string | null>>({ text: TABLE_SQL, values: [t.db, t.tb] }, signal, ctx);
    if (!found.length) throw new FerryError('MD001', `source table ${tableId(t)} does not exist`, { details: { table: tableId(t) } });
    const [oid, , comment] = found[0];
    const [colRows, conRows, idxRows] = await Promise.all([
      this.pool.query<Array<string | null>>({ text: COLUMNS_SQL, values: [oid, t.db, t.tb] }, signal, ctx),
      this.pool.query<Array<string | null>>({ text: CONSTRAINTS_SQL, values: [oid] }, signal, ctx),
      this.pool.query<Array<string | null>>({ text: INDEXES_SQL, values: [oid] }, signal, ctx),
    ]);
    const columns = colRows.map((r) => this.column(r, enums));
    const table: StructTable = { db: t.db, tb: t.tb, columns, indexes: [], foreignKeys: [], checks: [] };
    if (comment) table.comment = comment;
    for (const [name, type, keyJson, def, rdb, rtb, refJson, upd, del] of conRows) {
      const keys = json<string[]>(keyJson) ?? [];
      if (type === 'p') table.primaryKey = { name: name!, columns: keys };
      else if (type === 'u') table.indexes.push({ name: name!, unique: true, parts: keys.map((column) => ({ column })), constraint: true });
      else if (type === 'c') table.checks.push({ name: name!, expression: def!.replace(/^CHECK\s*/i, '').replace(/\s+NOT VALID$/i, '') });
      else if (type === 'f') {
        const fk: StructForeignKey = { name: name!, columns: keys, refDb: rdb!, refTb: rtb!, refColumns: json<string[]>(refJson) ?? [] };
        if (upd && upd !== 'a') fk.onUpdate = RULES[upd];
        if (del && del !== 'a') fk.onDelete = RULES[del];
        table.foreignKeys.push(fk);
      }
    }
    for (const [name, unique, method, pred, partsJson, cmt] of idxRows) {
      const parts = (json<Array<[number, string, boolean]>>(partsJson) ?? []).map(([attnum, text, desc]) => ({
        ...(attnum === 0 ? { expression: text } : { column: unquoteIdent(text) }),
        ...(desc ? { descending: true } : {}),
      }));
      const ix: StructIndex = { name: name!, unique: unique === 'true', parts, method: method! };
      if (pred) ix.where = pred;
      if (cmt) ix.comment = cmt;
      table.indexes.push(ix);
    }
    return table;
  }

  private column(r: Array<string | null>, enums: Map<string, StructEnumType>): StructColumn {
    const [name, native, notnull, typmod, isArray, base, typtype, members, dflt, identity, generated, comment, collation, typSchema, typName, serialSeq] = r;
    const arr = isArray === 'true';
    const c: StructColumn & { identityKind?: string } = {
      name: name!,
      nativeType: native!,
      family: familyOf(base!, typtype!, arr),
      nullable: notnull !== 'true',
      ...(arr ? {} : typmodInfo(base!, Number(typmod))),
      udtName: base!,
    };
    if (members) {
      c.members = JSON.parse(members) as string[];
      const key = `${typSchema}.${typName}`;
      if (!enums.has(key)) enums.set(key, { db: typSchema!, tb: typName!, labels: c.members });
    }
    if (identity) {
      c.autoIncrement = true;
      c.identityKind = identity;
    } else if (generated) {
      c.generated = { expression: (dflt ?? '').replace(/^\((.*)\)$/s, '$1'), stored: true };
    } else if (serialSeq && dflt && /^nextval\(/i.test(dflt)) {
      c.autoIncrement = true;
    } else {
      const d = parsePgDefault(dflt);
      if (d) c.default = d;
    }
    if (comment) c.comment = comment;
    if (collation) c.collation = collation;
    return c;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** pg_get_indexdef prints a column part as an identifier, quoted only when it needs quotes. */
export function unquoteIdent(s: string): string {
  return /^".*"$/s.test(s) ? s.slice(1, -1).replace(/""/g, '"') : s;
}
