import { FerryError } from '../../core/errors.ts';
import { checkChangeShape, type TargetChange } from '../../core/sinker.ts';
import type { Row, Value } from '../../core/values.ts';
import { literalFor, ValueError } from './literal.ts';
import { keyLiteral, quoteIdent } from './sql.ts';
import { keyText, type WriteColumn } from './statements.ts';

/** What the applier knows about one target table (read once per WriteTarget). */
export interface ApplyTable {
  id: string;
  /** `` `db`.`tb` `` */
  sql: string;
  /** Target names of the key columns; empty for keyless tables. */
  keys: string[];
  cols: Map<string, WriteColumn>;
  /** The written columns (generated target columns left out), in order. */
  written: string[];
}

/** One statement of an apply, with what an error message needs. */
export interface Stmt {
  sql: string;
  table: string;
  /** Index of the first change the statement carries (for locating a failing change). */
  first: number;
}

export interface PlanOptions {
  /** REPLACE INTO (sinker.replace=true) or INSERT ... ON DUPLICATE KEY UPDATE. */
  replace: boolean;
  /** MySQL >= 8.0.19 row alias instead of VALUES(). */
  rowAlias: boolean;
  /** Soft limit of one statement's SQL text. */
  budget: number;
}

type Group =
  | { kind: 'upsert'; t: ApplyTable; cols: string[]; tuples: string[]; size: number; first: number }
  | { kind: 'insert'; t: ApplyTable; cols: string[]; tuples: string[]; size: number; first: number }
  | { kind: 'delete'; t: ApplyTable; preds: string[]; seen: Set<string>; size: number; first: number };

/**
 * Plans the statements of one apply: consecutive changes of one table and one kind become multi-row
 * statements, in order, so the effect is that of applying the changes one by one (MySQL applies the rows of
 * one REPLACE / INSERT ... ON DUPLICATE KEY UPDATE in order: a key repeated in a group ends as its last row).
 * - insert / full-row update: one upsert group (`REPLACE` or `INSERT ... ON DUPLICATE KEY UPDATE`).
 * - delete: `DELETE ... WHERE key IN (...)` (one key column), `(a <=> x AND b <=> y) OR ...` otherwise.
 * - key-changing full-row update: delete the old key, then upsert the new row.
 * - update whose `after` lacks columns (PostgreSQL unchanged TOAST): `UPDATE ... SET <present> WHERE key`.
 * - keyless tables: plain INSERT; update/delete touch ONE row equal to the whole old row (not idempotent).
 * Values become literals by the target column's type (literal.ts), exactly as the snapshot writer's.
 */
export class ApplyPlanner {
  private readonly out: Stmt[] = [];
  private g: Group | null = null;
  private index = 0;

  constructor(
    private readonly tableOf: (c: TargetChange) => ApplyTable,
    private readonly o: PlanOptions,
  ) {}

  plan(changes: TargetChange[]): Stmt[] {
    changes.forEach((c, i) => {
      this.index = i;
      this.add(c);
    });
    this.flush();
    return this.out;
  }

  private add(c: TargetChange): void {
    const t = this.tableOf(c);
    checkChangeShape(c, t.id);
    if (!t.keys.length) return this.keyless(t, c);
    if (c.op === 'delete') return this.addDelete(t, c.beforeKey!);
    const after = c.after!;
    const cols = t.written.filter((n) => after[n] !== undefined);
    if (c.op === 'update' && cols.length < t.written.length) return this.partialUpdate(t, cols, after, c.beforeKey!);
    if (c.op === 'update') {
      const before = c.beforeKey!;
      if (t.keys.some((k) => this.keyLit(t, k, before[k], before) !== this.keyLit(t, k, after[k], after))) this.addDelete(t, before);
    }
    this.addRow(t, 'upsert', cols, after);
  }

  private lit(t: ApplyTable, name: string, v: Value | undefined, row: Row): string {
    const c = t.cols.get(name)!;
    try {
      return literalFor(c.target, c.from, v ?? null);
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      throw new FerryError('IN001', `target ${t.id}: value does not fit column ${name} (${e.reason}) at key ${keyText(row, t.keys)}`, {
        details: { table: t.id, column: name, key: t.keys.map((k) => String(row[k])) },
      });
    }
  }

  /** Key literals compare in the server; FLOAT keys as the exact float32 they store (sql.ts keyLiteral). */
  private keyLit(t: ApplyTable, name: string, v: Value | undefined, row: Row): string {
    const c = t.cols.get(name);
    if (c?.target.family === 'float' && typeof v === 'number') return keyLiteral(c.target, v);
    return this.lit(t, name, v, row);
  }

  private keyPred(t: ApplyTable, cols: string[], row: Row): string {
    return '(' + cols.map((k) => `${quoteIdent(t.cols.get(k)!.target.name)} <=> ${this.keyLit(t, k, row[k], row)}`).join(' AND ') + ')';
  }

  private addRow(t: ApplyTable, kind: 'upsert' | 'insert', cols: string[], row: Row): void {
    const tuple = '(' + cols.map((n) => this.lit(t, n, row[n], row)).join(', ') + ')';
    const g = this.g;
    if (g && g.kind === kind && g.t === t && g.cols.length === cols.length && g.cols.every((c, i) => c === cols[i]) && g.size + tuple.length < this.o.budget) {
      g.tuples.push(tuple);
      g.size += tuple.length + 1;
      return;
    }
    this.flush();
    this.g = { kind, t, cols, tuples: [tuple], size: tuple.length + 200, first: this.index };
  }

  private addDelete(t: ApplyTable, key: Row): void {
    const single = t.keys.length === 1 && key[t.keys[0]] !== null && key[t.keys[0]] !== undefined;
    const pred = single ? this.keyLit(t, t.keys[0], key[t.keys[0]], key) : this.keyPred(t, t.keys, key);
    let g = this.g;
    if (g?.kind !== 'delete' || g.t !== t || g.size + pred.length >= this.o.budget) {
      this.flush();
      g = this.g = { kind: 'delete', t, preds: [], seen: new Set(), size: 200, first: this.index };
    }
    const k = (single ? 'v' : 'p') + pred;
    if (g.seen.has(k)) return;
    g.seen.add(k);
    g.preds.push(k);
    g.size += pred.length + 4;
  }

  private partialUpdate(t: ApplyTable, cols: string[], after: Row, before: Row): void {
    this.flush();
    if (!cols.length) return; // nothing but unchanged values: nothing to write
    const set = cols.map((n) => `${quoteIdent(t.cols.get(n)!.target.name)} = ${this.lit(t, n, after[n], after)}`).join(', ');
    this.push(`UPDATE ${t.sql} SET ${set} WHERE ${this.keyPred(t, t.keys, before)}`, t);
  }

  private keyless(t: ApplyTable, c: TargetChange): void {
    if (c.op === 'insert') return this.addRow(t, 'insert', t.written.filter((n) => c.after![n] !== undefined), c.after!);
    this.flush();
    const old = c.beforeKey!;
    const match = this.keyPred(t, t.written.filter((n) => old[n] !== undefined), old);
    if (c.op === 'delete') return this.push(`DELETE FROM ${t.sql} WHERE ${match} LIMIT 1`, t);
    const cols = t.written.filter((n) => c.after![n] !== undefined);
    if (!cols.length) return;
    const set = cols.map((n) => `${quoteIdent(t.cols.get(n)!.target.name)} = ${this.lit(t, n, c.after![n], c.after!)}`).join(', ');
    this.push(`UPDATE ${t.sql} SET ${set} WHERE ${match} LIMIT 1`, t);
  }

  private push(sql: string, t: ApplyTable, first = this.index): void {
    this.out.push({ sql, table: t.id, first });
  }

  private flush(): void {
    const g = this.g;
    this.g = null;
    if (!g) return;
    const t = g.t;
    if (g.kind === 'delete') {
      const single = g.preds.filter((p) => p[0] === 'v').map((p) => p.slice(1));
      const multi = g.preds.filter((p) => p[0] === 'p').map((p) => p.slice(1));
      const key = quoteIdent(t.cols.get(t.keys[0])!.target.name);
      const conds = [...(single.length ? [`${key} IN (${single.join(', ')})`] : []), ...multi];
      this.push(`DELETE FROM ${t.sql} WHERE ${conds.join(' OR ')}`, t, g.first);
      return;
    }
    const names = g.cols.map((n) => quoteIdent(t.cols.get(n)!.target.name));
    const head = `${g.kind === 'upsert' && this.o.replace ? 'REPLACE' : 'INSERT'} INTO ${t.sql} (${names.join(', ')}) VALUES `;
    this.push(head + g.tuples.join(',') + (g.kind === 'upsert' && !this.o.replace ? this.onDuplicate(t, g.cols) : ''), t, g.first);
  }

  private onDuplicate(t: ApplyTable, cols: string[]): string {
    const keys = new Set(t.keys);
    const names = cols.filter((c) => !keys.has(c)).map((n) => t.cols.get(n)!.target.name);
    // All-key tables still need an assignment; re-assigning a key column to itself changes nothing.
    const set = (names.length ? names : [t.cols.get(cols[0])!.target.name]).map((n) =>
      this.o.rowAlias ? `${quoteIdent(n)} = ferry_new.${quoteIdent(n)}` : `${quoteIdent(n)} = VALUES(${quoteIdent(n)})`,
    );
    return `${this.o.rowAlias ? ' AS ferry_new' : ''} ON DUPLICATE KEY UPDATE ${set.join(', ')}`;
  }
}
