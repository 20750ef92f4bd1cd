/**
 * CDC apply over Stream Load (ChangeApplier).
 *
 * A batch is folded per table and key to the LAST change of each key (an update that moves a key deletes
 * the old key), so every key appears once per load and the load's row order cannot matter. Each table's
 * folded rows travel in one Stream Load (more when `maxBodyBytes` cuts it): upserts with op 0, deletes as
 * key-only rows with op 1, the op in the dialect's column (`__op` / `__DORIS_DELETE_SIGN__`). Rows missing
 * columns (PostgreSQL unchanged TOAST) that no full row of the batch completes go in a partial-update load
 * of their own per column set.
 *
 * Deviations from the ChangeApplier contract, stated: one load is one target transaction, so a batch
 * touching several tables (or cut into several bodies) is several transactions; a crash between them
 * leaves some tables ahead, and replaying the batch converges (upserts and deletes by key are idempotent).
 * Keyless (DUPLICATE KEY) targets take inserts only: appended, so a replay duplicates them (documented);
 * an update or delete there is MD001.
 *
 * Labels: unique per apply (label.ts cdcLabel); a retry of a failed apply reuses them, so a body that did
 * commit before the failure is answered "Label Already Exists" and not applied twice.
 */
import { randomUUID } from 'node:crypto';
import { FerryError } from '../../core/errors.ts';
import { TargetCache, type ChangeApplier, type TargetChange, type WriteTarget } from '../../core/sinker.ts';
import type { TableRef } from '../../core/table.ts';
import type { Row } from '../../core/values.ts';
import type { OlapDialect } from './dialect.ts';
import { quoteTable, type OlapCatalog } from './fe-client.ts';
import { buildBodies, type LoadColumn } from './json-body.ts';
import { cdcLabel } from './label.ts';
import type { StreamLoader } from './loader.ts';
import { encodeRow, type LoadTarget } from './target.ts';

export interface ApplierSetup {
  dialect: OlapDialect;
  loader: StreamLoader;
  catalog: OlapCatalog;
  resolve: (t: WriteTarget, signal: AbortSignal) => Promise<LoadTarget>;
  maxBodyBytes: number;
  labelPrefix: string;
}

interface Folded {
  op: 0 | 1;
  row: Row;
}

const keyOf = (row: Row, keys: string[]): string =>
  JSON.stringify(keys.map((k) => row[k]), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v && v.type === 'Buffer' ? `0x${Buffer.from(v.data).toString('hex')}` : v));

/** One table's share of a batch, folded to the last change per key (insertion order of first sight). */
export function foldChanges(t: LoadTarget, changes: TargetChange[]): Map<string, Folded> {
  const out = new Map<string, Folded>();
  const full = (r: Row) => t.columns.every((c) => r[c.name] !== undefined);
  for (const c of changes) {
    if (c.op === 'delete') {
      out.set(keyOf(c.beforeKey!, t.keyColumns), { op: 1, row: c.beforeKey! });
      continue;
    }
    const after = c.after!;
    const ak = keyOf(after, t.keyColumns);
    let row = after;
    if (c.op === 'update' && c.beforeKey) {
      const bk = keyOf(c.beforeKey, t.keyColumns);
      const prev = out.get(bk);
      if (bk !== ak) out.set(bk, { op: 1, row: c.beforeKey });
      if (!full(after) && prev?.op === 0) {
        row = { ...prev.row };
        for (const [k, v] of Object.entries(after)) if (v !== undefined) row[k] = v;
      }
    }
    out.set(ak, { op: 0, row });
  }
  return out;
}

export class StreamLoadApplier implements ChangeApplier {
  private readonly targets = new TargetCache<LoadTarget>();
  /** This applier's id and its count of committed applies: together they make CDC labels unique (label.ts). */
  private readonly id = randomUUID();
  private seq = 0;

  constructor(private readonly s: ApplierSetup) {}

  async apply(changes: TargetChange[], signal: AbortSignal): Promise<void> {
    if (!changes.length) return;
    const groups = new Map<WriteTarget, TargetChange[]>();
    for (const c of changes) {
      const g = groups.get(c.target);
      if (g) g.push(c);
      else groups.set(c.target, [c]);
    }
    let part = 0;
    for (const [wt, list] of groups) {
      const t = await this.targets.get(wt, (x) => this.s.resolve(x, signal));
      for (const req of this.plan(t, list)) {
        const label = cdcLabel(this.s.labelPrefix, this.id, this.seq, part++, t.table.db, t.table.tb, req.body);
        await this.s.loader.load({ db: t.table.db, tb: t.table.tb, columns: req.columns, body: req.body, label, headers: req.headers }, signal);
      }
    }
    this.seq++;
  }

  /** The loads of one table: the mixed upsert/delete load(s), then partial-update loads per column set. */
  plan(t: LoadTarget, changes: TargetChange[]): Array<{ columns: string[]; body: Buffer; headers?: Record<string, string> }> {
    if (!t.keyColumns.length) return this.keyless(t, changes);
    const folded = [...foldChanges(t, changes).values()];
    const keyCols = t.columns.filter((c) => t.keyColumns.includes(c.name));
    const op = this.s.dialect.opColumn;
    const mixed: Folded[] = [];
    const partial = new Map<string, { cols: LoadColumn[]; rows: Row[] }>();
    for (const f of folded) {
      const present = f.op === 1 ? t.columns : t.columns.filter((c) => f.row[c.name] !== undefined);
      if (present.length === t.columns.length) mixed.push(f);
      else {
        const id = present.map((c) => c.name).join('\u0000');
        const g = partial.get(id) ?? { cols: present, rows: [] };
        g.rows.push(f.row);
        partial.set(id, g);
      }
    }
    const out: Array<{ columns: string[]; body: Buffer; headers?: Record<string, string> }> = [];
    const encode = (cols: LoadColumn[], row: Row, i: number, opValue?: 0 | 1) => encodeRow(t, cols, row, i, opValue === undefined ? undefined : { column: op, value: opValue });
    const columns = [...t.columns.map((c) => c.column), op];
    for (const b of buildBodies(mixed.length, (i) => encode(mixed[i].op === 1 ? keyCols : t.columns, mixed[i].row, i, mixed[i].op), this.s.maxBodyBytes)) {
      out.push({ columns, body: b.body });
    }
    for (const g of partial.values()) {
      for (const b of buildBodies(g.rows.length, (i) => encode(g.cols, g.rows[i], i), this.s.maxBodyBytes)) {
        out.push({ columns: g.cols.map((c) => c.column), body: b.body, headers: this.s.dialect.partialHeaders });
      }
    }
    return out;
  }

  private keyless(t: LoadTarget, changes: TargetChange[]): Array<{ columns: string[]; body: Buffer }> {
    const bad = changes.find((c) => c.op !== 'insert');
    if (bad) {
      throw new FerryError('MD001', `target ${t.id} has no key: a ${bad.op} cannot be applied by Stream Load (only inserts are appended)`, {
        details: { table: t.id, op: bad.op },
      });
    }
    const rows = changes.map((c) => c.after!);
    const columns = t.columns.map((c) => c.column);
    return buildBodies(rows.length, (i) => encodeRow(t, t.columns, rows[i], i), this.s.maxBodyBytes).map((b) => ({ columns, body: b.body }));
  }

  async truncate(table: TableRef, signal: AbortSignal): Promise<void> {
    await this.s.catalog.execute(`TRUNCATE TABLE ${quoteTable(table)}`, signal);
  }

  async close(): Promise<void> {
    this.targets.clear();
  }
}
