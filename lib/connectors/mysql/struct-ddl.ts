/**
 * planDdl for MySQL/MariaDB targets: a pure function from the (routed) schema model to DDL and flags.
 *
 * Phases: database (CREATE DATABASE with charset/collation), table (CREATE TABLE with columns, primary key and
 * the unique keys a copy needs; AUTO_INCREMENT and its next value), index (secondary, prefix, FULLTEXT,
 * SPATIAL, functional parts like engines only), constraint (CHECK), foreign_key. Free-standing sequences
 * have no MySQL counterpart: flagged, not created.
 */
import type { DdlPlan, SchemaModel, StructColumn, StructIndex, StructTable } from '../../core/struct.ts';
import { PlanBuilder, addConstraints, ownedSequence } from '../../core/struct-util.ts';
import { quoteIdent, quoteTable, sqlString } from './sql.ts';
import { mysqlColumnType, mysqlDefault } from './struct-types.ts';

const isLike = (model: SchemaModel): boolean => model.sourceDbType === 'mysql' || model.sourceDbType === 'tidb';

/** Whether an index can be declared inside CREATE TABLE as a row-identifying unique key. */
const inlineUnique = (ix: StructIndex, like: boolean): boolean =>
  ix.unique && !ix.where && ix.parts.every((p) => p.column !== undefined) && (like || !ix.method || ix.method === 'btree');

export function planMysqlDdl(model: SchemaModel): DdlPlan {
  const plan = new PlanBuilder();
  const like = isLike(model);
  for (const db of model.databases) {
    const opts = like && db.charset ? ` DEFAULT CHARACTER SET ${db.charset}${db.collation ? ` COLLATE ${db.collation}` : ''}` : '';
    plan.add('database', 'database', [db.name], `CREATE DATABASE ${quoteIdent(db.name)}${opts}`);
  }
  for (const s of model.sequences) {
    if (!s.ownedBy) plan.flag(`${s.db}.${s.tb}`, 'SEQUENCE', '(not created)', 'free-standing sequences have no MySQL counterpart');
  }
  for (const t of model.tables) tableStatements(model, t, like, plan);
  return { statements: plan.statements, flags: plan.flags };
}

function tableStatements(model: SchemaModel, t: StructTable, like: boolean, plan: PlanBuilder): void {
  const keyed = new Set([...(t.primaryKey?.columns ?? []), ...t.indexes.flatMap((i) => i.parts.map((p) => p.column ?? ''))]);
  const defs = t.columns.map((c) => columnDef(model, t, c, like, keyed.has(c.name), plan));
  if (t.primaryKey?.columns.length) defs.push(`PRIMARY KEY (${t.primaryKey.columns.map(quoteIdent).join(', ')})`);
  const uniques = t.indexes.filter((ix) => inlineUnique(ix, like));
  for (const ix of uniques) defs.push(`UNIQUE KEY ${quoteIdent(ix.name)} (${parts(ix)})${ix.comment ? ` COMMENT ${sqlString(ix.comment)}` : ''}`);
  const opts: string[] = [];
  if (like && t.engine) opts.push(`ENGINE=${t.engine}`);
  if (like && t.charset) opts.push(`DEFAULT CHARSET=${t.charset}`);
  if (like && t.collation) opts.push(`COLLATE=${t.collation}`);
  const ai = t.columns.find((c) => c.autoIncrement);
  const next = ai && ownedSequence(model, t, ai)?.nextValue;
  if (next && next !== '1') opts.push(`AUTO_INCREMENT=${next}`);
  if (t.comment) opts.push(`COMMENT=${sqlString(t.comment)}`);
  plan.add('table', 'table', [t.db, t.tb], `CREATE TABLE ${quoteTable(t)} (\n  ${defs.join(',\n  ')}\n)${opts.length ? ' ' + opts.join(' ') : ''}`);

  for (const ix of t.indexes) {
    if (uniques.includes(ix)) continue;
    const obj = `${t.db}.${t.tb}.${ix.name}`;
    if (!like && ix.where) {
      plan.flag(obj, `partial index WHERE ${ix.where}`, '(not created)', 'MySQL has no partial indexes');
      continue;
    }
    const method = (ix.method ?? 'btree').toLowerCase();
    let kind = ix.unique ? 'UNIQUE ' : '';
    if (method === 'fulltext' || method === 'spatial') kind = `${method.toUpperCase()} `;
    else if (!like && method !== 'btree') {
      plan.flag(obj, `${method} index`, '(not created)', `MySQL has no ${method} index`);
      continue;
    }
    if (!like && ix.parts.some((p) => p.expression !== undefined)) {
      plan.flag(obj, 'expression index', '(not created)', 'index expressions are engine-specific');
      continue;
    }
    const using = like && method === 'hash' ? ' USING HASH' : '';
    plan.add('index', 'index', [t.db, t.tb, ix.name], `CREATE ${kind}INDEX ${quoteIdent(ix.name)}${using} ON ${quoteTable(t)} (${parts(ix)})${ix.comment ? ` COMMENT ${sqlString(ix.comment)}` : ''}`);
  }
  addConstraints(t, like, plan, { ident: quoteIdent, table: quoteTable });
}

function columnDef(model: SchemaModel, t: StructTable, c: StructColumn, like: boolean, keyed: boolean, plan: PlanBuilder): string {
  const obj = `${t.db}.${t.tb}.${c.name}`;
  let sql = `${quoteIdent(c.name)} ${mysqlColumnType(t, c, like, keyed, plan)}`;
  const textual = c.family === 'string' || c.family === 'enum' || c.family === 'set';
  if (like && textual && c.charset && c.charset !== t.charset) sql += ` CHARACTER SET ${c.charset}`;
  if (like && textual && c.collation && c.collation !== t.collation) sql += ` COLLATE ${c.collation}`;
  if (c.generated) {
    if (like) sql += ` GENERATED ALWAYS AS (${c.generated.expression}) ${c.generated.stored ? 'STORED' : 'VIRTUAL'}`;
    else plan.flag(obj, `GENERATED ALWAYS AS (${c.generated.expression})`, 'plain column', 'generated expression is engine-specific; values are copied');
  }
  if (!c.generated || !like) {
    sql += c.nullable ? ' NULL' : ' NOT NULL';
    if (!c.autoIncrement && !c.generated) sql += mysqlDefault(t, c, like, plan);
  }
  if (c.onUpdateCurrentTimestamp) {
    const p = like ? c.precision : undefined;
    sql += ` ON UPDATE ${p ? `current_timestamp(${p})` : 'current_timestamp()'}`;
  }
  if (c.autoIncrement) {
    sql += ' AUTO_INCREMENT';
    const seq = ownedSequence(model, t, c);
    if (seq && seq.increment !== '1') plan.flag(obj, `INCREMENT BY ${seq.increment}`, 'AUTO_INCREMENT step 1', 'auto_increment_increment is a server setting');
  }
  if (c.comment) sql += ` COMMENT ${sqlString(c.comment)}`;
  return sql;
}

function parts(ix: StructIndex): string {
  return ix.parts
    .map((p) => {
      if (p.expression !== undefined) return `(${p.expression})`;
      const s = quoteIdent(p.column!) + (p.prefixLength ? `(${p.prefixLength})` : '');
      return p.descending ? `${s} DESC` : s;
    })
    .join(', ');
}
