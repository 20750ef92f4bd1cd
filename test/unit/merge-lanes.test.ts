import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Row, TargetChange, WriteTarget } from '../../lib/core/index.ts';
import { mergeChanges } from '../../lib/parallel/merge.ts';
import { keyLanes, tableLanes } from '../../lib/parallel/lanes.ts';

const target = (tb: string, key = ['id']): WriteTarget => ({
  table: { db: 'd', tb },
  source: { db: 's', tb },
  keyColumns: key,
  columns: [
    { name: 'id', nativeType: 'int', family: 'int', nullable: false },
    { name: 'v', nativeType: 'text', family: 'string', nullable: true },
    { name: 'big', nativeType: 'text', family: 'string', nullable: true },
  ],
});
const T = target('t');
const ins = (id: number, v: string, t = T): TargetChange => ({ op: 'insert', target: t, beforeKey: null, after: { id, v, big: 'B' } });
const upd = (from: number, after: Row, t = T): TargetChange => ({ op: 'update', target: t, beforeKey: { id: from }, after });
const del = (id: number, t = T): TargetChange => ({ op: 'delete', target: t, beforeKey: { id }, after: null });

/** Reference semantics: apply changes one by one to an in-memory table. */
function applySerial(changes: TargetChange[], start: Map<number, Row> = new Map()): Map<number, Row> {
  const rows = new Map(start);
  for (const c of changes) {
    if (c.op === 'delete') rows.delete(c.beforeKey!.id as number);
    else if (c.op === 'insert') rows.set(c.after!.id as number, { ...c.after! });
    else {
      const old = rows.get(c.beforeKey!.id as number);
      rows.delete(c.beforeKey!.id as number);
      if (old || Object.keys(c.after!).length === 3) rows.set(c.after!.id as number, { ...(old ?? {}), ...c.after! });
    }
  }
  return rows;
}

describe('mergeChanges', () => {
  const cases: Array<[string, TargetChange[]]> = [
    ['insert then updates', [ins(1, 'a'), upd(1, { id: 1, v: 'b', big: 'B' }), upd(1, { id: 1, v: 'c', big: 'B' })]],
    ['insert then delete', [ins(1, 'a'), del(1)]],
    ['delete then insert', [del(1), ins(1, 'z')]],
    ['key change chain', [ins(1, 'a'), upd(1, { id: 2, v: 'a', big: 'B' }), upd(2, { id: 3, v: 'x', big: 'B' }), ins(1, 'again')]],
    ['partial (TOAST) update after insert', [ins(1, 'a'), upd(1, { id: 1, v: 'b' })]],
    ['swap keys through a temp', [upd(1, { id: 9, v: 'one', big: 'B' }), upd(2, { id: 1, v: 'two', big: 'B' }), upd(9, { id: 2, v: 'one', big: 'B' })]],
  ];
  for (const [name, changes] of cases) {
    it(`${name}: merged result equals serial apply`, () => {
      const start = new Map<number, Row>([[1, { id: 1, v: 'orig1', big: 'B' }], [2, { id: 2, v: 'orig2', big: 'B' }]]);
      const merged = mergeChanges(changes);
      assert.ok(merged, 'mergeable');
      const keys = merged!.map((c) => (c.op === 'insert' ? c.after!.id : c.beforeKey!.id));
      assert.equal(new Set(keys).size, keys.length, 'one change per key');
      assert.deepEqual(applySerial(merged!, start), applySerial(changes, start));
    });
  }

  it('keeps a partial update partial (never writes absent columns)', () => {
    const merged = mergeChanges([upd(1, { id: 1, v: 'x' }), upd(1, { id: 1, v: 'y' })])!;
    assert.deepEqual(merged, [{ op: 'update', target: T, beforeKey: { id: 1 }, after: { id: 1, v: 'y' } }]);
  });

  it('falls back (null) for keyless tables, NULL keys and partial rows whose key changed', () => {
    assert.equal(mergeChanges([ins(1, 'a', target('k', []))]), null);
    assert.equal(mergeChanges([{ op: 'insert', target: T, beforeKey: null, after: { id: null, v: 'a', big: 'B' } }]), null);
    assert.equal(mergeChanges([upd(1, { id: 2, v: 'partial' })]), null);
  });
});

describe('lanes', () => {
  it('keyLanes keeps every key in one lane and uses several lanes', () => {
    const changes = Array.from({ length: 200 }, (_, i) => ins(i % 50, `v${i}`));
    const lanes = keyLanes(changes, 4);
    assert.ok(lanes.length > 1);
    const laneOf = new Map<unknown, number>();
    lanes.forEach((l, i) => l.forEach((c) => {
      const k = c.after!.id;
      assert.ok(!laneOf.has(k) || laneOf.get(k) === i, `key ${k} in two lanes`);
      laneOf.set(k, i);
    }));
    assert.equal(lanes.flat().length, 200);
  });

  it('tableLanes keeps per-table order', () => {
    const A = target('a');
    const B = target('b');
    const changes = [ins(1, 'a1', A), ins(1, 'b1', B), del(1, A), ins(2, 'b2', B)];
    const lanes = tableLanes(changes, 2);
    for (const lane of lanes) {
      const idx = lane.map((c) => changes.indexOf(c));
      assert.deepEqual(idx, [...idx].sort((x, y) => x - y));
    }
    assert.equal(lanes.flat().length, 4);
  });
});
