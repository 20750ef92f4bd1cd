/**
 * PostgreSQL DDL capture (extractor.ddl_meta_tb, ape-dts' event-trigger approach): the event trigger's meta
 * table rows become DdlChanges in stream order, never RowChanges; without ddl_meta_tb nothing changes; and
 * through the task runner an ADD COLUMN mid-stream is applied to a PostgreSQL target before the rows using it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { taskConfigFromSections } from '../../lib/config/task.ts';
import { createCheckpointStore } from '../../lib/checkpoint/create-store.ts';
import { readPgCdcConfig } from '../../lib/connectors/pg/cdc-config.ts';
import type { PgCdcSource } from '../../lib/connectors/pg/index.ts';
import type { ChangeEvent, DdlChange } from '../../lib/core/change.ts';
import { FerryError } from '../../lib/core/errors.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import { readCdcRecord } from '../../lib/task/cdc-position.ts';
import { runCdc } from '../../lib/task/cdc-task.ts';
import { cdcDatabase, collect, never, rowsOf, type CdcDb } from './pg-cdc-support.ts';

const META = 'public.ferry_ddl_meta';
const ddlOpts = { ddl_meta_tb: META, install_ddl_trigger: 'true' };

const shape = (events: ChangeEvent[]) =>
  events
    .filter((e) => e.kind !== 'heartbeat')
    .map((e) =>
      e.kind === 'row' ? `${e.op} ${e.table.tb} ${JSON.stringify(e.after)}` : e.kind === 'ddl' ? `ddl ${e.db} ${e.table ? `${e.table.db}.${e.table.tb}` : '-'} ${e.sql}` : e.kind,
    );

/** Each statement on its own (current_query() is what the client sent: one statement per query here). */
async function run(url: string, statements: string[]): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    for (const s of statements) await c.query(s);
  } finally {
    await c.end();
  }
}

describe('pg cdc ddl capture', () => {
  let db: CdcDb;
  const sources: PgCdcSource[] = [];
  before(async () => {
    db = await cdcDatabase('ferry_cdc_ddl');
    await db.exec(`CREATE TABLE t (id int PRIMARY KEY, v text)`);
  });
  after(async () => {
    for (const s of sources) await s.close().catch(() => undefined);
    await db?.cleanup();
  });

  it('config: ddl_meta_tb and install_ddl_trigger are validated (CF001 naming the key)', () => {
    const c = readPgCdcConfig({ slot_name: 's', ddl_meta_tb: '"My S".meta', install_ddl_trigger: 'true' });
    assert.deepEqual(c.ddlMetaTable, { db: 'My S', tb: 'meta' });
    assert.equal(c.installDdlTrigger, true);
    const d = readPgCdcConfig({ slot_name: 's' });
    assert.equal(d.ddlMetaTable, undefined);
    assert.equal(d.installDdlTrigger, false);
    for (const [key, value] of [['ddl_meta_tb', 'nodot'], ['install_ddl_trigger', 'maybe']]) {
      assert.throws(
        () => readPgCdcConfig({ slot_name: 's', [key]: value }),
        (e: unknown) => e instanceof FerryError && e.code === 'CF001' && e.message.includes(key),
      );
    }
  });

  it('without ddl_meta_tb: DDL yields no DdlChange and no error', async () => {
    db.slot();
    const source = await db.source();
    sources.push(source);
    const from = await source.currentPosition(never);
    await run(db.url, [`ALTER TABLE t ADD COLUMN pre int`, `INSERT INTO t VALUES (-1, 'x', 1)`]);
    const { events } = await collect(source, from, (ev) => rowsOf(ev).length >= 1);
    assert.deepEqual(shape(events).filter((s) => s !== 'commit'), ['insert t {"id":-1,"v":"x","pre":1}']);
    const [{ n }] = await db.exec<{ n: string }>(`SELECT count(*)::text n FROM pg_event_trigger`);
    assert.equal(n, '0', 'nothing installed');
  });

  it('ddl_meta_tb without install and without the table: PR001 naming the key', async () => {
    db.slot();
    const source = await db.source({ ddl_meta_tb: 'public.missing_meta' });
    sources.push(source);
    await assert.rejects(source.currentPosition(never), (e: unknown) => e instanceof FerryError && e.code === 'PR001' && e.message.includes('ddl_meta_tb'));
  });

  it('install_ddl_trigger: DDL arrives as DdlChanges, in stream order, before the rows that depend on it', async () => {
    db.slot();
    const source = await db.source(ddlOpts);
    sources.push(source);
    const from = await source.currentPosition(never);
    // Installing again is idempotent and records nothing.
    await source.currentPosition(never);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      for (const s of [
        `ALTER TABLE t ADD COLUMN c int`,
        `INSERT INTO t VALUES (1, 'a', 10, 5)`,
        `CREATE TEMP TABLE scratch (x int)`,
        `CREATE TABLE t2 (id int PRIMARY KEY, x text)`,
        `INSERT INTO t2 VALUES (1, 'x')`,
        `BEGIN`,
        `ALTER TABLE t2 ADD COLUMN y int`,
        `INSERT INTO t2 VALUES (2, 'y', 7)`,
        `COMMIT`,
        `CREATE INDEX t2_x ON t2 (x)`,
        `DROP TABLE t2`,
      ])
        await c.query(s);
    } finally {
      await c.end();
    }
    const { events } = await collect(source, from, (ev) => {
      const drop = ev.findIndex((e) => e.kind === 'ddl' && e.sql.startsWith('DROP'));
      return drop >= 0 && ev.slice(drop).some((e) => e.kind === 'commit');
    });
    assert.deepEqual(shape(events), [
      'ddl public public.t ALTER TABLE t ADD COLUMN c int',
      'commit',
      'insert t {"id":1,"v":"a","pre":10,"c":5}',
      'commit',
      'ddl public public.t2 CREATE TABLE t2 (id int PRIMARY KEY, x text)',
      'commit',
      'insert t2 {"id":1,"x":"x"}',
      'commit',
      'ddl public public.t2 ALTER TABLE t2 ADD COLUMN y int',
      'insert t2 {"id":2,"x":"y","y":7}',
      'commit',
      'ddl public - CREATE INDEX t2_x ON t2 (x)',
      'commit',
      'ddl public public.t2 DROP TABLE t2',
      'commit',
    ]);
    const ddl = events.filter((e): e is DdlChange => e.kind === 'ddl');
    for (const d of ddl) assert.ok(d.sourceTs && d.position.kind === 'pg');
    const real = events.filter((e) => e.kind !== 'heartbeat');
    for (let i = 1; i < real.length; i++) assert.ok(real[i - 1].position.order < real[i].position.order, `order ${i}`);
    const tags = await db.exec<{ t: string }>(`SELECT command_tag t FROM ${META} ORDER BY id`);
    assert.deepEqual(tags.map((r) => r.t), ['ALTER TABLE', 'CREATE TABLE', 'ALTER TABLE', 'CREATE INDEX', 'DROP TABLE'], 'the meta table holds the DDL (not the temp table, not the installation)');
  });
});

describe('pg cdc ddl capture through the task runner (PG -> PG, filter.do_ddls=*)', () => {
  let db: CdcDb;
  let dir: string;
  before(async () => {
    db = await cdcDatabase('ferry_cdc_ddl_e2e');
    dir = await mkdtemp(join(tmpdir(), 'ferry-cdc-ddl-'));
    await db.exec(`CREATE SCHEMA src`);
    await db.exec(`CREATE SCHEMA dst`);
    for (const s of ['src', 'dst']) await db.exec(`CREATE TABLE ${s}.acct (id int PRIMARY KEY, v text)`);
  });
  after(async () => {
    await db?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function diff(): Promise<number> {
    try {
      const [r] = await db.exec<{ n: string }>(
        `SELECT ((SELECT count(*) FROM (SELECT * FROM src.acct EXCEPT SELECT * FROM dst.acct) x) + (SELECT count(*) FROM (SELECT * FROM dst.acct EXCEPT SELECT * FROM src.acct) y))::text n`,
      );
      return Number(r.n);
    } catch {
      return -1; // column lists differ: the DDL is not applied yet
    }
  }
  async function waitSame(ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      if ((await diff()) === 0) return;
      if (Date.now() > end) assert.fail(`target still differs from source after ${ms} ms (${await diff()})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('ADD COLUMN mid-stream is applied to the target and the new column values arrive', async () => {
    const slot = db.slot();
    const cfg = taskConfigFromSections(
      {
        extractor: { db_type: 'pg', extract_type: 'cdc', url: db.url, slot_name: slot, ddl_meta_tb: META, install_ddl_trigger: 'true' },
        sinker: { db_type: 'pg', sink_type: 'write', url: db.url, batch_size: '100' },
        filter: { do_dbs: 'src', do_events: 'insert,update,delete', do_ddls: '*' },
        router: { db_map: 'src:dst' },
        parallelizer: { parallel_type: 'serial', parallel_size: '1' },
        pipeline: { checkpoint_interval_secs: '0' },
        global: { task_id: 'ddl_e2e' },
        checkpoint: { store: 'file', dir: join(dir, 'ddl_e2e') },
      },
      process.env,
    ).config;
    const store = await createCheckpointStore(cfg.checkpoint, { logger: silentLogger });
    const stop = new AbortController();
    const running = runCdc(cfg, { store, logger: silentLogger, signal: stop.signal });
    try {
      for (let i = 0; i < 100 && !(await readCdcRecord(store, cfg.taskId)); i++) await new Promise((r) => setTimeout(r, 100));
      await db.exec(`INSERT INTO src.acct SELECT g, 'v' || g FROM generate_series(1, 100) g`);
      await waitSame();
      await run(db.url, [
        `SET search_path TO src`,
        `ALTER TABLE acct ADD COLUMN c int`,
        `INSERT INTO acct SELECT g, 'w' || g, g * 3 FROM generate_series(101, 200) g`,
        `UPDATE acct SET c = id * 2 WHERE id <= 50`,
      ]);
      await waitSame();
    } finally {
      stop.abort();
    }
    const summary = await running;
    assert.equal(summary.stoppedBy, 'signal');
    const cols = await db.exec<{ c: string }>(`SELECT column_name c FROM information_schema.columns WHERE table_schema = 'dst' AND table_name = 'acct' ORDER BY ordinal_position`);
    assert.deepEqual(cols.map((r) => r.c), ['id', 'v', 'c']);
    const [{ n }] = await db.exec<{ n: string }>(`SELECT count(*)::text n FROM dst.acct WHERE c IS NOT NULL`);
    assert.equal(n, '150');
    await store.close();
  });
});
