import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { balancedChunkRows } from '../../lib/plan/split.ts';

describe('balancedChunkRows', () => {
  const chunks = (est: number, rows: number) => Math.ceil(est / rows);

  it('rounds the chunk count up to a multiple of the workers', () => {
    // 986,400 rows at 200,000 a chunk is 5 chunks: on 2 workers the fifth runs alone; 6 keep both busy.
    const r = balancedChunkRows(986_400, 200_000, 2);
    assert.equal(r, 164_400);
    assert.equal(chunks(986_400, r), 6);
    assert.equal(chunks(1_000_000, balancedChunkRows(1_000_000, 200_000, 3)), 6);
    assert.equal(chunks(1_000_001, balancedChunkRows(1_000_001, 100_000, 4)), 12);
  });

  it('keeps chunk_rows when the count already fits, for one worker, and for a table of one chunk', () => {
    assert.equal(balancedChunkRows(1_000_000, 250_000, 2), 250_000);
    assert.equal(balancedChunkRows(1_000_000, 200_000, 1), 200_000);
    assert.equal(balancedChunkRows(150_000, 200_000, 8), 200_000);
    assert.equal(balancedChunkRows(0, 200_000, 4), 200_000);
  });

  it('never shrinks chunks below half of chunk_rows', () => {
    // 2 chunks on 8 workers would need 8 chunks of a quarter: left as 2.
    assert.equal(balancedChunkRows(400_000, 200_000, 8), 200_000);
    // 3 chunks on 4 workers: 4 chunks of 3/4 the size.
    assert.equal(chunks(600_000, balancedChunkRows(600_000, 200_000, 4)), 4);
    for (const [est, rows, w] of [[5_000_000, 200_000, 7], [123_457, 1_000, 16], [999, 10, 3]]) {
      const r = balancedChunkRows(est, rows, w);
      assert.ok(r >= rows / 2 && r <= rows, `${est}/${rows}/${w} -> ${r}`);
    }
  });
});
