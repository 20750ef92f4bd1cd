/**
 * An idle source with a heartbeat table: for FERRY_IDLE_SECS (default 120 s, as the issue asks) nothing but
 * ferry's heartbeat writes to the source; the committed position keeps moving, lag stays under 15 s, and the
 * PostgreSQL slot's restart_lsn advances (WAL does not pile up).
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
import { readCdcRecord } from '../../lib/task/cdc-position.ts';
import { heartbeatTableDdl } from '../../lib/connectors/pg/heartbeat.ts';
import { heartbeatTableDdl as mysqlHeartbeatDdl } from '../../lib/connectors/mysql/heartbeat.ts';
import type { TaskConfig } from '../../lib/config/types.ts';

const IDLE_SECS = Number(process.env.FERRY_IDLE_SECS ?? 120);
const DB = `it_cdc_idle_${process.pid}`;
const url = baseUrls.pg.replace(/\/[^/?]*(\?|$)/, `/${DB}$1`);
const SLOT = `ferry_it_idle_${process.pid}`;
let dir: string;

const MYDB = `it_cdc_idle_${process.pid}`;

/** Runs CDC for IDLE_SECS on an idle source; returns the start/end records and the worst lag seen. */
async function idleRun(config: TaskConfig, onStart: () => Promise<void> = async () => {}) {
  const store = await createCheckpointStore(config.checkpoint, { logger: silentLogger });
  const stop = new AbortController();
  const running = runCdc(config, { store, logger: silentLogger, signal: stop.signal });
  try {
    for (let i = 0; i < 100 && !(await readCdcRecord(store, config.taskId)); i++) await new Promise((r) => setTimeout(r, 100));
    const start = await readCdcRecord(store, config.taskId);
    assert.ok(start, 'CDC recorded its start');
    await onStart();
    let maxLag = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < IDLE_SECS * 1000) {
      await new Promise((r) => setTimeout(r, 2000));
      const rec = await readCdcRecord(store, config.taskId);
      const lag = (Date.now() - (rec?.sourceTs ?? Date.parse(rec!.appliedAt))) / 1000;
      if (Date.now() - t0 > 10_000) maxLag = Math.max(maxLag, lag);
    }
    stop.abort();
    await running;
    // Read after the stop: the final checkpoint may still commit (and acknowledge) a later heartbeat.
    return { start: start!, last: (await readCdcRecord(store, config.taskId))!, maxLag };
  } finally {
    stop.abort();
    await running;
    await store.close();
  }
}

describe(`CDC on an idle source (${IDLE_SECS} s)`, { concurrency: true }, () => {
  it('MySQL: binlog heartbeats and the heartbeat table move the position on; lag stays under 15 s', async () => {
    await execSql(baseUrls.mysql, `DROP DATABASE IF EXISTS ${MYDB}; CREATE DATABASE ${MYDB}; CREATE TABLE ${MYDB}.t (id INT PRIMARY KEY);
      CREATE DATABASE IF NOT EXISTS ${MYDB}_dst; CREATE TABLE IF NOT EXISTS ${MYDB}_dst.t (id INT PRIMARY KEY);
      ${mysqlHeartbeatDdl({ db: MYDB, tb: 'ape_dts_heartbeat' })};`);
    try {
      const { config } = taskConfigFromSections({
        extractor: { db_type: 'mysql', extract_type: 'cdc', url: baseUrls.mysql, server_id: String(2000 + (process.pid % 1000)),
          heartbeat_tb: `${MYDB}.ape_dts_heartbeat`, heartbeat_interval_secs: '2', binlog_heartbeat_interval_secs: '2' },
        sinker: { db_type: 'mysql', sink_type: 'write', url: baseUrls.mysql },
        filter: { do_tbs: `${MYDB}.t` },
        router: { db_map: `${MYDB}:${MYDB}_dst` },
        pipeline: { checkpoint_interval_secs: '1' },
        global: { task_id: 'idle_mysql' },
        checkpoint: { store: 'file', dir: join(dir, 'mysql') },
      }, process.env);
      const { start, last, maxLag } = await idleRun(config);
      assert.ok(last.position.order > start.position.order, 'the committed position moved on while idle');
      assert.ok(maxLag < 15, `lag reached ${maxLag.toFixed(1)} s`);
    } finally {
      await execSql(baseUrls.mysql, `DROP DATABASE IF EXISTS ${MYDB}; DROP DATABASE IF EXISTS ${MYDB}_dst;`);
    }
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-idle-'));
    await execSql(baseUrls.pg, `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await execSql(baseUrls.pg, `CREATE DATABASE ${DB}`);
    await execSql(url, `CREATE SCHEMA src; CREATE SCHEMA dst; CREATE TABLE src.t (id INT PRIMARY KEY); CREATE TABLE dst.t (id INT PRIMARY KEY);
      ${heartbeatTableDdl({ db: 'public', tb: 'ape_dts_heartbeat' })};`);
  });
  after(async () => {
    await execSql(url, `SELECT pg_drop_replication_slot('${SLOT}') FROM pg_replication_slots WHERE slot_name = '${SLOT}'`).catch(() => undefined);
    await execSql(baseUrls.pg, `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await rm(dir, { recursive: true, force: true });
  });

  it('PostgreSQL: heartbeat table commits move position and slot on; lag stays under 15 s', async () => {
    const { config } = taskConfigFromSections({
      extractor: { db_type: 'pg', extract_type: 'cdc', url, slot_name: SLOT, heartbeat_tb: 'public.ape_dts_heartbeat', heartbeat_interval_secs: '2', keepalive_interval_secs: '2' },
      sinker: { db_type: 'pg', sink_type: 'write', url },
      filter: { do_dbs: 'src' },
      router: { db_map: 'src:dst' },
      pipeline: { checkpoint_interval_secs: '1' },
      global: { task_id: 'idle' },
      checkpoint: { store: 'file', dir },
    }, process.env);
    let slot0 = '';
    const { start, last, maxLag } = await idleRun(config, async () => {
      slot0 = (await query<{ r: string }>(url, `SELECT restart_lsn::text r FROM pg_replication_slots WHERE slot_name = '${SLOT}'`))[0].r;
    });
    const [slot1] = await query<{ r: string; f: string }>(url, `SELECT restart_lsn::text r, confirmed_flush_lsn::text f FROM pg_replication_slots WHERE slot_name = '${SLOT}'`);
    assert.ok(last.position.order > start.position.order, 'the committed position moved on while idle');
    assert.ok(maxLag < 15, `lag reached ${maxLag.toFixed(1)} s`);
    const lsn = (x: string) => { const [a, b] = x.split('/'); return (BigInt(`0x${a}`) << 32n) + BigInt(`0x${b}`); };
    assert.ok(lsn(slot1.r) > lsn(slot0), `restart_lsn did not advance (${slot0} -> ${slot1.r})`);
    assert.equal(String(last.position.data.lsn).toUpperCase(), slot1.f.toUpperCase());
  });
});
