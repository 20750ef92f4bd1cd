/**
 * The plan and chunk functions invoked as Lambda would, with the sample events from events/: every event
 * validates against its handler's schema, the planner fans out chunk ids, every chunk is delivered twice
 * (async Lambda may do that) and the target still equals the source.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testUrls } from '../support/services.ts';
import { execSql, query } from '../support/sql.ts';
import { chunkEventSchema, closeWarmTasks, planEventSchema } from '../../lib/task/function-input.ts';
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
    Object.assign(process.env, { FERRY_TEST_MYSQL_URL: testUrls.mysql, FERRY_TEST_PG_URL: testUrls.pg, FERRY_CHECKPOINT_DIR: dir, FERRY_LOG_LEVEL: 'warn' });
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

  it('a bad event is rejected with CF001 naming the field', async () => {
    const { handler: chunk } = await import('../../functions/chunk/handler.ts');
    await assert.rejects(() => chunk({ config: {} } as never, context() as never), (e: { code?: string; message?: string }) => e.code === 'CF001' && /^chunk event\.chunkId/.test(e.message ?? ''));
  });
});
