/**
 * Throughput of the MySQL read and write modes on sysbench-shaped rows (id INT PK, k INT, c CHAR(120),
 * pad CHAR(60)). Skipped unless FERRY_BENCH=1; FERRY_BENCH_ROWS (default 200000), FERRY_BENCH_BATCH
 * (default 5000) and FERRY_BENCH_REPS (default 3, the median is reported) tune it.
 * The figures in docs/connectors/mysql.md come from here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../lib/core/logger.ts';
import type { ChunkSpec } from '../../lib/core/source.ts';
import type { TableMeta } from '../../lib/core/table.ts';
import type { Row } from '../../lib/core/values.ts';
import { createMysqlMetadata, createMysqlSinker, createMysqlSnapshotSource } from '../../lib/connectors/mysql/index.ts';
import { freshMysqlDb, mysqlEndpoint, type TestDb } from '../support/mysql.ts';

const ROWS = Number(process.env.FERRY_BENCH_ROWS ?? 200_000);
const BATCH = Number(process.env.FERRY_BENCH_BATCH ?? 5000);
const REPS = Number(process.env.FERRY_BENCH_REPS ?? 3);
const signal = new AbortController().signal;
const ctx = { logger: silentLogger, signal };
const SB = `(id INT NOT NULL PRIMARY KEY, k INT NOT NULL DEFAULT 0, c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', KEY k_1 (k))`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rate = (ms: number[]) => `${Math.round((ROWS / median(ms)) * 1000).toLocaleString('en-US')} rows/s (median of ${ms.map((m) => (m / 1000).toFixed(2) + ' s').join(', ')})`;

describe('mysql throughput', { skip: process.env.FERRY_BENCH !== '1' && 'set FERRY_BENCH=1' }, () => {
  let db: TestDb;
  let meta: TableMeta;
  let rows: Row[] = [];
  const results: string[] = [];

  before(async () => {
    db = await freshMysqlDb('ferry_mybench');
    await db.exec(`CREATE TABLE sbtest ${SB};
      INSERT INTO sbtest SELECT seq, FLOOR(RAND(seq) * ${ROWS}), SUBSTR(REPEAT(CONCAT(MD5(seq), '-'), 4), 1, 119), SUBSTR(REPEAT(MD5(seq * 7), 2), 1, 59)
        FROM seq_1_to_${ROWS};
      CREATE TABLE sbtest_nokey AS SELECT * FROM sbtest; ANALYZE TABLE sbtest`);
    const md = await createMysqlMetadata(mysqlEndpoint(), ctx);
    meta = await md.getTableMeta({ db: db.name, tb: 'sbtest' }, signal);
    await md.close();
  });
  after(async () => {
    console.log(`\nmysql throughput, ${ROWS} sysbench rows, batch ${BATCH}\n${results.join('\n')}`);
    await db?.drop();
  });

  it('reads: keyset pages and the keyless stream', async () => {
    const source = await createMysqlSnapshotSource(mysqlEndpoint(), ctx);
    try {
      for (const tb of ['sbtest', 'sbtest_nokey']) {
        const m = tb === 'sbtest' ? meta : { ...meta, tb, keyKind: 'none' as const, keyColumns: [] };
        const chunk: ChunkSpec = { id: 'all', table: m, kind: tb === 'sbtest' ? 'range' : 'whole', lower: null, upper: null, estimatedRows: ROWS };
        const times: number[] = [];
        for (let r = 0; r < REPS; r++) {
          const t0 = performance.now();
          const got: Row[] = [];
          for await (const b of source.readChunk(m, chunk, { columns: ['id', 'k', 'c', 'pad'], batchSize: BATCH, signal })) got.push(...b.rows);
          times.push(performance.now() - t0);
          assert.equal(got.length, ROWS);
          if (tb === 'sbtest') rows = got;
        }
        results.push(`read ${tb === 'sbtest' ? 'keyset pages     ' : 'keyless stream   '} ${rate(times)}`);
      }
    } finally {
      await source.close();
    }
  });

  for (const mode of [
    { name: 'replace, LOAD DATA', sink: { replace: true, loadData: true } },
    { name: 'replace, REPLACE  ', sink: { replace: true, loadData: false } },
    { name: 'upsert, ODKU      ', sink: { replace: false } },
  ]) {
    it(`writes: ${mode.name.trim()}`, async () => {
      const sinker = await createMysqlSinker(mysqlEndpoint(), ctx, { sink: mode.sink });
      const empty: number[] = [];
      const over: number[] = [];
      try {
        for (let r = 0; r < REPS; r++) {
          await db.exec(`DROP TABLE IF EXISTS sbdst; CREATE TABLE sbdst ${SB}`);
          const w = await sinker.openTable({ table: { db: db.name, tb: 'sbdst' }, columns: meta.columns, keyColumns: meta.keyColumns, source: meta }, signal);
          for (const times of [empty, over]) {
            const t0 = performance.now();
            for (let i = 0; i < rows.length; i += BATCH) await w.write(rows.slice(i, i + BATCH), signal);
            times.push(performance.now() - t0);
          }
        }
        const [{ n }] = await db.query<{ n: number }>('SELECT COUNT(*) n FROM sbdst');
        assert.equal(Number(n), ROWS);
      } finally {
        await sinker.close();
      }
      results.push(`write ${mode.name} into empty  ${rate(empty)}`);
      results.push(`write ${mode.name} overwrite   ${rate(over)}`);
    });
  }

  for (const loadData of [true, false]) {
    it(`writes: keyless replaceAll (${loadData ? 'LOAD DATA' : 'INSERT'})`, async () => {
      const sinker = await createMysqlSinker(mysqlEndpoint(), ctx, { sink: { loadData } });
      const times: number[] = [];
      try {
        await db.exec(`DROP TABLE IF EXISTS sbdst_nokey; CREATE TABLE sbdst_nokey LIKE sbtest_nokey`);
        const w = await sinker.openTable({ table: { db: db.name, tb: 'sbdst_nokey' }, columns: meta.columns, keyColumns: [], source: meta }, signal);
        for (let r = 0; r < REPS; r++) {
          const t0 = performance.now();
          await w.replaceAll!(
            (async function* () {
              for (let i = 0; i < rows.length; i += BATCH) yield rows.slice(i, i + BATCH);
            })(),
            signal,
          );
          times.push(performance.now() - t0);
        }
      } finally {
        await sinker.close();
      }
      results.push(`write keyless replaceAll, ${loadData ? 'LOAD DATA' : 'INSERT   '}  ${rate(times)}`);
    });
  }
});
