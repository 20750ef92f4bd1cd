import type { Logger, MetadataAccessor, RowChange, Row, TableMeta, TableRef, TargetChange, WriteTarget } from '../../core/index.ts';
import { FerryError } from '../../core/errors.ts';
import type { TaskConfig } from '../../config/types.ts';
import { createFilter, type TableFilter } from '../filter.ts';
import { createRouter, type Router } from '../router.ts';

/** How one source table lands in the target, derived from filter + router + source metadata. */
export interface TableRoute {
  source: TableRef;
  target: WriteTarget;
  /** source column -> target column, for columns that are copied (ignore_cols removed). */
  columns: Map<string, string>;
  /** Source names of the key columns; empty for keyless tables. */
  sourceKey: string[];
  keyless: boolean;
  /** Source columns dropped by filter.ignore_cols. */
  ignored: Set<string>;
  /** Targets narrowed to the columns of an older row shape, by column signature (stable objects per shape). */
  shapes?: Map<string, WriteTarget>;
}

/**
 * Turns source row changes into target changes: filters tables and events (`filter.do_events`), drops
 * ignored columns, renames by `router`, and derives the before-key. Table routes are cached and rebuilt
 * after DDL (`invalidate`). Invariant: a change of an excluded table or event yields null, never a
 * partial change; a column absent from the source change stays absent (unchanged TOAST).
 */
export class ChangeRouter {
  private readonly filter: TableFilter;
  private readonly router: Router;
  private readonly routes = new Map<string, Promise<TableRoute | null>>();

  constructor(private readonly cfg: TaskConfig, private readonly meta: MetadataAccessor, private readonly logger: Logger) {
    this.filter = createFilter(cfg.filter);
    this.router = createRouter(cfg.router);
  }

  tableIncluded(t: TableRef): boolean {
    return this.filter.tableIncluded(t.db, t.tb);
  }

  ddlIncluded(db: string, tb: string | undefined, ddlType: string): boolean {
    return this.filter.ddlIncluded(db, tb, ddlType);
  }

  routeTable(t: TableRef): TableRef {
    return this.router.routeTable(t);
  }

  /** Forget cached metadata of a table (after DDL) or of all tables. */
  invalidate(t?: TableRef): void {
    if (t) this.routes.delete(key(t));
    else this.routes.clear();
  }

  async route(t: TableRef, signal: AbortSignal): Promise<TableRoute | null> {
    const k = key(t);
    let r = this.routes.get(k);
    if (!r) {
      r = this.build(t, signal);
      this.routes.set(k, r);
      r.catch(() => this.routes.delete(k));
    }
    return r;
  }

  async toTarget(c: RowChange, signal: AbortSignal): Promise<TargetChange | null> {
    if (!this.filter.eventIncluded(c.table.db, c.table.tb, c.op)) return null;
    let route = await this.route(c.table, signal);
    if (!route) return null;
    if (this.hasUnknownColumn(c, route)) {
      // The source's shape changed without a DDL event (PostgreSQL: pgoutput sends new Relation messages only):
      // re-read the table's metadata once so a new column is copied, never silently dropped.
      this.invalidate(c.table);
      route = await this.route(c.table, signal);
      if (!route) return null;
      if (this.hasUnknownColumn(c, route)) route = this.withHistoricColumns(c, route);
    }
    const after = c.after ? renameRow(c.after, route.columns) : null;
    const target = completeImage(c) ? this.targetForShape(route, after ?? renameRow(c.before!, route.columns)) : route.target;
    let beforeKey: Row | null = null;
    if (c.op !== 'insert') {
      const src = c.before ?? c.after;
      if (!src) throw new FerryError('RT002', `${c.op} on ${c.table.db}.${c.table.tb} carries no row`);
      beforeKey = route.keyless ? renameRow(src, route.columns) : pick(src, route.sourceKey, route.columns);
    }
    return { op: c.op, target, beforeKey, after };
  }

  /**
   * A change older than the table's current shape (the binlog is read after a later DROP COLUMN ran): its
   * columns are still in the target at this point of the stream, because DDL is applied in stream order. Pass
   * them through under their routed names; their values are already canonical, typed by the source.
   */
  private withHistoricColumns(c: RowChange, route: TableRoute): TableRoute {
    const extra = Object.keys({ ...c.before, ...c.after }).filter((n) => !route.columns.has(n) && !route.ignored.has(n));
    this.logger.warn('change carries columns the table no longer has (older than a DDL); passed through', {
      table: `${c.table.db}.${c.table.tb}`, columns: extra,
    });
    const columns = new Map(route.columns);
    const added = extra.map((n) => {
      columns.set(n, this.router.routeColumn(c.table.db, c.table.tb, n));
      const v = (c.after ?? c.before)![n];
      const family = typeof v === 'number' || typeof v === 'bigint' ? 'int' : Buffer.isBuffer(v) ? 'binary' : 'string';
      return { name: columns.get(n)!, nativeType: 'unknown', family, nullable: true } as const;
    });
    return { ...route, columns, target: { ...route.target, columns: [...route.target.columns, ...added] } };
  }

  /**
   * A complete row image (insert; update/delete carrying the full old and new rows, as MySQL's FULL binlog
   * image does) that lacks some current columns is older than an ADD COLUMN still to be applied downstream:
   * write it with exactly its own columns. Partial images (PostgreSQL unchanged TOAST) keep the full target,
   * so absent columns stay untouched.
   */
  private targetForShape(route: TableRoute, row: Row): WriteTarget {
    if (route.target.columns.every((col) => row[col.name] !== undefined || col.name in row)) return route.target;
    const names = route.target.columns.filter((col) => col.name in row).map((col) => col.name);
    const sig = names.join('\u0000');
    route.shapes ??= new Map();
    let t = route.shapes.get(sig);
    if (!t) {
      t = { ...route.target, columns: route.target.columns.filter((col) => col.name in row) };
      route.shapes.set(sig, t);
    }
    return t;
  }

  private hasUnknownColumn(c: RowChange, route: TableRoute): boolean {
    for (const row of [c.after, c.before]) {
      if (!row) continue;
      for (const n in row) if (!route.columns.has(n) && !route.ignored.has(n)) return true;
    }
    return false;
  }

  private async build(t: TableRef, signal: AbortSignal): Promise<TableRoute | null> {
    if (!this.filter.tableIncluded(t.db, t.tb)) return null;
    const meta: TableMeta = await this.meta.getTableMeta(t, signal);
    const ignored = new Set(this.filter.ignoredColumns(t.db, t.tb));
    const columns = new Map<string, string>();
    for (const c of meta.columns) if (!ignored.has(c.name)) columns.set(c.name, this.router.routeColumn(t.db, t.tb, c.name));
    const target: WriteTarget = {
      table: this.router.routeTable(t),
      source: t,
      columns: meta.columns.filter((c) => columns.has(c.name)).map((c) => ({ ...c, name: columns.get(c.name)! })),
      keyColumns: meta.keyColumns.map((k) => columns.get(k) ?? k),
    };
    this.logger.debug('cdc route', { source: key(t), target: `${target.table.db}.${target.table.tb}` });
    return { source: t, target, columns, sourceKey: meta.keyColumns, keyless: meta.keyKind === 'none', ignored };
  }
}

/** Whether a change carries its whole row: inserts, and updates whose old and new images have the same columns. */
function completeImage(c: RowChange): boolean {
  if (c.op === 'insert') return true;
  if (!c.before) return false;
  const b = Object.keys(c.before);
  if (c.op === 'delete') return false;
  const a = c.after ? Object.keys(c.after) : [];
  return a.length === b.length && a.every((k) => k in c.before!);
}

const key = (t: TableRef) => `${t.db}\u0000${t.tb}`;

function renameRow(row: Row, columns: Map<string, string>): Row {
  const out: Row = {};
  for (const name in row) {
    const to = columns.get(name);
    if (to !== undefined && row[name] !== undefined) out[to] = row[name];
  }
  return out;
}

function pick(row: Row, names: string[], columns: Map<string, string>): Row {
  const out: Row = {};
  for (const n of names) out[columns.get(n) ?? n] = row[n];
  return out;
}
