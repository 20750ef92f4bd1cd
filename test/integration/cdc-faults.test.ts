/**
 * CDC resilience through the real CLI (PostgreSQL -> PostgreSQL, serial apply): kill -9 the CDC process at
 * random points 5 times during a continuous write load and restart it; after every kill the target holds no
 * partially applied source transaction; at the end target == source. Also: SIGTERM drains and exits 0, and a
 * second worker for the same task is refused while the first holds the lease.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testUrls as baseUrls } from '../support/services.ts';
import { execSql, query } from '../support/sql.ts';
import { runFerry, startFerry as start, writeIni } from '../support/cli.ts';

// Short leases: a killed worker's lease lapses in 3 s, so each restart waits at most that long.
const children: Array<ReturnType<typeof start>['child']> = [];
const startFerry = (args: string[]) => {
  const r = start(args, { FERRY_LEASE_TTL_SECS: '3' });
  children.push(r.child);
  return r;
};

const DB = `it_cdc_faults_${process.pid}`;
const url = baseUrls.pg.replace(/\/[^/?]*(\?|$)/, `/${DB}$1`);
const SLOT = `ferry_it_faults_${process.pid}`;
let dir: string;
let cfg: string;

async function diffRows(): Promise<number> {
  const [r] = await query<{ n: string }>(url, `SELECT (
    (SELECT COUNT(*) FROM (SELECT * FROM src.acct EXCEPT SELECT * FROM dst.acct) a) + (SELECT COUNT(*) FROM (SELECT * FROM dst.acct EXCEPT SELECT * FROM src.acct) b) +
    (SELECT COUNT(*) FROM (SELECT * FROM src.ledger EXCEPT SELECT * FROM dst.ledger) c) + (SELECT COUNT(*) FROM (SELECT * FROM dst.ledger EXCEPT SELECT * FROM src.ledger) d))::text n`);
  return Number(r.n);
}

/** Serial apply keeps source transactions whole: every transaction tag has 0 or 3 ledger rows in the target. */
async function partialTransactions(): Promise<number> {
  const [r] = await query<{ n: string }>(url, 'SELECT COUNT(*)::text n FROM (SELECT tag FROM dst.ledger GROUP BY tag HAVING COUNT(*) <> 3) x');
  return Number(r.n);
}

const targetRows = async () => Number((await query<{ n: string }>(url, 'SELECT COUNT(*)::text n FROM dst.ledger'))[0].n);

describe('CDC faults (CLI, PostgreSQL -> PostgreSQL)', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-cdc-faults-'));
    await execSql(baseUrls.pg, `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await execSql(baseUrls.pg, `CREATE DATABASE ${DB}`);
    const ddl = (s: string) => `CREATE SCHEMA ${s};
      CREATE TABLE ${s}.acct (id INT PRIMARY KEY, balance NUMERIC(20,2) NOT NULL, touched TIMESTAMP(6));
      CREATE TABLE ${s}.ledger (tag BIGINT, n INT, amount NUMERIC(20,2), PRIMARY KEY (tag, n));`;
    await execSql(url, ddl('src') + ddl('dst') + 'INSERT INTO src.acct SELECT g, 1000, now() FROM generate_series(1, 200) g; INSERT INTO dst.acct SELECT * FROM src.acct;');
    cfg = await writeIni(dir, {
      extractor: { db_type: 'pg', extract_type: 'cdc', url, slot_name: SLOT },
      sinker: { db_type: 'pg', sink_type: 'write', url, batch_size: 200 },
      filter: { do_dbs: 'src' },
      router: { db_map: 'src:dst' },
      parallelizer: { parallel_type: 'serial' },
      pipeline: { checkpoint_interval_secs: 0 },
      global: { task_id: 'cdc_faults' },
      checkpoint: { store: 'file', dir: join(dir, 'cp') },
    });
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    if (process.env.FERRY_KEEP_DB) return;
    await execSql(url, `SELECT pg_drop_replication_slot('${SLOT}') FROM pg_replication_slots WHERE slot_name = '${SLOT}'`).catch(() => undefined);
    await execSql(baseUrls.pg, `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await rm(dir, { recursive: true, force: true });
  });

  it('5 kill -9 under continuous writes: no partial transaction ever, and target == source at the end', async () => {
    // CDC must have recorded its start (slot created) before the first write; earlier writes belong to a snapshot.
    const first = startFerry(['run', cfg, '--no-progress']);
    const positionFile = join(dir, 'cp', 'items', 'tasks', 'cdc_faults', 'cdc', 'position.json');
    for (let i = 0; i < 300 && !existsSync(positionFile); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(positionFile), 'CDC did not record its start position');
    first.child.kill('SIGKILL');
    await first.done;
    let writing = true;
    let tag = 0;
    const writer = (async () => {
      while (writing) {
        tag++;
        const a = 1 + (tag % 200);
        await execSql(url, `BEGIN;
          UPDATE src.acct SET balance = balance - 1, touched = now() WHERE id = ${a};
          UPDATE src.acct SET balance = balance + 1, touched = now() WHERE id = ${1 + ((a + 7) % 200)};
          INSERT INTO src.ledger SELECT ${tag}, g, g * 0.5 FROM generate_series(1, 3) g;
          COMMIT;`);
      }
    })();
    try {
      let kills = 0;
      for (let i = 0; i < 5; i++) {
        const before = await targetRows();
        const step = 3 * (1 + Math.floor(Math.random() * 150));
        const { child, done } = startFerry(['run', cfg, '--no-progress', '--wait-lease', '40']);
        while (child.exitCode === null && (await targetRows()) < before + step) await new Promise((r) => setTimeout(r, 10));
        assert.equal(child.exitCode, null, 'CDC exited on its own');
        child.kill('SIGKILL');
        kills++;
        await done;
        assert.equal(await partialTransactions(), 0, `a partially applied transaction is visible after kill ${kills}`);
      }
      assert.equal(kills, 5);
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
      await new Promise((r) => setTimeout(r, 200));
    }
    const t0 = Date.now();
    child.kill('SIGTERM');
    const r = await done;
    assert.equal(r.code, 0, r.stderr.slice(-1500));
    assert.ok(Date.now() - t0 < 30_000, 'SIGTERM drained within 30 s');
    assert.equal(await partialTransactions(), 0);
  });

  it('a second worker for the same task is refused while the first holds the lease', async () => {
    const first = startFerry(['run', cfg, '--no-progress', '--wait-lease', '40']);
    try {
      // Wait for the first worker to take the lease (it logs "lease acquired").
      const end = Date.now() + 20_000;
      let out = '';
      first.child.stderr!.on('data', (d) => (out += d));
      while (!out.includes('lease acquired')) {
        assert.ok(Date.now() < end, 'first worker did not take the lease');
        await new Promise((r) => setTimeout(r, 50));
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
