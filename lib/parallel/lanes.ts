import type { TargetChange, Row } from '../core/index.ts';
import { normalizeValue } from '../check/normalize.ts';

/**
 * Lane planners: split a batch into lanes that can be applied concurrently, each lane in its own target
 * transaction. Pure functions; order inside a lane is the input order.
 * Invariant: two changes that touch the same row (same table and key) are always in the same lane.
 */
export type LanePlanner = (changes: TargetChange[], lanes: number) => TargetChange[][];

/** `serial`: one lane, source order. */
export const serialLanes: LanePlanner = (changes) => (changes.length ? [changes] : []);

/** `table`: by target table (order kept per table). */
export const tableLanes: LanePlanner = (changes, lanes) =>
  spread(changes, lanes, (c) => `${c.target.table.db}\u0000${c.target.table.tb}`);

/**
 * `rdb_merge` / `rdb_partition`: by table and key. Input must hold at most one change per key (merged), or
 * keys must not change, or rows move between lanes out of order.
 */
export const keyLanes: LanePlanner = (changes, lanes) =>
  spread(changes, lanes, (c) => {
    const row: Row = (c.op === 'insert' ? c.after : c.beforeKey) ?? {};
    const k = c.target.keyColumns.map((col) => normalizeValue(row[col], c.target.columns.find((x) => x.name === col)?.family ?? 'other'));
    return `${c.target.table.db}\u0000${c.target.table.tb}\u0000${k.join('\u0001')}`;
  });

function spread(changes: TargetChange[], lanes: number, keyOf: (c: TargetChange) => string): TargetChange[][] {
  if (lanes <= 1) return serialLanes(changes, 1);
  const out: TargetChange[][] = Array.from({ length: lanes }, () => []);
  for (const c of changes) out[hash(keyOf(c)) % lanes].push(c);
  return out.filter((l) => l.length > 0);
}

/** FNV-1a, 32 bit: stable across processes (lanes do not need to be, but tests read better). */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
