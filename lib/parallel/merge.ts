import type { Row, TargetChange, Value, WriteTarget } from '../core/index.ts';
import { normalizeValue } from '../check/normalize.ts';

/**
 * ape-dts `rdb_merge`: folds an ordered run of changes into one final change per (table, key):
 * a delete, a full-row upsert, or a partial update (columns absent from the source change stay untouched).
 * Invariant: applying the merged changes in any order (they touch distinct keys) leaves the target as
 * applying the input in order would. Returns null when that cannot be guaranteed -- keyless tables, NULL
 * key values, a partial row whose key changed -- and the caller then applies the input in order.
 */
export function mergeChanges(changes: TargetChange[]): TargetChange[] | null {
  type State = { kind: 'deleted'; key: Row } | { kind: 'row'; row: Row } | { kind: 'patch'; key: Row; cols: Row };
  const perTable = new Map<string, { target: WriteTarget; states: Map<string, State> }>();
  for (const c of changes) {
    const t = c.target;
    if (t.keyColumns.length === 0) return null;
    const tid = `${t.table.db}\u0000${t.table.tb}`;
    let entry = perTable.get(tid);
    if (!entry) perTable.set(tid, (entry = { target: t, states: new Map() }));
    const states = entry.states;
    const full = (r: Row) => t.columns.every((col) => r[col.name] !== undefined);
    const keyOf = (r: Row): string | null => {
      const parts: string[] = [];
      for (const k of t.keyColumns) {
        const v = r[k] as Value | undefined;
        if (v === null || v === undefined) return null;
        parts.push(normalizeValue(v, t.columns.find((col) => col.name === k)?.family ?? 'other'));
      }
      return parts.join('\u0001');
    };
    const keyRow = (r: Row): Row => Object.fromEntries(t.keyColumns.map((k) => [k, r[k]]));
    if (c.op === 'delete') {
      const k = keyOf(c.beforeKey!);
      if (k === null) return null;
      states.set(k, { kind: 'deleted', key: keyRow(c.beforeKey!) });
      continue;
    }
    const after = c.after!;
    const newKey = keyOf(after);
    if (newKey === null) return null;
    if (c.op === 'update' && c.beforeKey) {
      const oldKey = keyOf(c.beforeKey);
      if (oldKey === null) return null;
      if (oldKey !== newKey) {
        const prev = states.get(oldKey);
        states.set(oldKey, { kind: 'deleted', key: keyRow(c.beforeKey) });
        if (full(after)) states.set(newKey, { kind: 'row', row: after });
        else if (prev?.kind === 'row') states.set(newKey, { kind: 'row', row: { ...prev.row, ...after } });
        else return null;
        continue;
      }
    }
    if (c.op === 'insert' || full(after)) {
      states.set(newKey, { kind: 'row', row: after });
      continue;
    }
    const prev = states.get(newKey);
    if (prev?.kind === 'row') states.set(newKey, { kind: 'row', row: { ...prev.row, ...after } });
    else if (prev?.kind === 'patch') states.set(newKey, { kind: 'patch', key: prev.key, cols: { ...prev.cols, ...after } });
    else states.set(newKey, { kind: 'patch', key: keyRow(after), cols: after });
  }
  const out: TargetChange[] = [];
  for (const { target, states } of perTable.values()) {
    for (const s of states.values()) if (s.kind === 'deleted') out.push({ op: 'delete', target, beforeKey: s.key, after: null });
    for (const s of states.values()) {
      if (s.kind === 'row') out.push({ op: 'insert', target, beforeKey: null, after: s.row });
      else if (s.kind === 'patch') out.push({ op: 'update', target, beforeKey: s.key, after: s.cols });
    }
  }
  return out;
}
