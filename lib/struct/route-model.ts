import type { SchemaModel, StructTable } from '../core/struct.ts';
import type { TableRef } from '../core/table.ts';
import type { Router } from '../pipeline/router.ts';

/** The routed model plus the way back from a target table to its source (structure check keys use source names). */
export interface RoutedModel {
  model: SchemaModel;
  /** JSON [targetDb, targetTb] -> source table. */
  sourceOf: Map<string, TableRef>;
}

const key = (db: string, tb: string): string => JSON.stringify([db, tb]);

/**
 * Applies db_map / tb_map / col_map to a source schema model: every name a target statement uses becomes the
 * target's (tables, columns in keys, indexes and foreign keys, referenced tables, sequence owners, enum type
 * schemas). CHECK and generated expressions are engine text and keep their column names.
 * Invariant: pure; the input model is not changed; order is kept.
 */
export function routeModel(model: SchemaModel, router: Router): RoutedModel {
  const sourceOf = new Map<string, TableRef>();
  const col = (t: TableRef, c: string) => router.routeColumn(t.db, t.tb, c);
  const tables = model.tables.map((t): StructTable => {
    const to = router.routeTable(t);
    sourceOf.set(key(to.db, to.tb), { db: t.db, tb: t.tb });
    return {
      ...t,
      db: to.db,
      tb: to.tb,
      columns: t.columns.map((c) => ({ ...c, name: col(t, c.name) })),
      ...(t.primaryKey ? { primaryKey: { ...t.primaryKey, columns: t.primaryKey.columns.map((c) => col(t, c)) } } : {}),
      indexes: t.indexes.map((ix) => ({ ...ix, parts: ix.parts.map((p) => (p.column === undefined ? { ...p } : { ...p, column: col(t, p.column) })) })),
      foreignKeys: t.foreignKeys.map((fk) => {
        const ref = { db: fk.refDb, tb: fk.refTb };
        const rt = router.routeTable(ref);
        return { ...fk, columns: fk.columns.map((c) => col(t, c)), refDb: rt.db, refTb: rt.tb, refColumns: fk.refColumns.map((c) => col(ref, c)) };
      }),
      checks: t.checks.map((c) => ({ ...c })),
    };
  });
  const owner = (ownedBy: string): string => {
    for (const t of model.tables) {
      const prefix = `${t.db}.${t.tb}.`;
      const c = ownedBy.startsWith(prefix) ? t.columns.find((x) => ownedBy === prefix + x.name) : undefined;
      if (c) {
        const to = router.routeTable(t);
        return `${to.db}.${to.tb}.${col(t, c.name)}`;
      }
    }
    return ownedBy;
  };
  const dbNames = [...new Set([...model.databases.map((d) => router.routeDb(d.name)), ...tables.map((t) => t.db)])];
  const databases = dbNames.map((name) => {
    const src = model.databases.find((d) => router.routeDb(d.name) === name);
    return src ? { ...src, name } : { name };
  });
  return {
    model: {
      sourceDbType: model.sourceDbType,
      databases,
      tables,
      sequences: model.sequences.map((s) => ({ ...s, db: router.routeDb(s.db), ...(s.ownedBy ? { ownedBy: owner(s.ownedBy) } : {}) })),
      enumTypes: model.enumTypes.map((e) => ({ ...e, db: router.routeDb(e.db) })),
    },
    sourceOf,
  };
}
