import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runPool } from '../../lib/task/worker-pool.ts';

describe('runPool', () => {
  it('runs every job with bounded concurrency', async () => {
    let running = 0;
    let peak = 0;
    const res = await runPool([...Array(20).keys()], 3, async (i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 2));
      running--;
      return i * 2;
    });
    assert.equal(peak, 3);
    assert.deepEqual(res.map((r) => (r?.status === 'fulfilled' ? r.value : null)), [...Array(20).keys()].map((i) => i * 2));
  });

  it('stops taking jobs after a failure with stopOnError, reporting what ran', async () => {
    const res = await runPool([1, 2, 3, 4, 5, 6], 1, async (i) => {
      if (i === 2) throw new Error('bad');
      return i;
    }, { stopOnError: true });
    assert.equal(res[0]?.status, 'fulfilled');
    assert.equal(res[1]?.status, 'rejected');
    assert.equal(res[2], undefined);
  });

  it('stops taking jobs when the signal fires', async () => {
    const ac = new AbortController();
    const res = await runPool([1, 2, 3, 4], 1, async (i) => {
      if (i === 2) ac.abort();
      return i;
    }, { signal: ac.signal });
    assert.equal(res.filter(Boolean).length, 2);
  });
});
