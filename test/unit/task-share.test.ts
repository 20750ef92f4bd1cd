/** Cloud Run task index/count -> chunks: disjoint shares covering every chunk once; bad values named. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chunksForTask, resolveTaskShare } from '../../lib/task/task-share.ts';
import { isFerryError } from '../../lib/core/errors.ts';

describe('task share', () => {
  it('task i of n runs chunks i, i+n, ...', () => {
    const chunks = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    assert.deepEqual(chunksForTask(chunks, { index: 0, count: 3 }), ['a', 'd', 'g']);
    assert.deepEqual(chunksForTask(chunks, { index: 1, count: 3 }), ['b', 'e']);
    assert.deepEqual(chunksForTask(chunks, { index: 2, count: 3 }), ['c', 'f']);
    assert.deepEqual(chunksForTask(chunks, { index: 0, count: 1 }), chunks);
    assert.deepEqual(chunksForTask(chunks, { index: 9, count: 10 }), []);
  });

  it('shares are disjoint and cover every chunk exactly once, for any count', () => {
    const chunks = Array.from({ length: 53 }, (_, i) => i);
    for (let count = 1; count <= 60; count++) {
      const all = Array.from({ length: count }, (_, index) => chunksForTask(chunks, { index, count })).flat().sort((a, b) => a - b);
      assert.deepEqual(all, chunks, `count ${count}`);
    }
  });

  it('flags win over CLOUD_RUN_TASK_INDEX / CLOUD_RUN_TASK_COUNT', () => {
    const env = { CLOUD_RUN_TASK_INDEX: '2', CLOUD_RUN_TASK_COUNT: '5' };
    assert.deepEqual(resolveTaskShare({}, env), { index: 2, count: 5 });
    assert.deepEqual(resolveTaskShare({ taskIndex: '0', taskCount: '2' }, env), { index: 0, count: 2 });
  });

  it('missing or bad values: CF002 / CF001 naming the flag or variable', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isFerryError(e) ? `${e.code} ${e.message}` : String(e);
      }
      return 'no error';
    };
    assert.match(code(() => resolveTaskShare({}, {})), /^CF002 CLOUD_RUN_TASK_INDEX/);
    assert.match(code(() => resolveTaskShare({ taskIndex: '0' }, {})), /^CF002 CLOUD_RUN_TASK_COUNT/);
    assert.match(code(() => resolveTaskShare({ taskIndex: 'x', taskCount: '2' }, {})), /^CF001 --task-index: expected an integer/);
    assert.match(code(() => resolveTaskShare({ taskIndex: '0', taskCount: '0' }, {})), /^CF001 --task-count/);
    assert.match(code(() => resolveTaskShare({}, { CLOUD_RUN_TASK_INDEX: '3', CLOUD_RUN_TASK_COUNT: '3' })), /^CF001 CLOUD_RUN_TASK_INDEX: 3 is not below/);
  });
});
