/**
 * planDdl for PostgreSQL targets: a pure function from the (routed) schema model to DDL and flags.
 *
 * Phases: database (CREATE SCHEMA), type (enum types), sequence (free-standing and serial sequences, starting
 * at the source's next value), table (CREATE TABLE with columns, identity, primary key; comments and serial
 * ownership in the same statement; unique keys as their own statements), index (incl. partial and
 * expression indexes between like engines), constraint (CHECK), foreign_key.
 */
import type { DdlPlan, SchemaModel, StructColumn, StructIndex, StructSequence, StructTable } from '../../core/struct.ts';
import { PlanBuilder, ownedSequence, portableExpression } from '../../core/struct-util.ts';
import { qualified, quoteIdent, quoteLiteral } from './sql.ts';
import { pgColumnType, pgDefault } from './struct-types.ts';

const isLike = (model: SchemaModel): boolean => model.sourceDbType === 'pg';

export function planPgDdl(model: SchemaModel): DdlPlan {
  const plan = new PlanBuilder();
  const like = isLike(model);
  for (const db of model.databases) plan.add('database', 'database', [db.name], `CREATE SCHEMA ${quoteIdent(db.name)}`);
  for (const e of model.enumTypes) {
    plan.add('type', 'type', [e.db, e.tb], `CREATE TYPE ${qualified(e)} AS ENUM (${e.labels.map(quoteLiteral).join(', ')})`);
  }
  for (const s of model.sequences) {
    if (s.identity) continue; // created with its column
    plan.add('sequence', 'sequence', [s.db, s.tb], `CREATE SEQUENCE ${qualified(s)}${sequenceOptions(s)}`);
  }
  const names = new Set(model.tables.map((t) => JSON.stringify([t.db, t.tb])));
  for (const t of model.tables) tableStatements(model, t, like, plan, names);
  return { statements: plan.statements, flags: plan.flags };
}

/**
 * Index names are per schema in PostgreSQL (shared with tables) but per table in MySQL: a name already taken
 * in the schema becomes `<table>_<name>` (flagged).
 */
function indexName(t: StructTable, name: string, taken: Set<string>, plan: PlanBuilder): string {
  let n = name;
  if (taken.has(JSON.stringify([t.db, n]))) {
    n = `${t.tb}_${name}`.slice(0, 63);
    plan.flag(`${t.db}.${t.tb}.${name}`, name, n, 'index names are unique per schema in PostgreSQL');
  }
  taken.add(JSON.stringify([t.db, n]));
  return n;
}

/** ` INCREMENT BY .. MINVALUE .. MAXVALUE .. START WITH <next value> [CYCLE]`. */
function sequenceOptions(s: StructSequence): string {
  let o = ` INCREMENT BY ${s.increment}`;
  if (s.min !== undefined) o += ` MINVALUE ${s.min}`;
  if (s.max !== undefined) o += ` MAXVALUE ${s.max}`;
  o += ` START WITH ${s.nextValue ?? s.start}`;
  return s.cycle ? `${o} CYCLE` : o;
}

function tableStatements(model: SchemaModel, t: StructTable, like: boolean, plan: PlanBuilder, taken: Set<string>): void {
  const extra: string[] = [];
  const defs = t.columns.map((c) => columnDef(model, t, c, like, plan, extra));
  if (t.primaryKey?.columns.length) {
    const name = like && t.primaryKey.name ? `CONSTRAINT ${quoteIdent(t.primaryKey.name)} ` : '';
    defs.push(`${name}PRIMARY KEY (${t.primaryKey.columns.map(quoteIdent).join(', ')})`);
  }
  const stmts = [`CREATE TABLE ${qualified(t)} (\n  ${defs.join(',\n  ')}\n)`, ...extra];
  if (t.comment) stmts.push(`COMMENT ON TABLE ${qualified(t)} IS ${quoteLiteral(t.comment)}`);
  for (const c of t.columns) if (c.comment) stmts.push(`COMMENT ON COLUMN ${qualified(t)}.${quoteIdent(c.name)} IS ${quoteLiteral(c.comment)}`);
  plan.add('table', 'table', [t.db, t.tb], stmts.join(';\n'));

  for (const ix of t.indexes) indexStatement(t, { ...ix, name: indexName(t, ix.name, taken, plan) }, like, plan);
  const cols = new Set(t.columns.map((c) => c.name));
  for (const ck of t.checks) {
    const expr = like ? ck.expression : portableExpression(ck.expression, quoteIdent, cols);
    if (expr === undefined) {
      plan.flag(`${t.db}.${t.tb}.${ck.name}`, `CHECK ${ck.expression}`, '(not created)', 'check expression is engine-specific');
      continue;
    }
    plan.add('constraint', 'check', [t.db, t.tb, ck.name], `ALTER TABLE ${qualified(t)} ADD CONSTRAINT ${quoteIdent(ck.name)} CHECK ${/^\(.*\)$/s.test(expr) ? expr : `(${expr})`}`);
  }
  for (const fk of t.foreignKeys) {
    const rules = `${fk.onDelete && fk.onDelete !== 'NO ACTION' ? ` ON DELETE ${fk.onDelete}` : ''}${fk.onUpdate && fk.onUpdate !== 'NO ACTION' ? ` ON UPDATE ${fk.onUpdate}` : ''}`;
    plan.add(
      'foreign_key', 'foreign_key', [t.db, t.tb, fk.name],
      `ALTER TABLE ${qualified(t)} ADD CONSTRAINT ${quoteIdent(fk.name)} FOREIGN KEY (${fk.columns.map(quoteIdent).join(', ')})` +
        ` REFERENCES ${qualified({ db: fk.refDb, tb: fk.refTb })} (${fk.refColumns.map(quoteIdent).join(', ')})${rules}`,
    );
  }
}

function columnDef(model: SchemaModel, t: StructTable, c: StructColumn, like: boolean, plan: PlanBuilder, extra: string[]): string {
  const obj = `${t.db}.${t.tb}.${c.name}`;
  let sql = `${quoteIdent(c.name)} ${pgColumnType(model, t, c, like, plan)}`;
  if (like && c.collation) sql += ` COLLATE ${quoteIdent(c.collation)}`;
  if (c.generated) {
    if (like) return `${sql} GENERATED ALWAYS AS (${c.generated.expression}) STORED${c.nullable ? '' : ' NOT NULL'}`;
    plan.flag(obj, `GENERATED ALWAYS AS (${c.generated.expression})`, 'plain column', 'generated expression is engine-specific; values are copied');
  }
  if (!c.nullable) sql += ' NOT NULL';
  const seq = c.autoIncrement ? ownedSequence(model, t, c) : undefined;
  if (c.autoIncrement && (!seq || seq.identity)) {
    if (seq?.identity === 'always') plan.flag(obj, 'GENERATED ALWAYS AS IDENTITY', 'GENERATED BY DEFAULT AS IDENTITY', 'copied rows must keep their values');
    const start = seq?.nextValue ? ` (START WITH ${seq.nextValue}${seq.increment !== '1' ? ` INCREMENT BY ${seq.increment}` : ''})` : '';
    return `${sql} GENERATED BY DEFAULT AS IDENTITY${start}`;
  }
  if (seq) {
    // serial: the sequence (sequence phase) feeds the default and is owned by the column, as in the source.
    extra.push(`ALTER SEQUENCE ${qualified(seq)} OWNED BY ${qualified(t)}.${quoteIdent(c.name)}`);
    return `${sql} DEFAULT nextval(${quoteLiteral(qualified(seq))}::regclass)`;
  }
  sql += pgDefault(t, c, like, plan);
  if (!like && c.family === 'enum') sql += ` CHECK (${quoteIdent(c.name)} IN (${(c.members ?? []).map(quoteLiteral).join(', ')}))`;
  if (c.onUpdateCurrentTimestamp) plan.flag(obj, 'ON UPDATE CURRENT_TIMESTAMP', '(dropped)', 'PostgreSQL needs a trigger for this; none is created');
  return sql;
}

function indexStatement(t: StructTable, ix: StructIndex, like: boolean, plan: PlanBuilder): void {
  const obj = `${t.db}.${t.tb}.${ix.name}`;
  const skip = (from: string, reason: string) => plan.flag(obj, from, '(not created)', reason);
  const method = (ix.method ?? 'btree').toLowerCase();
  if (!like && (method === 'fulltext' || method === 'spatial')) return skip(`${method.toUpperCase()} index`, `PostgreSQL has no ${method} index of this kind`);
  if (!like && ix.parts.some((p) => p.expression !== undefined)) return skip('expression index', 'index expressions are engine-specific');
  const parts = ix.parts.map((p) => {
    if (p.expression !== undefined) return p.expression; // pg_get_indexdef's text for one key column, valid as is
    if (p.prefixLength) plan.flag(obj, `${p.column}(${p.prefixLength})`, p.column!, 'prefix index becomes a whole-column index');
    return quoteIdent(p.column!) + (p.descending ? ' DESC' : '');
  });
  // A unique key the data path may need (no predicate, plain columns) goes with the table, before the data.
  const early = ix.unique && !ix.where && ix.parts.every((p) => p.column !== undefined);
  if (ix.constraint && early) {
    plan.add('table', 'unique', [t.db, t.tb, ix.name], `ALTER TABLE ${qualified(t)} ADD CONSTRAINT ${quoteIdent(ix.name)} UNIQUE (${parts.join(', ')})`);
    return;
  }
  const using = like && method !== 'btree' ? ` USING ${method}` : '';
  const where = ix.where ? (like ? ` WHERE ${ix.where}` : undefined) : '';
  if (where === undefined) return skip(`partial index WHERE ${ix.where}`, 'index predicate is engine-specific');
  const sql = `CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(ix.name)} ON ${qualified(t)}${using} (${parts.join(', ')})${where}`;
  plan.add(early ? 'table' : 'index', early ? 'unique' : 'index', [t.db, t.tb, ix.name], ix.comment ? `${sql};\nCOMMENT ON INDEX ${quoteIdent(t.db)}.${quoteIdent(ix.name)} IS ${quoteLiteral(ix.comment)}` : sql);
}
