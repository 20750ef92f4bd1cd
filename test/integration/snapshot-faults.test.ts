/**
 * Snapshot resilience through the real CLI: kill -9 at random points and rerun, the same chunk run twice
 * concurrently, a deadline that stops a chunk with `partial`, and bad input (config, unreachable host,
 * value that does not fit). Every test ends by comparing source and target.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testUrls } from '../support/services.ts';
import { execSql, query } from '../support/sql.ts';
import { runFerry, startFerry, writeIni } from '../support/cli.ts';

const SRC = 'it_faults_src';
const DST = 'it_faults_dst';
const ROWS = 120_000;
let dir: string;

function sections(taskId: string, extra: Record<string, Record<string, string | number>> = {}) {
  const base: Record<string, Record<string, string | number>> = {
    extractor: { db_type: 'mysql', extract_type: 'snapshot', url: testUrls.mysql, batch_size: 500, chunk_rows: 20000 },
    sinker: { db_type: 'mysql', sink_type: 'write', url: testUrls.mysql, batch_size: 500 },
    filter: { do_tbs: `${SRC}.*` },
    router: { db_map: `${SRC}:${DST}` },
    parallelizer: { parallel_type: 'snapshot', parallel_size: 3 },
    pipeline: { checkpoint_interval_secs: 0 },
    global: { task_id: taskId },
    checkpoint: { store: 'file', dir: join(dir, taskId) },
  };
  for (const [s, kv] of Object.entries(extra)) base[s] = { ...base[s], ...kv };
  return base;
}

async function resetTarget(): Promise<void> {
  await execSql(testUrls.mysql, `DROP DATABASE IF EXISTS ${DST}; CREATE DATABASE ${DST};
    CREATE TABLE ${DST}.big (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL);
    CREATE TABLE ${DST}.comp (a INT, b VARCHAR(20), v INT, PRIMARY KEY (a, b));`);
}

/** Exact comparison in SQL: counts and an order-independent checksum of every row. */
async function assertSame(): Promise<void> {
  for (const t of ['big', 'comp']) {
    const [s] = await query<{ n: string; h: string }>(testUrls.mysql, `SELECT COUNT(*) n, COALESCE(SUM(CRC32(CONCAT_WS('|', ${t === 'big' ? 'id,k,c,pad' : 'a,b,v'}))),0) h FROM ${SRC}.${t}`);
    const [d] = await query<{ n: string; h: string }>(testUrls.mysql, `SELECT COUNT(*) n, COALESCE(SUM(CRC32(CONCAT_WS('|', ${t === 'big' ? 'id,k,c,pad' : 'a,b,v'}))),0) h FROM ${DST}.${t}`);
    assert.deepEqual(d, s, `${t}: target differs from source`);
  }
}

describe('snapshot faults (CLI, MariaDB -> MariaDB)', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-faults-'));
    await execSql(testUrls.mysql, `DROP DATABASE IF EXISTS ${SRC}; CREATE DATABASE ${SRC}; USE ${SRC};
      CREATE TABLE ${SRC}.big (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL);
      INSERT INTO ${SRC}.big SELECT seq, seq % 1000, REPEAT(CHAR(48 + seq % 10), 120), REPEAT('p', 60) FROM seq_1_to_${ROWS};
      CREATE TABLE ${SRC}.comp (a INT, b VARCHAR(20), v INT, PRIMARY KEY (a, b));
      INSERT INTO ${SRC}.comp SELECT seq % 7, CONCAT('k', seq), seq FROM seq_1_to_30000;
      ANALYZE TABLE ${SRC}.big, ${SRC}.comp;`);
  });
  after(async () => {
    await execSql(testUrls.mysql, `DROP DATABASE IF EXISTS ${SRC}; DROP DATABASE IF EXISTS ${DST};`);
    await rm(dir, { recursive: true, force: true });
  });

  it('survives 5 kill -9 at random points; the rerun completes with no missing or extra row', async () => {
    await resetTarget();
    const cfg = await writeIni(dir, sections('kills', { extractor: { batch_size: 200 }, sinker: { batch_size: 200 } }), 'kills.ini');
    // Kill each run at a random point after it made progress (target rows grew), never by wall-clock guesses.
    const copied = async () => {
      const [r] = await query<{ n: string }>(testUrls.mysql, `SELECT (SELECT COUNT(*) FROM ${DST}.big) + (SELECT COUNT(*) FROM ${DST}.comp) n`);
      return Number(r.n);
    };
    let kills = 0;
    for (let i = 0; i < 5; i++) {
      const before = await copied();
      const step = 1 + Math.floor(Math.random() * 12_000);
      const { child, done } = startFerry(['run', cfg, '--no-progress']);
      while (child.exitCode === null && (await copied()) < before + step) await new Promise((r) => setTimeout(r, 5));
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        kills++;
      }
      await done;
    }
    assert.equal(kills, 5, `only ${kills} of 5 runs were still running when killed`);
    const last = await runFerry(['run', cfg, '--no-progress', '--json']);
    assert.equal(last.code, 0, last.stderr);
    const summary = JSON.parse(last.stdout.trim().split('\n').pop()!);
    assert.equal(summary.status, 'done');
    assert.ok(summary.rows < ROWS + 30000, 'the final run resumed instead of starting over');
    await assertSame();
  });

  it('the same chunk run twice concurrently leaves the target identical', async () => {
    await resetTarget();
    const cfg = await writeIni(dir, sections('twice'), 'twice.ini');
    const plan = await runFerry(['plan', cfg]);
    assert.equal(plan.code, 0, plan.stderr);
    const { chunks } = JSON.parse(plan.stdout);
    for (const id of chunks) {
      const [a, b] = await Promise.all([runFerry(['chunk', cfg, id]), runFerry(['chunk', cfg, id])]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
    }
    await assertSame();
    const status = await runFerry(['status', cfg, '--json']);
    assert.equal(JSON.parse(status.stdout).chunksDone, chunks.length);
  });

  it('a chunk past its deadline returns partial; the next run continues from its saved key', async () => {
    await resetTarget();
    const cfg = await writeIni(dir, sections('deadline', { extractor: { chunk_rows: 200000, batch_size: 100 }, sinker: { batch_size: 100 } }), 'deadline.ini');
    const plan = JSON.parse((await runFerry(['plan', cfg])).stdout);
    const first = plan.chunks[0];
    const r1 = JSON.parse((await runFerry(['chunk', cfg, first, '--deadline-ms', '400'])).stdout);
    assert.equal(r1.status, 'partial', JSON.stringify(r1));
    assert.ok(r1.rows > 0 && r1.rows < ROWS, `partial run wrote ${r1.rows}`);
    const r2 = JSON.parse((await runFerry(['chunk', cfg, first])).stdout);
    assert.equal(r2.status, 'done');
    assert.equal(r2.totalRows, ROWS);
    assert.ok(r2.rows <= ROWS - r1.rows + 500, 'second run did not start over');
    const rest = await runFerry(['run', cfg, '--no-progress']);
    assert.equal(rest.code, 0, rest.stderr);
    await assertSame();
  });

  it('bad config: exit 2 with one line naming section.key and a CF code', async () => {
    const cfg = await writeIni(dir, { ...sections('bad'), extractor: { db_type: 'mysql', extract_type: 'snapshot', url: testUrls.mysql, batch_size: 'abc' } }, 'bad.ini');
    const r = await runFerry(['run', cfg, '--no-progress']);
    assert.equal(r.code, 2);
    assert.match(r.stderr.trim().split('\n').pop()!, /^CF001 extractor\.batch_size: /);
  });

  it('unreachable host: CN001 after retries, no password in any output', async () => {
    const secret = 'S3cr3t-pw';
    const cfg = await writeIni(dir, sections('unreach', { extractor: { url: `mysql://root:${secret}@127.0.0.1:1` } }), 'unreach.ini');
    const r = await runFerry(['run', cfg, '--no-progress'], { FERRY_CONNECT_RETRIES: '2' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CN001/);
    assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), 'password leaked into output');
  });

  it('a value that does not fit: IN001 naming table and key; earlier rows kept; rerun continues after the fix', async () => {
    await resetTarget();
    await execSql(testUrls.mysql, `ALTER TABLE ${DST}.comp MODIFY b VARCHAR(5)`);
    const cfg = await writeIni(dir, sections('fit', { parallelizer: { parallel_size: 1 } }), 'fit.ini');
    const r = await runFerry(['run', cfg, '--no-progress']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /IN001 .*comp.*(key|a=)/);
    const [{ n }] = await query<{ n: number }>(testUrls.mysql, `SELECT COUNT(*) n FROM ${DST}.big`);
    assert.ok(Number(n) > 0, 'rows written before the failure are kept');
    await execSql(testUrls.mysql, `ALTER TABLE ${DST}.comp MODIFY b VARCHAR(20)`);
    const again = await runFerry(['run', cfg, '--no-progress']);
    assert.equal(again.code, 0, again.stderr);
    await assertSame();
  });
});
