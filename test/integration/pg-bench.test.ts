/**
 * Throughput of the pg read and write modes on sysbench-shaped rows (id INT PK, k INT, c CHAR(120),
 * pad CHAR(60)). Skipped unless FERRY_BENCH=1 (FERRY_BENCH_ROWS sets the row count, default 200000).
 * The figures in docs/connectors/pg.md come from here.
 */
import { after, before, describe, it } from 'node:test';
import type { ChunkSpec } from '../../lib/core/source.ts';
import type { TableMeta } from '../../lib/core/table.ts';
import type { Row } from '../../lib/core/values.ts';
import { pgConnector } from '../../lib/connectors/pg/index.ts';
import { freshSchema, pgEndpoint, testContext, type PgTestSchema } from '../support/pg.ts';

const ROWS = Number(process.env.FERRY_BENCH_ROWS ?? 200_000);
const ctx = testContext();
const signal = ctx.signal;

const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en-US')} rows/s (${(ms / 1000).toFixed(2)} s)`;

describe('pg throughput', { skip: process.env.FERRY_BENCH !== '1' && 'set FERRY_BENCH=1' }, () => {
  let s: PgTestSchema;
  let meta: TableMeta;
  let rows: Row[] = [];
  const results: string[] = [];

  before(async () => {
    s = await freshSchema('ferry_pgbench');
    await s.exec(`SET search_path = ${s.q};
      CREATE TABLE sbtest (id int PRIMARY KEY, k int NOT NULL DEFAULT 0, c char(120) NOT NULL DEFAULT '', pad char(60) NOT NULL DEFAULT '');
      INSERT INTO sbtest SELECT g, (random() * 100000)::int,
        substr(repeat(md5(g::text) || '-', 4), 1, 119), substr(repeat(md5((g * 7)::text), 2), 1, 59) FROM generate_series(1, ${ROWS}) g;
      CREATE TABLE sbtest_nokey AS SELECT * FROM sbtest;
      CREATE TABLE sbdst (LIKE sbtest INCLUDING ALL);`);
    await s.exec(`VACUUM ANALYZE ${s.q}.sbtest`);
    await s.exec(`VACUUM ANALYZE ${s.q}.sbtest_nokey`);
    const md = await pgConnector.createMetadata!(pgEndpoint(), ctx);
    meta = await md.getTableMeta({ db: s.name, tb: 'sbtest' }, signal);
    await md.close();
  });
  after(async () => {
    console.log(`\npg throughput, ${ROWS} sysbench rows\n${results.join('\n')}`);
    await s?.drop();
  });

  const REPS = Number(process.env.FERRY_BENCH_REPS ?? 5);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const report = (label: string, n: number, times: number[]) =>
    results.push(`${label}: median ${rate(n, median(times))}, best ${Math.round((n / Math.min(...times)) * 1000).toLocaleString('en-US')} rows/s`);

  it('read keyset pages (modes interleaved per repetition)', async () => {
    const times = new Map<string, number[]>();
    const sources = {
      select: await pgConnector.createSnapshotSource!(pgEndpoint({ raw: { pg_read_mode: 'select' } }), ctx),
      copy: await pgConnector.createSnapshotSource!(pgEndpoint({ raw: { pg_read_mode: 'copy' } }), ctx),
    };
    const chunk: ChunkSpec = { id: 'all', table: meta, kind: 'range', lower: null, upper: null, estimatedRows: ROWS };
    for (let rep = 0; rep < REPS; rep++) {
      for (const batchSize of [1000, 10000]) {
        for (const mode of ['select', 'copy'] as const) {
          const t0 = performance.now();
          let n = 0;
          const keep: Row[] = [];
          for await (const b of sources[mode].readChunk(meta, chunk, { columns: ['id', 'k', 'c', 'pad'], batchSize, signal })) {
            n += b.rows.length;
            if (!rows.length) keep.push(...b.rows);
          }
          const k = `read  ${mode.padEnd(6)} batch ${String(batchSize).padStart(5)}`;
          times.set(k, [...(times.get(k) ?? []), performance.now() - t0]);
          if (!rows.length) rows = keep;
          if (n !== ROWS) throw new Error(`read ${n}`);
        }
      }
    }
    for (const [k, t] of [...times].sort()) report(k, ROWS, t);
    await sources.select.close();
    await sources.copy.close();
  });

  it('read keyless stream (COPY)', async () => {
    const src = await pgConnector.createSnapshotSource!(pgEndpoint(), ctx);
    const m = { ...meta, tb: 'sbtest_nokey', keyKind: 'none' as const, keyColumns: [] };
    const chunk: ChunkSpec = { id: 'w', table: m, kind: 'whole', lower: null, upper: null, estimatedRows: ROWS };
    const times: number[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const t0 = performance.now();
      let n = 0;
      for await (const b of src.readChunk(m, chunk, { columns: ['id', 'k', 'c', 'pad'], batchSize: 10000, signal })) n += b.rows.length;
      times.push(performance.now() - t0);
    }
    report('read  stream keyless batch 10000', ROWS, times);
    await src.close();
  });

  it('write (modes interleaved per repetition; insert = empty target, upsert = every row exists)', async () => {
    const times = new Map<string, number[]>();
    const writers = Object.fromEntries(
      await Promise.all(
        (['copy', 'insert'] as const).map(async (mode) => {
          const sk = await pgConnector.createSinker!(pgEndpoint({ raw: { pg_write_mode: mode } }), ctx);
          const w = await sk.openTable({ table: { db: s.name, tb: 'sbdst' }, columns: meta.columns, keyColumns: ['id'], source: meta }, signal);
          return [mode, { sk, w }] as const;
        }),
      ),
    );
    for (let rep = 0; rep < Math.max(3, REPS - 2); rep++) {
      for (const batchSize of [200, 1000, 5000]) {
        for (const mode of ['copy', 'insert'] as const) {
          for (const pass of ['insert', 'upsert'] as const) {
            if (pass === 'insert') await s.exec(`TRUNCATE ${s.q}.sbdst`);
            const t0 = performance.now();
            for (let i = 0; i < rows.length; i += batchSize) await writers[mode].w.write(rows.slice(i, i + batchSize), signal);
            const k = `write ${mode.padEnd(6)} batch ${String(batchSize).padStart(5)} ${pass.padEnd(6)}`;
            times.set(k, [...(times.get(k) ?? []), performance.now() - t0]);
          }
        }
      }
    }
    for (const [k, t] of [...times].sort()) report(k, rows.length, t);
    for (const { sk } of Object.values(writers)) await sk.close();
  });

  for (const mode of ['copy', 'insert'] as const) {
    it(`write ${mode}, batch 1000, 4 writers in parallel`, async () => {
      const sk = await pgConnector.createSinker!(pgEndpoint({ raw: { pg_write_mode: mode }, maxConnections: 4 }), ctx);
      const w = await sk.openTable({ table: { db: s.name, tb: 'sbdst' }, columns: meta.columns, keyColumns: ['id'], source: meta }, signal);
      await s.exec(`TRUNCATE ${s.q}.sbdst`);
      const t0 = performance.now();
      const lanes = 4;
      const per = Math.ceil(rows.length / lanes);
      await Promise.all(
        Array.from({ length: lanes }, async (_, l) => {
          const part = rows.slice(l * per, (l + 1) * per);
          for (let i = 0; i < part.length; i += 1000) await w.write(part.slice(i, i + 1000), signal);
        }),
      );
      results.push(`write ${mode.padEnd(6)} batch  1000 x4 lanes: ${rate(rows.length, performance.now() - t0)}`);
      await sk.close();
    });
  }
});
