import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PageStreams } from '../../lib/task/page-streams.ts';
import type { RawWriteStream } from '../../lib/core/sinker.ts';
import type { RowBatch } from '../../lib/core/source.ts';

/** A raw page of `n` lines ending at key `last`; `late` marks a page the writer refuses. */
const page = (last: number, n: number, format = 'f', late = false): RowBatch => ({
  rows: [],
  lastKey: [last],
  bytes: n,
  raw: { format, chunks: [Buffer.from(`${last}${late ? ' late' : ''}`)], count: n },
});

/** Streams that record what reached them, and whose `end` resolves only when the test says so. */
function recorder() {
  const log: string[] = [];
  const pendingEnds: Array<() => void> = [];
  let opened = 0;
  const open = (format: string): RawWriteStream => {
    const id = ++opened;
    log.push(`open ${id} ${format}`);
    return {
      async push(raw) {
        if (raw.chunks[0].toString().endsWith('late')) return false;
        log.push(`push ${id} ${raw.chunks[0]}`);
        return true;
      },
      end: () => new Promise<void>((r) => pendingEnds.push(() => (log.push(`acked ${id}`), r()))),
      abort: () => void log.push(`abort ${id}`),
    };
  };
  const release = async () => {
    while (!pendingEnds.length) await new Promise((r) => setImmediate(r));
    pendingEnds.shift()!();
  };
  return { log, open, release };
}

describe('PageStreams', () => {
  const never = new AbortController().signal;

  it('reports rows only after the stream end resolved, one stream per maxRows', async () => {
    const r = recorder();
    const acks: Array<[number, number]> = [];
    const onAcked = (k: unknown, n: number) => acks.push([(k as number[])[0], n]);
    const s = new PageStreams(r.open, 250, never);
    assert.equal(await s.push(page(100, 100), onAcked), true);
    assert.equal(await s.push(page(200, 100), onAcked), true);
    const third = s.push(page(300, 100), onAcked); // reaches 300 >= 250 rows: ends the stream
    await new Promise((res) => setImmediate(res));
    assert.deepEqual(acks, [], 'nothing reported while the end is pending');
    await r.release();
    assert.equal(await third, true);
    assert.deepEqual(acks, [[300, 300]]);
    await s.push(page(350, 50), onAcked);
    const end = s.end(onAcked);
    await r.release();
    await end;
    assert.deepEqual(acks, [[300, 300], [350, 50]]);
    assert.deepEqual(r.log, ['open 1 f', 'push 1 100', 'push 1 200', 'push 1 300', 'acked 1', 'open 2 f', 'push 2 350', 'acked 2']);
  });

  it('a refused page leaves the stream open for the caller to end; another format ends it; abort reports nothing', async () => {
    const r = recorder();
    const acks: number[] = [];
    const onAcked = (_k: unknown, n: number) => acks.push(n);
    const s = new PageStreams(r.open, 1000, never);
    await s.push(page(1, 10), onAcked);
    assert.equal(await s.push(page(2, 10, 'f', true), onAcked), false);
    assert.deepEqual(acks, []);
    const end = s.end(onAcked);
    await r.release();
    await end;
    assert.deepEqual(acks, [10]);
    await s.push(page(3, 5, 'f'), onAcked);
    const other = s.push(page(4, 7, 'g'), onAcked);
    await r.release();
    await other;
    assert.deepEqual(acks, [10, 5]);
    s.abort();
    await s.end(onAcked);
    assert.deepEqual(acks, [10, 5], 'the aborted stream reported nothing');
    assert.deepEqual(r.log, ['open 1 f', 'push 1 1', 'acked 1', 'open 2 f', 'push 2 3', 'acked 2', 'open 3 g', 'push 3 4', 'abort 3']);
  });
});
