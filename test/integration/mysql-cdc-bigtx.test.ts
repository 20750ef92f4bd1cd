/**
 * A 100k-row transaction streams through the binlog source with bounded memory: the receive queue pauses the
 * binlog connection at its bound while a slow consumer holds batches, so the live heap stays near the bound
 * whatever the transaction size. Also measures decode throughput (rows/s) over 200k sysbench-shaped rows.
 */
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import type { Position } from '../../lib/core/change.ts';
import type { TableRef } from '../../lib/core/table.ts';
import { freshMysqlDb, type TestDb } from '../support/mysql.ts';
import { cdcSource, never } from './mysql-cdc-support.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MB = 1024 * 1024;

interface Tuning {
  queueItems: number;
  queueBytes: number;
  batchEvents: number;
}

/**
 * Streams `start` until `commitsWanted` commits that closed rows of `table`. `slowMs` > 0: the consumer sleeps per
 * batch and samples the LIVE heap (after a forced GC) every few batches; 0: as fast as possible, for throughput.
 */
async function run(label: string, table: TableRef, start: Position, wantRows: number, slowMs: number, tuning: Tuning) {
  const source = await cdcSource([table], {}, tuning);
  gc();
  const base = process.memoryUsage();
  let peakLive = 0;
  let peakRss = 0;
  let rows = 0;
  let batches = 0;
  let maxBatch = 0;
  let first = 0;
  let done = false;
  let cpu0 = process.cpuUsage();
  const t0 = Date.now();
  try {
    for await (const batch of source.stream(start, never)) {
      if (!first) {
        first = Date.now();
        cpu0 = process.cpuUsage();
      }
      batches++;
      maxBatch = Math.max(maxBatch, batch.length);
      for (const e of batch) {
        if (e.kind === 'row') rows++;
        else if (e.kind === 'commit' && rows >= wantRows) done = true;
      }
      if (slowMs) {
        await new Promise((r) => setTimeout(r, slowMs));
        if (batches % 10 === 1) {
          gc();
          const m = process.memoryUsage();
          peakLive = Math.max(peakLive, m.heapUsed - base.heapUsed);
          peakRss = Math.max(peakRss, m.rss - base.rss);
        }
      }
      if (done) break;
    }
  } finally {
    await source.close();
  }
  const decodeMs = Date.now() - first;
  const cpu = process.cpuUsage(cpu0);
  return {
    label,
    rows,
    batches,
    maxBatch,
    peakLiveHeapMb: +(peakLive / MB).toFixed(1),
    peakRssGrowthMb: +(peakRss / MB).toFixed(1),
    firstEventMs: first - t0,
    decodeMs,
    rowsPerSec: Math.round(rows / (decodeMs / 1000)),
    clientCpuUsPerRow: +((cpu.user + cpu.system) / rows).toFixed(2),
  };
}

describe('mysql cdc large transaction and throughput', () => {
  let db: TestDb;
  let bigStart: Position;
  let benchStart: Position;
  const big = () => ({ db: db.name, tb: 'sbbig' });
  const bench = () => ({ db: db.name, tb: 'sbtest' });

  before(async () => {
    db = await freshMysqlDb('mysql_cdc_bigtx');
    await db.exec(`CREATE TABLE sbbig (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL, ts DATETIME(6) NOT NULL, n DECIMAL(12,2));
      CREATE TABLE sbtest (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL)`);
    const s = await cdcSource([big()]);
    bigStart = await s.currentPosition(never);
    await db.exec(`INSERT INTO sbbig SELECT seq, seq % 1000, RPAD(MD5(seq), 120, 'c'), REPEAT('p', 60), NOW(6), seq / 100 FROM seq_1_to_100000`);
    benchStart = await s.currentPosition(never);
    await s.close();
    // 200k sysbench rows as `sysbench prepare` writes them: multi-row INSERTs, 10k rows per transaction.
    for (let i = 0; i < 20; i++) {
      await db.exec(`INSERT INTO sbtest SELECT seq, FLOOR(RAND() * 200000), RPAD(CONCAT(seq, '-', MD5(seq)), 120, 'x'), RPAD(MD5(seq + 1), 60, 'y') FROM seq_${i * 10_000 + 1}_to_${(i + 1) * 10_000}`);
    }
  });
  after(async () => {
    await db?.drop();
  });

  it('a slow consumer holds the live heap near the queue bound (binlog connection paused), nothing lost', async (t) => {
    const bounded = await run('slow consumer, queue 2000 rows / 4 MiB', big(), bigStart, 100_000, 5, { queueItems: 2000, queueBytes: 4 * MB, batchEvents: 500 });
    t.diagnostic(JSON.stringify(bounded));
    assert.equal(bounded.rows, 100_000);
    assert.ok(bounded.maxBatch <= 500);
    const unbounded = await run('slow consumer, no bound', big(), bigStart, 100_000, 5, { queueItems: 1e9, queueBytes: 1e12, batchEvents: 500 });
    t.diagnostic(JSON.stringify(unbounded));
    assert.equal(unbounded.rows, 100_000);
    assert.ok(bounded.peakLiveHeapMb < 24, `bounded: peak live heap growth ${bounded.peakLiveHeapMb} MB`);
    assert.ok(bounded.peakLiveHeapMb * 3 < unbounded.peakLiveHeapMb, `bounded ${bounded.peakLiveHeapMb} MB vs unbounded ${unbounded.peakLiveHeapMb} MB`);
  });

  it('decode throughput over 200k sysbench rows with a fast consumer (default bounds)', async (t) => {
    const r = await run('fast consumer, default bounds', bench(), benchStart, 200_000, 0, { queueItems: 10_000, queueBytes: 32 * MB, batchEvents: 1000 });
    t.diagnostic(JSON.stringify(r));
    assert.equal(r.rows, 200_000);
  });
});
