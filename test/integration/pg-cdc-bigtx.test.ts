/**
 * A 100k-row transaction streams through the PostgreSQL CDC source with bounded memory: the receive queue
 * pauses the replication socket at its bound while a slow consumer holds batches, so the heap stays near the
 * bound whatever the transaction size. Also measures decode throughput (changes/s) with a fast consumer.
 */
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import type { Position } from '../../lib/core/change.ts';
import { cdcDatabase, never, type CdcDb } from './pg-cdc-support.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ROWS = 100_000;
const MB = 1024 * 1024;
let db: CdcDb;

interface Tuning {
  queueItems: number;
  queueBytes: number;
  batchEvents: number;
}

/**
 * Streams the big transaction. `slowMs` > 0: the consumer sleeps per batch and samples the LIVE heap (after a
 * forced GC) every few batches, so garbage does not blur the bound; 0: as fast as possible, for throughput.
 */
async function run(label: string, start: Position, slowMs: number, tuning: Tuning) {
  const source = await db.source({}, tuning);
  gc();
  const base = process.memoryUsage().heapUsed;
  let peakLive = 0;
  let rows = 0;
  let commits = 0;
  let batches = 0;
  let first = 0;
  let cpu0 = process.cpuUsage();
  const t0 = Date.now();
  try {
    for await (const batch of source.stream(start, never)) {
      if (!first) {
        first = Date.now();
        cpu0 = process.cpuUsage(); // from the first event on: decoding, not connecting
      }
      batches++;
      for (const e of batch) {
        if (e.kind === 'row') rows++;
        else if (e.kind === 'commit') commits++;
      }
      if (slowMs) {
        await new Promise((r) => setTimeout(r, slowMs));
        if (batches % 20 === 1) {
          gc();
          peakLive = Math.max(peakLive, process.memoryUsage().heapUsed - base);
        }
      }
      if (commits) break;
    }
  } finally {
    await source.close();
  }
  const decodeMs = Date.now() - first;
  const cpu = process.cpuUsage(cpu0);
  return {
    clientCpuUsPerChange: +((cpu.user + cpu.system) / rows).toFixed(2), label, rows, commits, batches, peakLiveHeapMb: +(peakLive / MB).toFixed(1), firstEventMs: first - t0, decodeMs, changesPerSec: Math.round(rows / (decodeMs / 1000)) };
}

describe('pg cdc large transaction', () => {
  let start: Position;
  before(async () => {
    db = await cdcDatabase('ferry_cdc_bigtx');
    await db.exec(`CREATE TABLE sbtest (id int PRIMARY KEY, k int NOT NULL, c char(120) NOT NULL, pad char(60) NOT NULL, ts timestamptz NOT NULL, n numeric(12,2))`);
    const s = await db.source();
    start = await s.currentPosition(never);
    await s.close();
    await db.exec(`INSERT INTO sbtest SELECT g, g % 1000, repeat(md5(g::text), 4)::char(120), repeat('p', 60), now(), g / 100.0 FROM generate_series(1, ${ROWS}) g`);
  });
  after(async () => {
    await db?.cleanup();
  });

  it('a slow consumer holds the live heap near the queue bound (socket paused), nothing lost', async (t) => {
    const bounded = await run('slow consumer, queue 2000 items / 4 MiB', start, 5, { queueItems: 2000, queueBytes: 4 * MB, batchEvents: 500 });
    t.diagnostic(JSON.stringify(bounded));
    assert.equal(bounded.rows, ROWS);
    assert.equal(bounded.commits, 1);
    // The same consumer without a bound: everything the server sends piles up in the queue.
    const unbounded = await run('slow consumer, no bound', start, 5, { queueItems: 1e9, queueBytes: 1e12, batchEvents: 500 });
    t.diagnostic(JSON.stringify(unbounded));
    assert.equal(unbounded.rows, ROWS);
    assert.ok(bounded.peakLiveHeapMb < 16, `bounded: peak live heap growth ${bounded.peakLiveHeapMb} MB`);
    assert.ok(bounded.peakLiveHeapMb * 3 < unbounded.peakLiveHeapMb, `bounded ${bounded.peakLiveHeapMb} MB vs unbounded ${unbounded.peakLiveHeapMb} MB`);
  });

  it('decode throughput with a fast consumer (default bounds)', async (t) => {
    const r = await run('fast consumer, default bounds', start, 0, { queueItems: 10_000, queueBytes: 32 * MB, batchEvents: 1000 });
    t.diagnostic(JSON.stringify(r));
    assert.equal(r.rows, ROWS);
  });
});
