/**
 * CDC resilience through the real CLI, serial apply, for PostgreSQL -> PostgreSQL and MariaDB -> MariaDB:
 * kill -9 the CDC process at random points 5 times during a continuous write load and restart it; after every
 * kill the target holds no partially applied source transaction; at the end target == source. Also: SIGTERM
 * drains and exits 0 within 30 s, and a second worker for the same task is refused while the first holds the
 * lease.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testUrls } from '../support/services.ts';
import { execSql, query } from '../support/sql.ts';
import { runFerry, startFerry as start, writeIni } from '../support/cli.ts';

// Short leases: a killed worker's lease lapses in 3 s, so each restart waits at most that long.
const children: Array<ReturnType<typeof start>['child']> = [];
const startFerry = (args: string[]) => {
  const r = start(args, { FERRY_LEASE_TTL_SECS: '3' });
  children.push(r.child);
  return r;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What differs between the engines: where the data lives, the DDL, and one source transaction. */
interface Engine {
  name: string;
  /** URL of the database holding schemas/databases `<p>src` and `<p>dst`. */
  url: string;
  prefix: string;
  setup(): Promise<void>;
  cleanup(): Promise<void>;
  extractor: Record<string, string>;
  /** One source transaction: two account updates and three ledger rows tagged `tag`. */
  tx(tag: number): string;
}

const pid = process.pid;
const pgDb = `it_cdc_faults_${pid}`;
const pgUrl = testUrls.pg.replace(/\/[^/?]*(\?|$)/, `/${pgDb}$1`);
const slot = `ferry_it_faults_${pid}`;

const engines: Engine[] = [
  {
    name: 'PostgreSQL -> PostgreSQL',
    url: pgUrl,
    prefix: '',
    async setup() {
      await execSql(testUrls.pg, `DROP DATABASE IF EXISTS ${pgDb} WITH (FORCE)`);
      await execSql(testUrls.pg, `CREATE DATABASE ${pgDb}`);
      const ddl = (s: string) => `CREATE SCHEMA ${s};
        CREATE TABLE ${s}.acct (id INT PRIMARY KEY, balance NUMERIC(20,2) NOT NULL, touched TIMESTAMP(6));
        CREATE TABLE ${s}.ledger (tag BIGINT, n INT, amount NUMERIC(20,2), PRIMARY KEY (tag, n));`;
      await execSql(pgUrl, ddl('src') + ddl('dst') + 'INSERT INTO src.acct SELECT g, 1000, now() FROM generate_series(1, 200) g; INSERT INTO dst.acct SELECT * FROM src.acct;');
    },
    async cleanup() {
      await execSql(pgUrl, `SELECT pg_drop_replication_slot('${slot}') FROM pg_replication_slots WHERE slot_name = '${slot}'`).catch(() => undefined);
      await execSql(testUrls.pg, `DROP DATABASE IF EXISTS ${pgDb} WITH (FORCE)`);
    },
    extractor: { db_type: 'pg', slot_name: slot },
    tx: (tag) => `BEGIN;
      UPDATE src.acct SET balance = balance - 1, touched = now() WHERE id = ${1 + (tag % 200)};
      UPDATE src.acct SET balance = balance + 1, touched = now() WHERE id = ${1 + ((tag + 7) % 200)};
      INSERT INTO src.ledger SELECT ${tag}, g, g * 0.5 FROM generate_series(1, 3) g;
      COMMIT;`,
  },
  {
    name: 'MariaDB -> MariaDB',
    url: testUrls.mysql,
    prefix: `itf${pid}_`,
    async setup() {
      const p = `itf${pid}_`;
      const ddl = (s: string) => `DROP DATABASE IF EXISTS ${p}${s}; CREATE DATABASE ${p}${s};
        CREATE TABLE ${p}${s}.acct (id INT PRIMARY KEY, balance DECIMAL(20,2) NOT NULL, touched DATETIME(6));
        CREATE TABLE ${p}${s}.ledger (tag BIGINT, n INT, amount DECIMAL(20,2), PRIMARY KEY (tag, n));`;
      await execSql(testUrls.mysql, ddl('src') + ddl('dst') + `USE ${p}src; INSERT INTO acct SELECT seq, 1000, NOW(6) FROM seq_1_to_200;
        INSERT INTO ${p}dst.acct SELECT * FROM ${p}src.acct;`);
    },
    async cleanup() {
      await execSql(testUrls.mysql, `DROP DATABASE IF EXISTS itf${pid}_src; DROP DATABASE IF EXISTS itf${pid}_dst;`);
    },
    extractor: { db_type: 'mysql', server_id: String(3000 + (pid % 1000)) },
    tx: (tag) => `START TRANSACTION;
      UPDATE itf${pid}_src.acct SET balance = balance - 1, touched = NOW(6) WHERE id = ${1 + (tag % 200)};
      UPDATE itf${pid}_src.acct SET balance = balance + 1, touched = NOW(6) WHERE id = ${1 + ((tag + 7) % 200)};
      INSERT INTO itf${pid}_src.ledger VALUES (${tag}, 1, 0.5), (${tag}, 2, 1.0), (${tag}, 3, 1.5);
      COMMIT;`,
  },
];

for (const e of engines) {
  const src = `${e.prefix}src`;
  const dst = `${e.prefix}dst`;
  const count = async (sql: string) => Number((await query<{ n: string | number }>(e.url, sql))[0].n);
  /** Rows in one side and not the other, over both tables (exact, in SQL). */
  const diffRows = () =>
    count(`SELECT (
      (SELECT COUNT(*) FROM (SELECT * FROM ${src}.acct EXCEPT SELECT * FROM ${dst}.acct) a) + (SELECT COUNT(*) FROM (SELECT * FROM ${dst}.acct EXCEPT SELECT * FROM ${src}.acct) b) +
      (SELECT COUNT(*) FROM (SELECT * FROM ${src}.ledger EXCEPT SELECT * FROM ${dst}.ledger) c) + (SELECT COUNT(*) FROM (SELECT * FROM ${dst}.ledger EXCEPT SELECT * FROM ${src}.ledger) d)) n`);
  /** Serial apply keeps source transactions whole: every tag has 0 or 3 ledger rows in the target. */
  const partialTransactions = () => count(`SELECT COUNT(*) n FROM (SELECT tag FROM ${dst}.ledger GROUP BY tag HAVING COUNT(*) <> 3) x`);
  const targetRows = () => count(`SELECT COUNT(*) n FROM ${dst}.ledger`);

  describe(`CDC faults (CLI, ${e.name})`, () => {
    let dir: string;
    let cfg: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'ferry-cdc-faults-'));
      await e.setup();
      cfg = await writeIni(dir, {
        extractor: { extract_type: 'cdc', url: e.url, ...e.extractor },
        sinker: { db_type: e.extractor.db_type, sink_type: 'write', url: e.url, batch_size: 200 },
        filter: { do_dbs: src },
        router: { db_map: `${src}:${dst}` },
        parallelizer: { parallel_type: 'serial' },
        pipeline: { checkpoint_interval_secs: 0 },
        global: { task_id: 'cdc_faults' },
        checkpoint: { store: 'file', dir: join(dir, 'cp') },
      });
    });
    after(async () => {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      await sleep(500);
      await e.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it('5 kill -9 under continuous writes: no partial transaction ever, and target == source at the end', async () => {
      // CDC must have recorded its start before the first write; earlier writes belong to a snapshot.
      const first = startFerry(['run', cfg, '--no-progress']);
      const positionFile = join(dir, 'cp', 'items', 'tasks', 'cdc_faults', 'cdc', 'position.json');
      for (let i = 0; i < 300 && !existsSync(positionFile); i++) await sleep(50);
      assert.ok(existsSync(positionFile), 'CDC did not record its start position');
      first.child.kill('SIGKILL');
      await first.done;
      let writing = true;
      let tag = 0;
      const writer = (async () => {
        while (writing) await execSql(e.url, e.tx(++tag));
      })();
      try {
        for (let kills = 1; kills <= 5; kills++) {
          const before = await targetRows();
          const step = 3 * (1 + Math.floor(Math.random() * 150));
          const { child, done } = startFerry(['run', cfg, '--no-progress', '--wait-lease', '40']);
          const deadline = Date.now() + 60_000;
          while (child.exitCode === null && (await targetRows()) < before + step && Date.now() < deadline) await sleep(10);
          if (Date.now() >= deadline) {
            child.kill('SIGKILL');
            assert.fail(`no progress in 60 s before kill ${kills}: ${(await done).stderr.slice(-2000)}`);
          }
          if (child.exitCode !== null) assert.fail(`CDC exited on its own: ${(await done).stderr.slice(-1000)}`);
          child.kill('SIGKILL');
          await done;
          assert.equal(await partialTransactions(), 0, `a partially applied transaction is visible after kill ${kills}`);
        }
      } finally {
        writing = false;
        await writer;
      }
      // Catch up, then a SIGTERM drains and exits 0.
      const { child, done } = startFerry(['run', cfg, '--no-progress', '--wait-lease', '40']);
      const end = Date.now() + 60_000;
      while ((await diffRows()) !== 0) {
        if (Date.now() > end) {
          child.kill('SIGKILL');
          assert.fail(`target still differs after 60 s: ${await diffRows()} rows; ferry said: ${(await done).stderr.slice(-3000)}`);
        }
        await sleep(200);
      }
      const t0 = Date.now();
      child.kill('SIGTERM');
      const r = await done;
      assert.equal(r.code, 0, r.stderr.slice(-1500));
      assert.ok(Date.now() - t0 < 30_000, 'SIGTERM drained within 30 s');
      assert.equal(await partialTransactions(), 0);
      assert.ok(tag > 50, `only ${tag} source transactions were written`);
    });

    it('a second worker for the same task is refused while the first holds the lease', async () => {
      const first = startFerry(['run', cfg, '--no-progress', '--wait-lease', '40']);
      try {
        const end = Date.now() + 20_000;
        let out = '';
        first.child.stderr!.on('data', (d) => (out += d));
        while (!out.includes('lease acquired')) {
          assert.ok(Date.now() < end, 'first worker did not take the lease');
          await sleep(50);
        }
        const second = await runFerry(['run', cfg, '--no-progress'], { FERRY_LEASE_TTL_SECS: '3' });
        assert.equal(second.code, 1);
        assert.match(second.stderr, /CP002 .*held by another worker/);
      } finally {
        first.child.kill('SIGTERM');
        await first.done;
      }
    });
  });
}
