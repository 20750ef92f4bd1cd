import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyFirst } from '../../lib/connectors/pg/table-writer.ts';

/** Which of `n` batches try COPY, given which attempts conflict. */
function tries(n: number, conflicts: (attempt: number) => boolean): boolean[] {
  const c = new CopyFirst();
  const out: boolean[] = [];
  let attempt = 0;
  for (let i = 0; i < n; i++) {
    const t = c.shouldTry();
    out.push(t);
    if (!t) continue;
    if (conflicts(attempt++)) c.conflicted();
    else c.succeeded();
  }
  return out;
}

describe('pg auto write mode: when COPY is tried', () => {
  it('an empty target: every batch is COPYed', () => {
    assert.deepEqual(tries(5, () => false), [true, true, true, true, true]);
  });

  it('a resumed chunk: one conflict costs one skipped batch, then COPY again', () => {
    assert.deepEqual(tries(5, (a) => a === 0), [true, false, true, true, true]);
  });

  it('a full rerun: skips grow 1, 3, 7, ... and stop growing at 63', () => {
    const t = tries(200, () => true);
    const tried = t.flatMap((v, i) => (v ? [i] : []));
    assert.deepEqual(tried.slice(0, 6), [0, 2, 6, 14, 30, 62]);
    const gaps = tried.slice(1).map((v, i) => v - tried[i]);
    assert.ok(gaps.every((g) => g <= 64), `gaps ${gaps}`);
    assert.equal(gaps.at(-1), 64);
  });
});
