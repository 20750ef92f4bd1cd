/**
 * Structure migration into TiDB: SchemaModel -> MySQL-dialect DDL with TiDB's differences, pure.
 *
 * - One statement per change (TiDB before 6.2 refuses several schema changes in one ALTER): CREATE TABLE
 *   with the primary key (clustered, as TiDB's own SHOW CREATE writes it), then one ALTER TABLE per
 *   secondary index and per foreign key, after the data.
 * - FULLTEXT / SPATIAL indexes and spatial columns do not exist in TiDB: indexes are flagged and skipped,
 *   columns are MD002. Index prefixes beyond TiDB's 3072-byte key limit are cut to fit (flagged).
 * - Foreign keys are created; TiDB enforces them only from 6.6 (flagged). CHECK constraints are flagged and
 *   skipped (enforced only from 7.2 behind tidb_enable_check_constraint).
 *
 * Folding onto a shared MySQL writer later: this file differs from a MySQL planner only in the rules above;
 * they can become options (`indexMethods`, `maxIndexBytes`, `clusteredPk`, `checks`) of that writer.
 */
import type { DdlPlan, DdlStatement, SchemaModel, StructColumn, StructFlag, StructIndex, StructTable } from '../../core/struct.ts';
import { tidbType } from './mysql-type.ts';

const quoteIdent = (name: string): string => '`' + name.replace(/`/g, '``') + '`';
const quoteTable = (t: { db: string; tb: string }): string => `${quoteIdent(t.db)}.${quoteIdent(t.tb)}`;
const lit = (s: string): string => "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "''") + "'";

/** TiDB's max-index-length default (bytes); utf8mb4 counts 4 bytes a character. */
export const TIDB_MAX_INDEX_BYTES = 3072;

export function planTidbDdl(model: SchemaModel): DdlPlan {
  const same = model.sourceDbType === 'mysql' || model.sourceDbType === 'tidb';
  const statements: DdlStatement[] = [];
  const flags: StructFlag[] = [];
  const dbs = new Map(model.databases.map((d) => [d.name, d]));
  for (const t of model.tables) if (!dbs.has(t.db)) dbs.set(t.db, { name: t.db });
  for (const d of [...dbs.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const cs = same && d.charset ? ` CHARACTER SET ${d.charset}${d.collation ? ` COLLATE ${d.collation}` : ''}` : '';
    statements.push({ phase: 'database', kind: 'database', names: [d.name], object: d.name, sql: `CREATE DATABASE ${quoteIdent(d.name)}${cs}` });
  }
  for (const t of model.tables) {
    const id = `${t.db}.${t.tb}`;
    statements.push({ phase: 'table', kind: 'table', names: [t.db, t.tb], object: id, sql: createTable(t, same, flags) });
    for (const ix of t.indexes) {
      const sql = indexSql(t, ix, same, flags);
      if (sql) statements.push({ phase: 'index', kind: ix.unique ? 'unique' : 'index', names: [t.db, t.tb, ix.name], object: `${id}.${ix.name}`, sql });
    }
    for (const fk of t.foreignKeys) {
      flags.push({ object: `${id}.${fk.name}`, from: 'foreign key', to: 'foreign key', reason: 'TiDB enforces foreign keys only from v6.6; earlier versions accept and ignore them' });
      const acts = `${fk.onDelete ? ` ON DELETE ${fk.onDelete}` : ''}${fk.onUpdate ? ` ON UPDATE ${fk.onUpdate}` : ''}`;
      statements.push({
        phase: 'foreign_key',
        kind: 'foreign_key',
        names: [t.db, t.tb, fk.name],
        object: `${id}.${fk.name}`,
        sql: `ALTER TABLE ${quoteTable(t)} ADD CONSTRAINT ${quoteIdent(fk.name)} FOREIGN KEY (${fk.columns.map(quoteIdent).join(', ')}) REFERENCES ${quoteTable({ db: fk.refDb, tb: fk.refTb })} (${fk.refColumns.map(quoteIdent).join(', ')})${acts}`,
      });
    }
    for (const ck of t.checks) flags.push({ object: `${id}.${ck.name}`, from: `CHECK (${ck.expression})`, to: '(none)', reason: 'TiDB enforces CHECK only from v7.2 with tidb_enable_check_constraint=ON: not created' });
  }
  for (const s of model.sequences) flags.push({ object: `${s.db}.${s.tb}`, from: 'sequence', to: '(none)', reason: 'sequences are not migrated to TiDB; identity columns become AUTO_INCREMENT' });
  return { statements, flags };
}

function createTable(t: StructTable, same: boolean, flags: StructFlag[]): string {
  const lines = t.columns.map((c) => columnSql(t, c, same, flags));
  if (t.primaryKey?.columns.length) lines.push(`PRIMARY KEY (${t.primaryKey.columns.map(quoteIdent).join(', ')}) /*T![clustered_index] CLUSTERED */`);
  let tail = '';
  if (same && t.charset) tail += ` DEFAULT CHARSET=${t.charset}${t.collation ? ` COLLATE=${t.collation}` : ''}`;
  if (t.comment) tail += ` COMMENT=${lit(t.comment)}`;
  return `CREATE TABLE ${quoteTable(t)} (\n${lines.map((l) => `  ${l}`).join(',\n')}\n)${tail}`;
}

function columnSql(t: StructTable, c: StructColumn, same: boolean, flags: StructFlag[]): string {
  const where = `${t.db}.${t.tb}.${c.name}`;
  const ty = tidbType(c, where, same);
  if (ty.lossy) flags.push({ object: where, from: c.nativeType, to: ty.sql, reason: ty.lossy });
  let s = `${quoteIdent(c.name)} ${ty.sql}`;
  if (same && c.charset && !/\bcharacter set\b|\bcharset\b/i.test(ty.sql)) s += ` CHARACTER SET ${c.charset}${c.collation ? ` COLLATE ${c.collation}` : ''}`;
  if (c.generated) {
    if (same) return `${s} GENERATED ALWAYS AS (${c.generated.expression}) ${c.generated.stored ? 'STORED' : 'VIRTUAL'}${c.nullable ? '' : ' NOT NULL'}`;
    flags.push({ object: where, from: `GENERATED (${c.generated.expression})`, to: ty.sql, reason: 'expression of another engine: values copied as plain data' });
  }
  s += c.nullable ? ' NULL' : ' NOT NULL';
  const d = c.default;
  if (d?.kind === 'literal') s += ` DEFAULT ${lit(d.value)}`;
  else if (d?.kind === 'current_timestamp') s += ` DEFAULT CURRENT_TIMESTAMP${d.precision ? `(${d.precision})` : ''}`;
  else if (d?.kind === 'expression') {
    if (same) s += ` DEFAULT (${d.text})`;
    else flags.push({ object: where, from: `DEFAULT ${d.text}`, to: '(none)', reason: 'default expression of another engine not carried' });
  }
  if (c.autoIncrement) s += ' AUTO_INCREMENT';
  if (c.comment) s += ` COMMENT ${lit(c.comment)}`;
  return s;
}

function indexSql(t: StructTable, ix: StructIndex, same: boolean, flags: StructFlag[]): string | undefined {
  const object = `${t.db}.${t.tb}.${ix.name}`;
  const method = (ix.method ?? '').toLowerCase();
  if (method === 'fulltext' || method === 'spatial') {
    flags.push({ object, from: `${method.toUpperCase()} index`, to: '(none)', reason: `TiDB has no ${method.toUpperCase()} indexes: skipped` });
    return undefined;
  }
  if (!same && method && !['btree', 'hash'].includes(method)) {
    flags.push({ object, from: `${method} index`, to: '(none)', reason: 'index method of another engine: skipped' });
    return undefined;
  }
  if (ix.where && ix.unique) {
    flags.push({ object, from: `partial unique index WHERE ${ix.where}`, to: '(none)', reason: 'TiDB has no partial indexes, and a full unique index could refuse rows the source allows: skipped' });
    return undefined;
  }
  const parts: string[] = [];
  for (const p of ix.parts) {
    if (p.expression !== undefined) {
      if (!same) {
        flags.push({ object, from: `expression index (${p.expression})`, to: '(none)', reason: 'expression of another engine: index skipped' });
        return undefined;
      }
      parts.push(`(${p.expression})`);
      continue;
    }
    let prefix = p.prefixLength;
    if (prefix && prefix * 4 > TIDB_MAX_INDEX_BYTES) {
      flags.push({ object, from: `${p.column}(${prefix})`, to: `${p.column}(${TIDB_MAX_INDEX_BYTES / 4})`, reason: `index prefix above TiDB's ${TIDB_MAX_INDEX_BYTES}-byte key limit (utf8mb4): cut` });
      prefix = TIDB_MAX_INDEX_BYTES / 4;
    }
    parts.push(`${quoteIdent(p.column!)}${prefix ? `(${prefix})` : ''}${p.descending ? ' DESC' : ''}`);
  }
  if (ix.where) flags.push({ object, from: `partial index WHERE ${ix.where}`, to: 'full index', reason: 'TiDB has no partial indexes: the index covers every row' });
  return `ALTER TABLE ${quoteTable(t)} ADD ${ix.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(ix.name)} (${parts.join(', ')})`;
}
