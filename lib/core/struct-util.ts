import { FerryError } from './errors.ts';
import type { DdlStatement, SchemaModel, StructColumn, StructFlag, StructObjectKind, StructPhase, StructSequence, StructTable } from './struct.ts';
import { objectName } from './struct.ts';

/**
 * Engine-neutral helpers every StructWriter uses (so each connector's planDdl stays about its own SQL).
 */

/** MD002: a type the target cannot carry, naming `db.tb.column` and the source type. */
export function unsupportedType(t: StructTable, c: StructColumn, target: string, why = ''): FerryError {
  const object = `${t.db}.${t.tb}.${c.name}`;
  return new FerryError('MD002', `${object}: source type ${c.nativeType} cannot be created on ${target}${why ? ` (${why})` : ''}`, {
    details: { object, type: c.nativeType, target },
  });
}

/** The generator (identity / AUTO_INCREMENT / serial sequence) owned by column `c` of `t`, if the model has one. */
export function ownedSequence(model: SchemaModel, t: StructTable, c: StructColumn): StructSequence | undefined {
  const owner = `${t.db}.${t.tb}.${c.name}`;
  return model.sequences.find((s) => s.ownedBy === owner);
}

/** Accumulates statements and flags in model order. */
export class PlanBuilder {
  readonly statements: DdlStatement[] = [];
  readonly flags: StructFlag[] = [];

  add(phase: StructPhase, kind: StructObjectKind, names: string[], sql: string): void {
    this.statements.push({ phase, kind, names, object: objectName(names), sql });
  }

  flag(object: string, from: string, to: string, reason: string): void {
    this.flags.push({ object, from, to, reason });
  }
}

/** How an engine spells names, for the statements every SQL engine writes alike. */
export interface SqlNames {
  ident(name: string): string;
  table(t: { db: string; tb: string }): string;
}

/**
 * CHECK constraints (constraint phase) and foreign keys (foreign_key phase) of `t` in standard SQL
 * (`ALTER TABLE .. ADD CONSTRAINT ..`). Between unlike engines a CHECK is carried only when
 * {@link portableExpression} can re-quote it; otherwise it is flagged.
 */
export function addConstraints(t: StructTable, like: boolean, plan: PlanBuilder, q: SqlNames): void {
  const cols = new Set(t.columns.map((c) => c.name));
  for (const ck of t.checks) {
    const expr = like ? ck.expression : portableExpression(ck.expression, q.ident, cols);
    if (expr === undefined) {
      plan.flag(`${t.db}.${t.tb}.${ck.name}`, `CHECK ${ck.expression}`, '(not created)', 'check expression is engine-specific');
      continue;
    }
    plan.add('constraint', 'check', [t.db, t.tb, ck.name], `ALTER TABLE ${q.table(t)} ADD CONSTRAINT ${q.ident(ck.name)} CHECK (${expr})`);
  }
  for (const fk of t.foreignKeys) {
    const rule = (what: string, r?: string) => (r && r !== 'NO ACTION' ? ` ON ${what} ${r}` : '');
    plan.add(
      'foreign_key', 'foreign_key', [t.db, t.tb, fk.name],
      `ALTER TABLE ${q.table(t)} ADD CONSTRAINT ${q.ident(fk.name)} FOREIGN KEY (${fk.columns.map(q.ident).join(', ')})` +
        ` REFERENCES ${q.table({ db: fk.refDb, tb: fk.refTb })} (${fk.refColumns.map(q.ident).join(', ')})${rule('DELETE', fk.onDelete)}${rule('UPDATE', fk.onUpdate)}`,
    );
  }
}

const SAFE_TOKEN = /\s+|<>|!=|<=|>=|[=<>+\-*/%(),]|\d+(?:\.\d+)?|'(?:[^'\\]|'')*'|`(?:[^`]|``)+`|"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*/y;
const SAFE_WORDS = new Set(['and', 'or', 'not', 'in', 'is', 'null', 'between', 'like', 'true', 'false']);

/**
 * Rewrites a CHECK expression between engines when it uses only the portable core of SQL (column names,
 * numbers, string literals, comparisons, arithmetic, AND/OR/NOT, IN, IS [NOT] NULL, BETWEEN, LIKE);
 * identifiers are re-quoted with `quote`. Anything else (functions, casts, engine syntax) returns undefined,
 * and the writer flags the check instead of guessing.
 */
export function portableExpression(expr: string, quote: (name: string) => string, columns: Set<string>): string | undefined {
  let out = '';
  SAFE_TOKEN.lastIndex = 0;
  let i = 0;
  while (i < expr.length) {
    SAFE_TOKEN.lastIndex = i;
    const m = SAFE_TOKEN.exec(expr);
    if (!m) return undefined;
    const tok = m[0];
    i += tok.length;
    if (tok.startsWith('`')) out += quote(tok.slice(1, -1).replace(/``/g, '`'));
    else if (tok.startsWith('"')) out += quote(tok.slice(1, -1).replace(/""/g, '"'));
    else if (/^[A-Za-z_]/.test(tok)) {
      if (SAFE_WORDS.has(tok.toLowerCase())) out += tok.toUpperCase();
      else if (columns.has(tok)) out += quote(tok);
      else return undefined;
    } else out += tok;
  }
  return out;
}
