/**
 * The functions invoked as Lambda would (TypeScript sources; functions-bundle.test.ts runs the bundles), with
 * the sample events from events/: every event validates against its handler's schema, the planner fans out
 * chunk ids and records the CDC start (snapshot_and_cdc), every chunk is delivered twice -- one after the
 * other, and at the same time -- and the target still equals the source; finalize and status report it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testUrls } from '../support/services.ts';
import { execSql, query } from '../support/sql.ts';
import { cdcEnvSchema, chunkEventSchema, closeWarmTasks, finalizeEventSchema, planEventSchema, statusEventSchema } from '../../lib/task/function-input.ts';
import { FileCheckpointStore } from '../../lib/checkpoint/file-store.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import { chunkKey } from '../../lib/checkpoint/keys.ts';
import { chunkProgressSchema } from '../../lib/plan/plan-schema.ts';
import { decodeKey } from '../../lib/core/values.ts';
import { loadPlan } from '../../lib/plan/planner.ts';
import { uniqueServerId } from './mysql-cdc-support.ts';
import { snapshotRows } from '../../lib/metrics/registry.ts';

const event = async (name: string) => JSON.parse(await readFile(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));
const context = (ms = 60_000) => {
  const end = Date.now() + ms;
  return { getRemainingTimeInMillis: () => end - Date.now(), awsRequestId: `req-${Math.random().toString(36).slice(2)}`, functionName: 'ferry-test' };
};
let dir: string;

describe('functions with events/', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-fn-'));
    Object.assign(process.env, { FERRY_TEST_MYSQL_URL: testUrls.mysql, FERRY_TEST_PG_URL: testUrls.pg, FERRY_CHECKPOINT_DIR: dir, FERRY_LOG_LEVEL: 'warn', FERRY_EVENTS_DB: 'ferry_events', FERRY_SERVER_ID: String(uniqueServerId()) });
    await execSql(testUrls.mysql, `DROP DATABASE IF EXISTS ferry_events_src; CREATE DATABASE ferry_events_src; USE ferry_events_src;
      CREATE TABLE ferry_events_src.items (id INT PRIMARY KEY, name VARCHAR(30), price DECIMAL(10,2));
      INSERT INTO ferry_events_src.items SELECT seq, CONCAT('item ', seq), seq * 0.5 FROM seq_1_to_9000;
      ANALYZE TABLE ferry_events_src.items;`);
    await execSql(testUrls.pg, `DROP SCHEMA IF EXISTS ferry_events_dst CASCADE; CREATE SCHEMA ferry_events_dst;
      CREATE TABLE ferry_events_dst.items (id INT PRIMARY KEY, name VARCHAR(30), price NUMERIC(10,2));`);
  });
  after(async () => {
    await closeWarmTasks();
    await execSql(testUrls.mysql, 'DROP DATABASE IF EXISTS ferry_events_src');
    await execSql(testUrls.pg, 'DROP SCHEMA IF EXISTS ferry_events_dst CASCADE');
    await rm(dir, { recursive: true, force: true });
  });

  it('every sample event validates against its handler schema', async () => {
    assert.ok(planEventSchema.safeParse(await event('plan')).success);
    assert.ok(chunkEventSchema.safeParse(await event('chunk')).success);
    assert.ok(finalizeEventSchema.safeParse(await event('finalize')).success);
    assert.ok(statusEventSchema.safeParse(await event('status')).success);
    const cdc = await event('cdc');
    assert.deepEqual(cdc.args, ['cdc']);
    assert.ok(cdcEnvSchema.safeParse(cdc.env).success);
    assert.equal(cdcEnvSchema.safeParse({ ...cdc.env, FERRY_CONFIG: '/x.ini' }).success, false, 'both config variables set');
    assert.equal(chunkEventSchema.safeParse({ chunkId: 'x' }).success, false);
  });

  it('plan fans out chunks; each chunk delivered twice still gives target == source', async () => {
    const { handler: plan } = await import('../../functions/plan/handler.ts');
    const { handler: chunk } = await import('../../functions/chunk/handler.ts');
    const planned = await plan(await event('plan'), context() as never);
    assert.equal(planned.taskId, 'ferry_events');
    assert.ok(planned.chunks.length >= 4, `expected several chunks, got ${planned.chunks.length}`);
    const base = await event('chunk');
    for (const { chunkId } of planned.chunks) {
      const first = await chunk({ ...base, chunkId }, context() as never);
      assert.equal(first.status, 'done');
      const dup = await chunk({ ...base, chunkId }, context() as never);
      assert.equal(dup.status, 'skipped');
    }
    // The duplicate deliveries were skipped: the rows metric counts every row exactly once.
    const metric = (await snapshotRows.get()).values.find((v) => v.labels.task === 'ferry_events');
    assert.equal(metric?.value, 9000);
    const [s] = await query<{ n: string; total: string }>(testUrls.mysql, 'SELECT COUNT(*) n, SUM(price) total FROM ferry_events_src.items');
    const [d] = await query<{ n: string; total: string }>(testUrls.pg, 'SELECT COUNT(*)::text n, SUM(price)::text total FROM ferry_events_dst.items');
    assert.deepEqual({ n: String(d.n), total: d.total }, { n: String(s.n), total: s.total });
  });

  it('finalize and status: pending before the chunks run, done after; the CDC start is the one the planner recorded', async () => {
    const { handler: plan } = await import('../../functions/plan/handler.ts');
    const { handler: chunk } = await import('../../functions/chunk/handler.ts');
    const { handler: finalize } = await import('../../functions/finalize/handler.ts');
    const { handler: status } = await import('../../functions/status/handler.ts');
    const planned = await plan(await event('plan'), context() as never);
    const before = await finalize(await event('finalize'), context() as never);
    assert.deepEqual({ done: before.done, pending: before.pending, failed: before.failed, chunksDone: before.chunksDone }, { done: false, pending: planned.chunks.length, failed: 0, chunksDone: 0 });
    assert.equal(before.cdc.handover, true);
    const recorded = before.cdc.handover ? before.cdc.position : undefined;
    assert.ok(recorded && typeof recorded.file === 'string', `binlog position recorded: ${JSON.stringify(recorded)}`);
    // A chunk stopped by its deadline leaves a `running` record: finalize counts it as failed once the fan-out ends.
    const first = planned.chunks[0].chunkId;
    const cut = await chunk({ ...(await event('chunk')), chunkId: first }, context(1) as never);
    assert.equal(cut.status, 'partial');
    const mid = await finalize(await event('finalize'), context() as never);
    assert.equal(mid.done, false);
    for (const { chunkId } of planned.chunks) await chunk({ ...(await event('chunk')), chunkId }, context() as never);
    const after = await finalize(await event('finalize'), context() as never);
    assert.deepEqual({ done: after.done, pending: after.pending, failed: after.failed, rows: after.rows }, { done: true, pending: 0, failed: 0, rows: 9000 });
    assert.deepEqual(after.cdc.handover && after.cdc.position, recorded, 'finalize reports the start the planner recorded');
    const st = await status(await event('status'), context() as never);
    assert.deepEqual({ planned: st.planned, chunks: st.chunks, chunksDone: st.chunksDone, rowsDone: st.rowsDone }, { planned: true, chunks: planned.chunks.length, chunksDone: planned.chunks.length, rowsDone: 9000 });
    assert.deepEqual(st.cdc?.position, recorded);
    assert.equal(st.cdc?.handover, true);
  });

  it('every chunk delivered twice at the same time: target == source, each progress record done with its own row count', async () => {
    const { handler: plan } = await import('../../functions/plan/handler.ts');
    const { handler: chunk } = await import('../../functions/chunk/handler.ts');
    const { handler: status } = await import('../../functions/status/handler.ts');
    await execSql(testUrls.pg, 'TRUNCATE ferry_events_dst.items');
    const planned = await plan(await event('plan'), context() as never); // init: forget the previous run
    const base = await event('chunk');
    const results = await Promise.all(planned.chunks.flatMap(({ chunkId }) => [chunk({ ...base, chunkId }, context() as never), chunk({ ...base, chunkId }, context() as never)]));
    for (const r of results) assert.ok(r.status === 'done' || r.status === 'skipped', `${r.chunkId}: ${r.status}`);
    const src = await query<{ id: number; name: string; price: string }>(testUrls.mysql, 'SELECT id, name, CAST(price AS CHAR) price FROM ferry_events_src.items ORDER BY id');
    const dst = await query<{ id: number; name: string; price: string }>(testUrls.pg, 'SELECT id, name, price::text price FROM ferry_events_dst.items ORDER BY id');
    assert.deepEqual(dst, src);
    // Progress: every record done, and its rows are the chunk's rows (a duplicate run does not add its rows twice).
    const store = await FileCheckpointStore.open({ dir, logger: silentLogger });
    try {
      const p = await loadPlan(store, 'ferry_events');
      let total = 0;
      for (const c of p.chunks) {
        const rec = chunkProgressSchema.parse((await store.get(chunkKey('ferry_events', c.id)))?.value);
        // A range chunk holds lower < key <= upper (a null bound is open).
        const [lo, hi] = [decodeKey(c.lower)?.[0], decodeKey(c.upper)?.[0]];
        const [{ n }] = await query<{ n: string }>(testUrls.mysql, `SELECT COUNT(*) n FROM ferry_events_src.items WHERE ${lo == null ? '1=1' : `id > ${Number(lo)}`} AND ${hi == null ? '1=1' : `id <= ${Number(hi)}`}`);
        assert.equal(rec.status, 'done');
        assert.equal(rec.rows, Number(n), `chunk ${c.id} rows`);
        total += rec.rows;
      }
      assert.equal(total, 9000);
    } finally {
      await store.close();
    }
    const st = await status(await event('status'), context() as never);
    assert.equal(st.rowsDone, 9000);
  });

  it('a bad event is rejected with CF001 naming the field', async () => {
    const { handler: chunk } = await import('../../functions/chunk/handler.ts');
    await assert.rejects(() => chunk({ config: {} } as never, context() as never), (e: { code?: string; message?: string }) => e.code === 'CF001' && /^chunk event\.chunkId/.test(e.message ?? ''));
  });
});
