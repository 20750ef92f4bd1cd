/**
 * PostgreSQL -> PostgreSQL CDC through the task runner (lib/task/cdc-task.ts): stream, apply with each
 * apply mode, commit positions after the target acked, resume after stop, handover from a snapshot.
 * Source and target are two schemas of the project's own PostgreSQL; comparisons are exact (EXCEPT in SQL).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testUrls as baseUrls } from '../support/services.ts';
import { execSql, query } from '../support/sql.ts';
import { taskConfigFromSections } from '../../lib/config/task.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import { createCheckpointStore } from '../../lib/checkpoint/create-store.ts';
import { runCdc } from '../../lib/task/cdc-task.ts';
import { runSnapshotAndCdc } from '../../lib/task/handover.ts';
import { readCdcRecord } from '../../lib/task/cdc-position.ts';
import type { TaskConfig } from '../../lib/config/types.ts';

// A database of its own: publications and slots made here never touch other tests' tables.
const DB = `it_cdc_pg_${process.pid}`;
const testUrls = { pg: baseUrls.pg.replace(/\/[^/?]*(\?|$)/, `/${DB}$1`) };
const SRC = 'it_cdc_pg_src';
const DST = 'it_cdc_pg_dst';
const slots: string[] = [];
let dir: string;

function config(taskId: string, mode: string, extra: Record<string, Record<string, string>> = {}): TaskConfig {
  const slot = `ferry_it_${taskId}_${process.pid}`;
  slots.push(slot);
  const sections: Record<string, Record<string, string>> = {
    extractor: { db_type: 'pg', extract_type: 'cdc', url: testUrls.pg, slot_name: slot },
    sinker: { db_type: 'pg', sink_type: 'write', url: testUrls.pg, batch_size: '500' },
    filter: { do_dbs: SRC, do_events: 'insert,update,delete' },
    router: { db_map: `${SRC}:${DST}` },
    parallelizer: { parallel_type: mode, parallel_size: '3' },
    pipeline: { checkpoint_interval_secs: '0' },
    global: { task_id: taskId },
    checkpoint: { store: 'file', dir: join(dir, taskId) },
  };
  for (const [s, kv] of Object.entries(extra)) sections[s] = { ...sections[s], ...kv };
  return taskConfigFromSections(sections, process.env).config;
}

async function resetTables(): Promise<void> {
  const ddl = (s: string) => `DROP SCHEMA IF EXISTS ${s} CASCADE; CREATE SCHEMA ${s};
    CREATE TABLE ${s}.acct (id INT PRIMARY KEY, owner TEXT NOT NULL, balance NUMERIC(20,4), note TEXT, at TIMESTAMP(6));
    CREATE TABLE ${s}.ledger (a INT, b TEXT, amount BIGINT, PRIMARY KEY (a, b));`;
  await execSql(testUrls.pg, ddl(SRC) + ddl(DST));
}

async function diff(): Promise<number> {
  let n = 0;
  for (const t of ['acct', 'ledger']) {
    const [r] = await query<{ n: string }>(testUrls.pg, `SELECT ((SELECT COUNT(*) FROM (SELECT * FROM ${SRC}.${t} EXCEPT SELECT * FROM ${DST}.${t}) x) + (SELECT COUNT(*) FROM (SELECT * FROM ${DST}.${t} EXCEPT SELECT * FROM ${SRC}.${t}) y))::text n`);
    n += Number(r.n);
  }
  return n;
}

async function waitSame(ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if ((await diff()) === 0) return;
    if (Date.now() > end) assert.fail(`target still differs from source after ${ms} ms (${await diff()} rows)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function workload(round: number): Promise<void> {
  const base = round * 10_000;
  await execSql(testUrls.pg, `
    INSERT INTO ${SRC}.acct SELECT ${base} + g, 'owner' || g, g * 1.2345, repeat('n', g % 7), TIMESTAMP '2024-01-01 00:00:00.000001' + g * INTERVAL '1.000001 s' FROM generate_series(1, 500) g;
    UPDATE ${SRC}.acct SET balance = balance + 1, note = NULL WHERE id % 3 = 0 AND id > ${base};
    DELETE FROM ${SRC}.acct WHERE id % 5 = 0 AND id > ${base};
    UPDATE ${SRC}.acct SET id = id + 5000 WHERE id % 7 = 0 AND id > ${base} AND id <= ${base} + 500;
    BEGIN;
      INSERT INTO ${SRC}.ledger SELECT g % 11, 'r${round}-' || g, g FROM generate_series(1, 300) g;
      UPDATE ${SRC}.acct SET owner = owner || '!' WHERE id = ${base} + 1;
      DELETE FROM ${SRC}.ledger WHERE a = 3 AND b LIKE 'r${round}-%';
    COMMIT;`);
}

describe('CDC PostgreSQL -> PostgreSQL (task runner)', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-cdc-pg-'));
    await execSql(baseUrls.pg, `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await execSql(baseUrls.pg, `CREATE DATABASE ${DB}`);
  });
  after(async () => {
    for (const s of slots) await execSql(testUrls.pg, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '${s}'`).catch(() => undefined);
    await execSql(baseUrls.pg, `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await rm(dir, { recursive: true, force: true });
  });

  for (const mode of ['serial', 'rdb_merge', 'table']) {
    it(`${mode}: inserts, updates, deletes, key changes and multi-table transactions arrive exactly; position = slot flush`, async () => {
      await resetTables();
      const cfg = config(`pg_${mode}`, mode);
      const store = await createCheckpointStore(cfg.checkpoint, { logger: silentLogger });
      const stop = new AbortController();
      const running = runCdc(cfg, { store, logger: silentLogger, signal: stop.signal });
      try {
        for (let i = 0; i < 50 && !(await readCdcRecord(store, cfg.taskId)); i++) await new Promise((r) => setTimeout(r, 100));
        await workload(1);
        await waitSame();
      } finally {
        stop.abort();
      }
      const summary = await running;
      assert.equal(summary.stoppedBy, 'signal');
      assert.ok(summary.changes > 1000, `applied ${summary.changes} changes`);
      const rec = await readCdcRecord(store, cfg.taskId);
      const [slot] = await query<{ lsn: string }>(testUrls.pg, `SELECT confirmed_flush_lsn::text lsn FROM pg_replication_slots WHERE slot_name = $1`, [cfg.extractor.raw.slot_name]);
      assert.equal(String(rec!.position.data.lsn).toUpperCase(), slot.lsn.toUpperCase(), 'the slot is acknowledged exactly up to the committed position');

      // Changes made while stopped are applied after a restart from the stored position.
      await workload(2);
      const stop2 = new AbortController();
      const again = runCdc(cfg, { store, logger: silentLogger, signal: stop2.signal });
      try {
        await waitSame();
      } finally {
        stop2.abort();
      }
      await again;
      await store.close();
    });
  }

  it('after an applied group, an idle source moves the committed position on (keepalive heartbeats, no heartbeat table)', async () => {
    await resetTables();
    await execSql(testUrls.pg, 'CREATE TABLE IF NOT EXISTS public.unpublished (id serial PRIMARY KEY, v text)');
    const cfg = config('pg_idle_after_group', 'rdb_merge');
    const store = await createCheckpointStore(cfg.checkpoint, { logger: silentLogger });
    const stop = new AbortController();
    const running = runCdc(cfg, { store, logger: silentLogger, signal: stop.signal });
    const lsn = (x: unknown) => { const [a, b] = String(x).split('/'); return (BigInt(`0x${a}`) << 32n) + BigInt(`0x${b}`); };
    let moved = false;
    try {
      for (let i = 0; i < 50 && !(await readCdcRecord(store, cfg.taskId)); i++) await new Promise((r) => setTimeout(r, 100));
      await execSql(testUrls.pg, `INSERT INTO ${SRC}.acct VALUES (1, 'one', 1, 'n', now())`);
      await waitSame();
      const [{ lsn: afterCommit }] = await query<{ lsn: string }>(testUrls.pg, 'SELECT pg_current_wal_lsn()::text lsn');
      // Only WAL the task does not publish from now on: the position can move past it only by heartbeats.
      for (let i = 0; i < 40 && !moved; i++) {
        await execSql(testUrls.pg, `INSERT INTO public.unpublished (v) SELECT 'x' FROM generate_series(1, 500)`);
        await new Promise((r) => setTimeout(r, 500));
        const rec = await readCdcRecord(store, cfg.taskId);
        moved = lsn(rec!.position.data.lsn) > lsn(afterCommit);
      }
    } finally {
      stop.abort();
    }
    await running;
    await store.close();
    assert.ok(moved, 'the committed position moved past the last applied commit while the source was idle');
  });

  it('snapshot -> CDC handover: writes running during the snapshot are neither lost nor duplicated', async () => {
    await resetTables();
    await execSql(testUrls.pg, `INSERT INTO ${SRC}.acct SELECT g, 'o' || g, g, 'x', now() FROM generate_series(1, 20000) g; ANALYZE ${SRC}.acct;`);
    const cfg = config('pg_handover', 'rdb_merge', { extractor: { extract_type: 'snapshot_and_cdc', chunk_rows: '2000', batch_size: '500' } });
    const store = await createCheckpointStore(cfg.checkpoint, { logger: silentLogger });
    const stop = new AbortController();
    let writing = true;
    const writer = (async () => {
      let i = 0;
      while (writing) {
        i++;
        await execSql(testUrls.pg, `UPDATE ${SRC}.acct SET balance = balance + 1 WHERE id % 97 = ${i % 97};
          INSERT INTO ${SRC}.acct VALUES (${100000 + i}, 'late', ${i}, 'y', now());
          DELETE FROM ${SRC}.acct WHERE id = ${i * 7};`);
      }
    })();
    const running = runSnapshotAndCdc(cfg, { store, logger: silentLogger, signal: stop.signal });
    try {
      await new Promise((r) => setTimeout(r, 3000));
      writing = false;
      await writer;
      await waitSame(60_000);
    } finally {
      writing = false;
      stop.abort();
    }
    const r = await running;
    assert.equal(r.snapshot.status, 'done');
    assert.ok(r.cdc, 'cdc ran after the snapshot');
    await store.close();
  });
});
