/**
 * Snapshot resilience through the real CLI, MariaDB -> MariaDB and PostgreSQL -> PostgreSQL: kill -9 at random points and rerun, the same chunk run twice
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

/**
 * What differs between the engines the resilience tests run on: MariaDB -> MariaDB (LOAD DATA path) and
 * PostgreSQL -> PostgreSQL (COPY pages passed through undecoded, docs/connectors/pg.md).
 */
interface Engine {
  name: string;
  dbType: string;
  url: string;
  /** Creates SRC with `big` (ROWS rows) and `comp` (composite key), from nothing. */
  setup: string;
  /** Recreates DST with both tables empty. */
  reset: string;
  drop: string;
  /** Narrows / restores comp.b in DST (for the value-that-does-not-fit test). */
  narrow: (width: number) => string;
  /** Row count and an order-independent checksum of every row of `db.t`. */
  checksum: (db: string, t: string) => string;
}

const TABLES = `big (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL);
  CREATE TABLE {db}.comp (a INT, b VARCHAR(20), v INT, PRIMARY KEY (a, b))`;
const tables = (db: string) => `CREATE TABLE ${db}.${TABLES.replace('{db}', db)};`;

const ENGINES: Engine[] = [
  {
    name: 'MariaDB -> MariaDB',
    dbType: 'mysql',
    url: testUrls.mysql,
    setup: `DROP DATABASE IF EXISTS ${SRC}; CREATE DATABASE ${SRC}; USE ${SRC}; ${tables(SRC)}
      INSERT INTO ${SRC}.big SELECT seq, seq % 1000, REPEAT(CHAR(48 + seq % 10), 120), REPEAT('p', 60) FROM seq_1_to_${ROWS};
      INSERT INTO ${SRC}.comp SELECT seq % 7, CONCAT('k', seq), seq FROM seq_1_to_30000;
      ANALYZE TABLE ${SRC}.big, ${SRC}.comp;`,
    reset: `DROP DATABASE IF EXISTS ${DST}; CREATE DATABASE ${DST}; ${tables(DST)}`,
    drop: `DROP DATABASE IF EXISTS ${SRC}; DROP DATABASE IF EXISTS ${DST};`,
    narrow: (w) => `ALTER TABLE ${DST}.comp MODIFY b VARCHAR(${w})`,
    checksum: (db, t) => `SELECT COUNT(*) n, COALESCE(SUM(CRC32(CONCAT_WS('|', ${t === 'big' ? 'id,k,c,pad' : 'a,b,v'}))),0) h FROM ${db}.${t}`,
  },
  {
    name: 'PostgreSQL -> PostgreSQL',
    dbType: 'pg',
    url: testUrls.pg,
    setup: `DROP SCHEMA IF EXISTS ${SRC} CASCADE; CREATE SCHEMA ${SRC}; ${tables(SRC)}
      INSERT INTO ${SRC}.big SELECT g, g % 1000, repeat(chr(48 + g % 10), 120), repeat('p', 60) FROM generate_series(1, ${ROWS}) g;
      INSERT INTO ${SRC}.comp SELECT g % 7, 'k' || g, g FROM generate_series(1, 30000) g;
      ANALYZE ${SRC}.big; ANALYZE ${SRC}.comp;`,
    reset: `DROP SCHEMA IF EXISTS ${DST} CASCADE; CREATE SCHEMA ${DST}; ${tables(DST)}`,
    drop: `DROP SCHEMA IF EXISTS ${SRC} CASCADE; DROP SCHEMA IF EXISTS ${DST} CASCADE;`,
    narrow: (w) => `ALTER TABLE ${DST}.comp ALTER COLUMN b TYPE VARCHAR(${w})`,
    checksum: (db, t) => `SELECT count(*)::text n, coalesce(sum(('x' || substr(md5(r::text), 1, 15))::bit(60)::bigint), 0)::text h FROM ${db}.${t} r`,
  },
];

function sections(e: Engine, taskId: string, extra: Record<string, Record<string, string | number>> = {}) {
  const base: Record<string, Record<string, string | number>> = {
    extractor: { db_type: e.dbType, extract_type: 'snapshot', url: e.url, batch_size: 500, chunk_rows: 20000 },
    sinker: { db_type: e.dbType, sink_type: 'write', url: e.url, batch_size: 500 },
    filter: { do_tbs: `${SRC}.*` },
    router: { db_map: `${SRC}:${DST}` },
    parallelizer: { parallel_type: 'snapshot', parallel_size: 3 },
    pipeline: { checkpoint_interval_secs: 0 },
    global: { task_id: `${e.dbType}_${taskId}` },
    checkpoint: { store: 'file', dir: join(dir, `${e.dbType}_${taskId}`) },
  };
  for (const [s, kv] of Object.entries(extra)) base[s] = { ...base[s], ...kv };
  return base;
}

/** Exact comparison in SQL: counts and an order-independent checksum of every row. */
async function assertSame(e: Engine): Promise<void> {
  for (const t of ['big', 'comp']) {
    const [s] = await query<{ n: string; h: string }>(e.url, e.checksum(SRC, t));
    const [d] = await query<{ n: string; h: string }>(e.url, e.checksum(DST, t));
    assert.deepEqual(d, s, `${t}: target differs from source`);
  }
}

for (const e of ENGINES) {
  describe(`snapshot faults (CLI, ${e.name})`, () => {
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'ferry-faults-'));
      await execSql(e.url, e.setup);
    });
    after(async () => {
      await execSql(e.url, e.drop);
      await rm(dir, { recursive: true, force: true });
    });

    it('survives 5 kill -9 at random points; the rerun completes with no missing or extra row', async () => {
      await execSql(e.url, e.reset);
      const cfg = await writeIni(dir, sections(e, 'kills', { extractor: { batch_size: 200 }, sinker: { batch_size: 200 } }), 'kills.ini');
      // Kill each run at a random point after it made progress (target rows grew), never by wall-clock guesses.
      const copied = async () => {
        const [r] = await query<{ n: string }>(e.url, `SELECT (SELECT COUNT(*) FROM ${DST}.big) + (SELECT COUNT(*) FROM ${DST}.comp) n`);
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
      await assertSame(e);
    });

    it('the same chunk run twice concurrently leaves the target identical', async () => {
      await execSql(e.url, e.reset);
      const cfg = await writeIni(dir, sections(e, 'twice'), 'twice.ini');
      const plan = await runFerry(['plan', cfg]);
      assert.equal(plan.code, 0, plan.stderr);
      const { chunks } = JSON.parse(plan.stdout);
      for (const id of chunks) {
        const [a, b] = await Promise.all([runFerry(['chunk', cfg, id]), runFerry(['chunk', cfg, id])]);
        assert.equal(a.code, 0, a.stderr);
        assert.equal(b.code, 0, b.stderr);
      }
      await assertSame(e);
      const status = await runFerry(['status', cfg, '--json']);
      assert.equal(JSON.parse(status.stdout).chunksDone, chunks.length);
    });

    it('a chunk past its deadline returns partial; the next run continues from its saved key', async () => {
      await execSql(e.url, e.reset);
      const cfg = await writeIni(dir, sections(e, 'deadline', { extractor: { chunk_rows: 200000, batch_size: 100 }, sinker: { batch_size: 100 } }), 'deadline.ini');
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
      await assertSame(e);
    });

    it('a value that does not fit: IN001 naming table and key; earlier rows kept; rerun continues after the fix', async () => {
      await execSql(e.url, e.reset);
      await execSql(e.url, e.narrow(5));
      const cfg = await writeIni(dir, sections(e, 'fit', { parallelizer: { parallel_size: 1 } }), 'fit.ini');
      const r = await runFerry(['run', cfg, '--no-progress']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /IN001 .*comp.*(key|a=)/);
      const [{ n }] = await query<{ n: number }>(e.url, `SELECT COUNT(*) n FROM ${DST}.big`);
      assert.ok(Number(n) > 0, 'rows written before the failure are kept');
      await execSql(e.url, e.narrow(20));
      const again = await runFerry(['run', cfg, '--no-progress']);
      assert.equal(again.code, 0, again.stderr);
      await assertSame(e);
    });
  });
}

const MYSQL = ENGINES[0];

describe('snapshot bad input (CLI)', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-faults-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('bad config: exit 2 with one line naming section.key and a CF code', async () => {
    const cfg = await writeIni(dir, { ...sections(MYSQL, 'bad'), extractor: { db_type: 'mysql', extract_type: 'snapshot', url: testUrls.mysql, batch_size: 'abc' } }, 'bad.ini');
    const r = await runFerry(['run', cfg, '--no-progress']);
    assert.equal(r.code, 2);
    assert.match(r.stderr.trim().split('\n').pop()!, /^CF001 extractor\.batch_size: /);
  });

  it('unreachable host: CN001 after retries, no password in any output', async () => {
    const secret = 'S3cr3t-pw';
    const cfg = await writeIni(dir, sections(MYSQL, 'unreach', { extractor: { url: `mysql://root:${secret}@127.0.0.1:1` } }), 'unreach.ini');
    const r = await runFerry(['run', cfg, '--no-progress'], { FERRY_CONNECT_RETRIES: '2' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CN001/);
    assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), 'password leaked into output');
  });
});
