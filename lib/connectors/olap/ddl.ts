/**
 * Structure migration into StarRocks / Doris: SchemaModel -> CREATE DATABASE / CREATE TABLE, pure.
 *
 * - Keyed tables use the model that upserts by key (StarRocks PRIMARY KEY, Doris UNIQUE KEY with
 *   merge-on-write); key columns come first, in key order (both engines require it), NOT NULL.
 * - Keyless tables become DUPLICATE KEY tables (flagged: a rerun or a CDC replay can duplicate rows).
 * - `DISTRIBUTED BY HASH(key)` with `buckets` (a number, or auto: StarRocks decides when the clause is left
 *   out, Doris takes `BUCKETS AUTO`); `replication_num` from config (default 1).
 * - Secondary / unique indexes, foreign keys, checks, generated expressions and AUTO_INCREMENT are not
 *   carried: each is flagged, none silently dropped.
 */
import type { DdlPlan, DdlStatement, SchemaModel, StructColumn, StructFlag, StructTable } from '../../core/struct.ts';
import type { OlapDialect } from './dialect.ts';
import { quoteIdent, quoteTable } from './fe-client.ts';
import { mapType } from './type-map.ts';

export interface OlapDdlOptions {
  replicationNum: number;
  buckets: number | 'auto';
}

/** A double-quoted string literal (COMMENT, DEFAULT, PROPERTIES). */
export const dq = (s: string): string => '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';

export function planOlapDdl(d: OlapDialect, model: SchemaModel, o: OlapDdlOptions): DdlPlan {
  const statements: DdlStatement[] = [];
  const flags: StructFlag[] = [];
  const dbs = new Set(model.databases.map((x) => x.name));
  for (const t of model.tables) dbs.add(t.db);
  for (const db of [...dbs].sort()) statements.push({ phase: 'database', kind: 'database', names: [db], object: db, sql: `CREATE DATABASE ${quoteIdent(db)}` });
  for (const t of model.tables) statements.push({ phase: 'table', kind: 'table', names: [t.db, t.tb], object: `${t.db}.${t.tb}`, sql: createTable(d, t, o, flags) });
  for (const s of model.sequences) flags.push({ object: `${s.db}.${s.tb}`, from: 'sequence', to: '(none)', reason: `${d.title} has no sequences: not created` });
  for (const e of model.enumTypes) flags.push({ object: `${e.db}.${e.tb}`, from: 'enum type', to: 'VARCHAR', reason: 'enum type not created: its columns are text' });
  return { statements, flags };
}

function createTable(d: OlapDialect, t: StructTable, o: OlapDdlOptions, flags: StructFlag[]): string {
  const id = `${t.db}.${t.tb}`;
  const keys = t.primaryKey?.columns ?? [];
  const byName = new Map(t.columns.map((c) => [c.name, c]));
  const ordered: StructColumn[] = [...keys.map((k) => byName.get(k)!), ...t.columns.filter((c) => !keys.includes(c.name))];
  const lines = ordered.map((c) => columnLine(d, t, c, keys.includes(c.name), flags));

  let model: string;
  let dist: string;
  if (keys.length) {
    model = `${d.upsertModel} KEY(${keys.map(quoteIdent).join(', ')})`;
    dist = keys.map(quoteIdent).join(', ');
  } else {
    const first = ordered[0];
    model = `DUPLICATE KEY(${quoteIdent(first.name)})`;
    dist = quoteIdent(first.name);
    flags.push({ object: id, from: 'table without primary key', to: 'DUPLICATE KEY model', reason: 'rows are appended: a rerun or a CDC replay can duplicate rows, and updates/deletes cannot be applied' });
  }
  for (const ix of t.indexes) {
    flags.push({ object: `${id}.${ix.name}`, from: `${ix.unique ? 'unique ' : ''}index (${ix.method ?? 'btree'})`, to: '(none)', reason: ix.unique ? 'unique index not enforced by the target: not created' : 'secondary index not created' });
  }
  for (const fk of t.foreignKeys) flags.push({ object: `${id}.${fk.name}`, from: 'foreign key', to: '(none)', reason: 'foreign keys are not enforced by the target: not created' });
  for (const ck of t.checks) flags.push({ object: `${id}.${ck.name}`, from: 'check constraint', to: '(none)', reason: 'check constraints are not supported: not created' });

  const buckets = o.buckets === 'auto' ? (d.ddl.autoBuckets === 'AUTO' ? ' BUCKETS AUTO' : '') : ` BUCKETS ${o.buckets}`;
  const props = { replication_num: String(o.replicationNum), ...d.ddl.properties };
  return [
    `CREATE TABLE ${quoteTable(t)} (`,
    lines.map((l) => `  ${l}`).join(',\n'),
    `) ENGINE=OLAP`,
    model,
    ...(t.comment ? [`COMMENT ${dq(t.comment)}`] : []),
    `DISTRIBUTED BY HASH(${dist})${buckets}`,
    `PROPERTIES (${Object.entries(props).map(([k, v]) => `${dq(k)} = ${dq(v)}`).join(', ')})`,
  ].join('\n');
}

function columnLine(d: OlapDialect, t: StructTable, c: StructColumn, key: boolean, flags: StructFlag[]): string {
  const where = `${t.db}.${t.tb}.${c.name}`;
  const m = mapType(d, c, where, key);
  if (m.lossy) flags.push({ object: where, from: c.nativeType, to: m.sql, reason: m.lossy });
  if (key && c.nullable) flags.push({ object: where, from: `${c.nativeType} NULL`, to: `${m.sql} NOT NULL`, reason: 'key columns cannot hold NULL' });
  let line = `${quoteIdent(c.name)} ${m.sql}${key || !c.nullable ? ' NOT NULL' : ' NULL'}`;
  const def = c.default;
  if (def?.kind === 'literal' && !/^(STRING|JSON|VARBINARY)/.test(m.sql)) line += ` DEFAULT ${dq(def.value)}`;
  else if (def?.kind === 'current_timestamp' && m.sql.startsWith('DATETIME')) line += ' DEFAULT CURRENT_TIMESTAMP';
  else if (def) flags.push({ object: where, from: `DEFAULT ${def.kind === 'expression' ? def.text : def.kind === 'literal' ? def.value : 'CURRENT_TIMESTAMP'}`, to: '(none)', reason: `default not carried to a ${m.sql} column` });
  if (c.autoIncrement) flags.push({ object: where, from: 'AUTO_INCREMENT', to: m.sql, reason: 'values are copied from the source; the target does not generate them' });
  if (c.generated) flags.push({ object: where, from: `GENERATED (${c.generated.expression})`, to: m.sql, reason: 'computed values are copied as plain data; the expression is not kept' });
  if (c.comment) line += ` COMMENT ${dq(c.comment)}`;
  return line;
}
