import { FerryError } from '../../core/errors.ts';
import { checkChangeShape, type TargetChange } from '../../core/sinker.ts';
import type { Row } from '../../core/values.ts';
import { ConversionError, encoderFor, type Encoder } from './codec-in.ts';
import { identList, quoteIdent } from './sql.ts';
import type { PgColumn } from './type-map.ts';
import { MAX_PARAMS } from './write-sql.ts';

/** What the applier knows about one target table (read once per WriteTarget). */
export interface ApplyTable {
  id: string;
  /** `"schema"."table"`. */
  sql: string;
  keys: string[];
  /** Target columns by name, as the catalog describes them. */
  cols: Map<string, PgColumn>;
  /** The columns changes may carry (the WriteTarget's), in order. */
  written: string[];
  /** A non-deferrable unique index on exactly the key columns: ON CONFLICT can use it. */
  hasArbiter: boolean;
  encoders: Map<string, Encoder>;
}

/** One statement of an apply, with what an error message needs. */
export interface Stmt {
  text: string;
  values: Array<string | null>;
  table: string;
  /** `k=v` of the rows it touches, for messages. */
  keys: string[];
}

type Enc = Array<string | null>;

const MAX_ROWS = 1000;
const show = (v: string | null): string => (v === null ? 'NULL' : v.length > 60 ? `${v.slice(0, 57)}...` : v);
export const describeKey = (keys: string[], vals: Enc): string => keys.map((k, i) => `${k}=${show(vals[i])}`).join(', ');

export const makeEncoders = (cols: Map<string, PgColumn>, written: Array<{ name: string; family: PgColumn['family'] }>): Map<string, Encoder> =>
  new Map(written.map((c) => [c.name, encoderFor(cols.get(c.name)!, c.family)]));

/** Encodes `names` of `row`; a value PostgreSQL cannot store is IN001 naming table, column and key. */
function encodeCols(t: ApplyTable, row: Row, names: string[], keyText: () => string): Enc {
  const out: Enc = new Array(names.length);
  for (let i = 0; i < names.length; i++) {
    try {
      out[i] = t.encoders.get(names[i])!(row[names[i]]);
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      const key = keyText();
      throw new FerryError('IN001', `target ${t.id}: ${e.message} (column ${names[i]}) at key ${key}`, { details: { table: t.id, column: names[i], key } });
    }
  }
  return out;
}

const rawKey = (keys: string[], row: Row): string => keys.map((k) => `${k}=${String(row[k])}`).join(', ');
const present = (t: ApplyTable, row: Row): string[] => t.written.filter((c) => c in row);
const ph = (from: number, n: number): string => Array.from({ length: n }, (_, i) => `$${from + i}`).join(', ');
/** `k = $n`, or `IS NOT DISTINCT FROM` for a NULL value of a nullable unique key. */
const keyPred = (keys: string[], vals: Enc, from: number): string =>
  keys.map((k, i) => `${quoteIdent(k)} ${vals[i] === null ? 'IS NOT DISTINCT FROM' : '='} $${from + i}`).join(' AND ');

type Group =
  | { kind: 'upsert'; t: ApplyTable; cols: string[]; keyIdx: number[]; rows: Enc[]; seen: Map<string, number> }
  | { kind: 'delete'; t: ApplyTable; keys: Enc[]; seen: Set<string> }
  | { kind: 'insert'; t: ApplyTable; cols: string[]; rows: Enc[] };

/**
 * Plans the statements of one apply: consecutive changes of one table and one kind become multi-row
 * statements, in order, so the effect is that of applying the changes one by one.
 * - insert / full-row update: `INSERT ... ON CONFLICT (key) DO UPDATE` (a target without an arbiter index, or
 *   a NULL key value: delete by key, then insert). PostgreSQL refuses one statement that hits a key twice, so
 *   a repeated key ends the group -- unless it repeats the group's last row, which it then replaces (same end
 *   state: nothing happened in between).
 * - delete: `DELETE ... WHERE (key) IN (...)`.
 * - update whose `after` lacks columns (unchanged TOAST): `UPDATE ... SET <present> WHERE key = beforeKey`,
 *   which keeps the target's value of the missing columns, also when the key changes.
 * - key-changing full-row update: delete the old key, then upsert the new row.
 * - keyless targets: plain inserts; update/delete touch one row equal to the whole old row (not idempotent).
 */
export class ApplyPlanner {
  private readonly out: Stmt[] = [];
  private g: Group | null = null;

  constructor(private readonly tableOf: (c: TargetChange) => ApplyTable) {}

  plan(changes: TargetChange[]): Stmt[] {
    for (const c of changes) this.add(c);
    this.flush();
    return this.out;
  }

  private add(c: TargetChange): void {
    const t = this.tableOf(c);
    checkChangeShape(c, t.id);
    if (!t.keys.length) return this.keyless(t, c);
    const before = c.beforeKey ? encodeCols(t, c.beforeKey, t.keys, () => rawKey(t.keys, c.beforeKey!)) : null;
    if (c.op === 'delete') return this.addDelete(t, before!);
    const after = c.after!;
    const cols = present(t, after);
    if (c.op === 'update' && cols.length < t.written.length) return this.partialUpdate(t, cols, after, before!);
    const row = encodeCols(t, after, cols, () => rawKey(t.keys, after));
    const keyIdx = t.keys.map((k) => cols.indexOf(k));
    if (before && keyIdx.some((i, j) => row[i] !== before[j])) this.addDelete(t, before);
    this.addUpsert(t, cols, keyIdx, row);
  }

  private addUpsert(t: ApplyTable, cols: string[], keyIdx: number[], row: Enc): void {
    const k = keyIdx.map((i) => row[i]).join('\u0000');
    let g = this.g;
    if (g?.kind === 'upsert' && g.t === t && g.cols.length === cols.length && g.cols.every((c, i) => c === cols[i])) {
      const at = g.seen.get(k);
      if (at === g.rows.length - 1) {
        g.rows[at] = row;
        return;
      }
      if (at !== undefined) g = null;
    } else g = null;
    if (!g) {
      this.flush();
      g = this.g = { kind: 'upsert', t, cols, keyIdx, rows: [], seen: new Map() };
    }
    g.seen.set(k, g.rows.length);
    g.rows.push(row);
  }

  private addDelete(t: ApplyTable, key: Enc): void {
    let g = this.g;
    if (g?.kind !== 'delete' || g.t !== t) {
      this.flush();
      g = this.g = { kind: 'delete', t, keys: [], seen: new Set() };
    }
    const k = key.join('\u0000');
    if (g.seen.has(k)) return;
    g.seen.add(k);
    g.keys.push(key);
  }

  private partialUpdate(t: ApplyTable, cols: string[], after: Row, before: Enc): void {
    this.flush();
    if (!cols.length) return; // nothing but unchanged TOAST values: nothing to write
    const vals = encodeCols(t, after, cols, () => describeKey(t.keys, before));
    const set = cols.map((c, i) => `${quoteIdent(c)} = $${i + 1}`).join(', ');
    this.out.push({
      text: `UPDATE ${t.sql} SET ${set} WHERE ${keyPred(t.keys, before, cols.length + 1)}`,
      values: [...vals, ...before],
      table: t.id,
      keys: [describeKey(t.keys, before)],
    });
  }

  private keyless(t: ApplyTable, c: TargetChange): void {
    if (c.op === 'insert') {
      const cols = present(t, c.after!);
      const row = encodeCols(t, c.after!, cols, () => 'keyless row');
      const g = this.g;
      if (g?.kind === 'insert' && g.t === t && g.cols.join('\u0000') === cols.join('\u0000')) g.rows.push(row);
      else {
        this.flush();
        this.g = { kind: 'insert', t, cols, rows: [row] };
      }
      return;
    }
    this.flush();
    const old = c.beforeKey!;
    const oldCols = present(t, old);
    const oldVals = encodeCols(t, old, oldCols, () => 'keyless row');
    const match = oldCols.map((n, i) => `${quoteIdent(n)}::text IS NOT DISTINCT FROM ($${i + 1}::${t.cols.get(n)!.nativeType})::text`).join(' AND ');
    const one = `ctid = (SELECT ctid FROM ${t.sql} WHERE ${match || 'true'} LIMIT 1)`;
    if (c.op === 'delete') {
      this.out.push({ text: `DELETE FROM ${t.sql} WHERE ${one}`, values: oldVals, table: t.id, keys: ['keyless row'] });
      return;
    }
    const cols = present(t, c.after!);
    if (!cols.length) return;
    const vals = encodeCols(t, c.after!, cols, () => 'keyless row');
    const set = cols.map((n, i) => `${quoteIdent(n)} = $${oldVals.length + i + 1}`).join(', ');
    this.out.push({ text: `UPDATE ${t.sql} SET ${set} WHERE ${one}`, values: [...oldVals, ...vals], table: t.id, keys: ['keyless row'] });
  }

  private flush(): void {
    const g = this.g;
    this.g = null;
    if (!g) return;
    if (g.kind === 'delete') return this.deletes(g.t, g.keys);
    const { t, cols, rows } = g;
    const per = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / Math.max(1, cols.length))));
    if (g.kind === 'insert') {
      for (let i = 0; i < rows.length; i += per) this.out.push(insertStmt(t, cols, rows.slice(i, i + per), '', ['keyless rows']));
      return;
    }
    const keyOf = (r: Enc) => g.keyIdx.map((i) => r[i]);
    const nullKey = rows.some((r) => keyOf(r).includes(null));
    // ON CONFLICT needs an arbiter index and never matches NULL keys: otherwise replace by delete + insert.
    if (!t.hasArbiter || nullKey) this.deletes(t, rows.map(keyOf));
    const nonKey = cols.filter((c) => !t.keys.includes(c));
    const conflict = !t.hasArbiter || nullKey
      ? ''
      : nonKey.length
        ? ` ON CONFLICT (${identList(t.keys)}) DO UPDATE SET ${nonKey.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(', ')}`
        : ` ON CONFLICT (${identList(t.keys)}) DO NOTHING`;
    for (let i = 0; i < rows.length; i += per) {
      const part = rows.slice(i, i + per);
      this.out.push(insertStmt(t, cols, part, conflict, part.slice(0, 3).map((r) => describeKey(t.keys, keyOf(r)))));
    }
  }

  private deletes(t: ApplyTable, keys: Enc[]): void {
    const plain = keys.filter((k) => !k.includes(null));
    const w = t.keys.length;
    const per = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / w)));
    for (let i = 0; i < plain.length; i += per) {
      const part = plain.slice(i, i + per);
      const lhs = w === 1 ? quoteIdent(t.keys[0]) : `(${identList(t.keys)})`;
      const list = part.map((_, r) => (w === 1 ? `$${r + 1}` : `(${ph(r * w + 1, w)})`)).join(', ');
      this.out.push({ text: `DELETE FROM ${t.sql} WHERE ${lhs} IN (${list})`, values: part.flat(), table: t.id, keys: part.slice(0, 3).map((k) => describeKey(t.keys, k)) });
    }
    for (const k of keys.filter((x) => x.includes(null))) {
      this.out.push({ text: `DELETE FROM ${t.sql} WHERE ${keyPred(t.keys, k, 1)}`, values: k, table: t.id, keys: [describeKey(t.keys, k)] });
    }
  }
}

function insertStmt(t: ApplyTable, cols: string[], rows: Enc[], conflict: string, keys: string[]): Stmt {
  const w = cols.length;
  const tuples = rows.map((_, r) => `(${ph(r * w + 1, w)})`).join(', ');
  return { text: `INSERT INTO ${t.sql} (${identList(cols)}) VALUES ${tuples}${conflict}`, values: rows.flat(), table: t.id, keys };
}
