/**
 * A 1M-row table through the whole CLI path (plan, chunks on the worker pool, LOAD DATA/upserts), then an
 * exact comparison in SQL, and the verifier's own failure modes on a tampered target (it must be able to fail).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testUrls } from '../support/services.ts';
import { execSql, query } from '../support/sql.ts';
import { runFerry, writeIni } from '../support/cli.ts';
import { loadTaskConfig } from '../../lib/config/load.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import { createCheckpointStore } from '../../lib/checkpoint/create-store.ts';
import { loadPlan } from '../../lib/plan/planner.ts';
import { verifyPlan } from '../../lib/check/verify.ts';

const ROWS = 1_000_000;
let dir: string;

describe('1M-row table, MariaDB -> PostgreSQL', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-large-'));
    await execSql(testUrls.mysql, `DROP DATABASE IF EXISTS it_large_src; CREATE DATABASE it_large_src; USE it_large_src;
      CREATE TABLE sbtest1 (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL);
      INSERT INTO sbtest1 SELECT seq, seq % 100000, LPAD(CONV(seq * 7919, 10, 36), 120, '7'), LPAD(seq, 60, 'p') FROM seq_1_to_${ROWS};
      ANALYZE TABLE sbtest1;`);
    await execSql(testUrls.pg, `DROP SCHEMA IF EXISTS it_large_dst CASCADE; CREATE SCHEMA it_large_dst;
      CREATE TABLE it_large_dst.sbtest1 (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL);`);
  });
  after(async () => {
    await execSql(testUrls.mysql, 'DROP DATABASE IF EXISTS it_large_src');
    await execSql(testUrls.pg, 'DROP SCHEMA IF EXISTS it_large_dst CASCADE');
    await rm(dir, { recursive: true, force: true });
  });

  it('copies every row exactly, in chunks, with the worker pool', async () => {
    const cfg = await writeIni(dir, {
      extractor: { db_type: 'mysql', extract_type: 'snapshot', url: testUrls.mysql, batch_size: 5000, chunk_rows: 100000 },
      sinker: { db_type: 'pg', sink_type: 'write', url: testUrls.pg, batch_size: 5000 },
      filter: { do_dbs: 'it_large_src' },
      router: { db_map: 'it_large_src:it_large_dst' },
      parallelizer: { parallel_type: 'snapshot', parallel_size: 4 },
      global: { task_id: 'it_large' },
      checkpoint: { store: 'file', dir: join(dir, 'cp') },
    });
    const r = await runFerry(['run', cfg, '--no-progress', '--json']);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(summary.rows, ROWS);
    assert.ok(summary.chunks >= 10, `expected the table cut into chunks, got ${summary.chunks}`);
    // Exact content: count, sum of k, and the sum of the first 32 bits of md5(id || c || pad) on both engines.
    const [s] = await query<{ n: string; k: string; h: string }>(testUrls.mysql,
      'SELECT COUNT(*) n, SUM(k) k, SUM(CONV(SUBSTR(MD5(CONCAT(id, c, pad)), 1, 8), 16, 10)) h FROM it_large_src.sbtest1');
    const [d] = await query<{ n: string; k: string; h: string }>(testUrls.pg,
      "SELECT COUNT(*)::text n, SUM(k)::text k, SUM(('x' || substr(md5(id::text || c || pad), 1, 8))::bit(32)::bigint)::text h FROM it_large_dst.sbtest1");
    assert.deepEqual({ n: String(d.n), k: d.k, h: d.h }, { n: String(s.n), k: String(s.k), h: String(s.h) });

    // The verifier must see tampering: one changed, one missing, one extra row.
    await execSql(testUrls.pg, `UPDATE it_large_dst.sbtest1 SET k = k + 1 WHERE id = 500000; DELETE FROM it_large_dst.sbtest1 WHERE id = 7;
      INSERT INTO it_large_dst.sbtest1 VALUES (2000000, 1, 'x', 'y');`);
    const { config } = await loadTaskConfig(cfg);
    const store = await createCheckpointStore(config.checkpoint, { logger: silentLogger });
    const report = await verifyPlan(config, await loadPlan(store, config.taskId), silentLogger);
    await store.close();
    const t = report.tables[0];
    assert.equal(report.ok, false);
    assert.deepEqual(t.missing, ['7']);
    assert.deepEqual(t.extra, ['2000000']);
    assert.deepEqual(t.different.map((x) => [x.key, x.column]), [['500000', 'k']]);
  });
});
