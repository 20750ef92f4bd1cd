import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { prefetch } from '../../lib/pipeline/prefetch.ts';

describe('prefetch', () => {
  it('keeps order and never holds more than maxItems ahead', async () => {
    let produced = 0;
    let consumed = 0;
    let maxAhead = 0;
    async function* src() {
      for (let i = 0; i < 50; i++) {
        produced++;
        maxAhead = Math.max(maxAhead, produced - consumed);
        yield i;
      }
    }
    const got: number[] = [];
    for await (const x of prefetch(src(), { maxItems: 3, maxBytes: 1e9, sizeOf: () => 1 })) {
      await new Promise((r) => setTimeout(r, 1));
      consumed++;
      got.push(x);
    }
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i));
    assert.ok(maxAhead <= 4, `held ${maxAhead} items ahead`);
  });

  it('bounds by bytes', async () => {
    let produced = 0;
    let consumed = 0;
    let maxAhead = 0;
    async function* src() {
      for (let i = 0; i < 20; i++) {
        produced++;
        maxAhead = Math.max(maxAhead, produced - consumed);
        yield 'x'.repeat(100);
      }
    }
    for await (const _ of prefetch(src(), { maxItems: 100, maxBytes: 250, sizeOf: (s) => s.length })) {
      await new Promise((r) => setTimeout(r, 1));
      consumed++;
    }
    assert.ok(maxAhead <= 4, `held ${maxAhead} items ahead`);
  });

  it('surfaces a source error to the consumer and stops the producer on break', async () => {
    async function* failing() {
      yield 1;
      throw new Error('boom');
    }
    await assert.rejects(async () => {
      for await (const _ of prefetch(failing(), { maxItems: 2, maxBytes: 100, sizeOf: () => 1 }));
    }, /boom/);
    let finished = false;
    async function* endless() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        finished = true;
      }
    }
    for await (const x of prefetch(endless(), { maxItems: 2, maxBytes: 100, sizeOf: () => 1 })) if (x === 5) break;
    assert.equal(finished, true);
  });
});
