/**
 * MySQL -> MySQL CDC through the task runner (lib/task/cdc-task.ts) with the binlog source and the MySQL
 * applier: every apply mode, resume after a stop from the stored position, and the snapshot -> CDC handover
 * under concurrent writes. Comparisons are exact (exactSelect). DDL is not applied here: the runner skips DDL of
 * tables the router moves to another database, and source and target share one server (applyDdl is covered in
 * mysql-cdc-applier.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCheckpointStore } from '../../lib/checkpoint/create-store.ts';
import { taskConfigFromSections } from '../../lib/config/task.ts';
import type { TaskConfig } from '../../lib/config/types.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import { readCdcRecord } from '../../lib/task/cdc-position.ts';
import { runCdc } from '../../lib/task/cdc-task.ts';
import { runSnapshotAndCdc } from '../../lib/task/handover.ts';
import { exactSelect, freshMysqlDb, type TestDb } from '../support/mysql.ts';
import { testUrls } from '../support/services.ts';
import { uniqueServerId } from './mysql-cdc-support.ts';

const TABLES = `
  CREATE TABLE acct (id INT PRIMARY KEY, owner VARCHAR(40) NOT NULL, balance DECIMAL(20,4), note TEXT, at DATETIME(6), flags SET('a','b'), raw VARBINARY(16));
  CREATE TABLE ledger (a INT, b VARCHAR(20), amount BIGINT UNSIGNED, PRIMARY KEY (a, b));`;
const COLS = {
  acct: [['id', 'int'], ['owner', 'string'], ['balance', 'decimal'], ['note', 'string'], ['at', 'datetime'], ['flags', 'set'], ['raw', 'binary']],
  ledger: [['a', 'int'], ['b', 'string'], ['amount', 'uint']],
} as const;

describe('CDC MySQL -> MySQL (task runner)', () => {
  let src: TestDb;
  let dst: TestDb;
  let dir: string;

  function config(taskId: string, mode: string, extra: Record<string, Record<string, string>> = {}): TaskConfig {
    const sections: Record<string, Record<string, string>> = {
      extractor: { db_type: 'mysql', extract_type: 'cdc', url: testUrls.mysql, server_id: String(uniqueServerId()), binlog_heartbeat_interval_secs: '1' },
      sinker: { db_type: 'mysql', sink_type: 'write', url: testUrls.mysql, batch_size: '500' },
      filter: { do_dbs: src.name, do_events: 'insert,update,delete' },
      router: { db_map: `${src.name}:${dst.name}` },
      parallelizer: { parallel_type: mode, parallel_size: '3' },
      pipeline: { checkpoint_interval_secs: '0' },
      global: { task_id: taskId },
      checkpoint: { store: 'file', dir: join(dir, taskId) },
    };
    for (const [s, kv] of Object.entries(extra)) sections[s] = { ...sections[s], ...kv };
    return taskConfigFromSections(sections, process.env).config;
  }

  async function reset(): Promise<void> {
    for (const d of [src, dst]) await d.exec(`DROP TABLE IF EXISTS acct, ledger; ${TABLES}`);
  }

  async function same(): Promise<boolean> {
    for (const [t, cols] of Object.entries(COLS)) {
      const spec = cols.map(([name, family]) => ({ name, family }));
      const key = t === 'acct' ? ['id'] : ['a', 'b'];
      const [a, b] = [await src.query(exactSelect(src.name, t, spec, key)), await dst.query(exactSelect(dst.name, t, spec, key))];
      if (JSON.stringify(a) !== JSON.stringify(b)) return false;
    }
    return true;
  }

  async function waitSame(ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await same())) {
      if (Date.now() > end) assert.fail(`target still differs from source after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function workload(round: number): Promise<void> {
    const base = round * 10_000;
    await src.exec(`
      INSERT INTO acct SELECT ${base} + seq, CONCAT('owner', seq), seq * 1.2345, REPEAT('n', seq % 7), TIMESTAMPADD(MICROSECOND, seq * 1000001, '2024-01-01 00:00:00.000001'),
        IF(seq % 2, 'a,b', ''), UNHEX(MD5(seq)) FROM seq_1_to_500;
      UPDATE acct SET balance = balance + 1, note = NULL WHERE id % 3 = 0 AND id > ${base};
      DELETE FROM acct WHERE id % 5 = 0 AND id > ${base};
      UPDATE acct SET id = id + 5000 WHERE id % 7 = 0 AND id > ${base} AND id <= ${base} + 500;
      BEGIN;
        INSERT INTO ledger SELECT seq % 11, CONCAT('r${round}-', seq), 18446744073709551615 - seq FROM seq_1_to_300;
        UPDATE acct SET owner = CONCAT(owner, '!') WHERE id = ${base} + 1;
        DELETE FROM ledger WHERE a = 3 AND b LIKE 'r${round}-%';
      COMMIT;`);
  }

  before(async () => {
    src = await freshMysqlDb('mysql_cdc_run_src');
    dst = await freshMysqlDb('mysql_cdc_run_dst');
    dir = await mkdtemp(join(tmpdir(), 'ferry-cdc-mysql-'));
  });
  after(async () => {
    await src?.drop();
    await dst?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  for (const mode of ['serial', 'rdb_merge', 'table']) {
    it(`${mode}: changes, key changes, multi-table transactions arrive exactly; resume after a stop`, async () => {
      await reset();
      const cfg = config(`mysql_${mode}_${process.pid}`, mode);
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
      assert.equal(rec!.position.kind, 'mysql');

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

  it('snapshot -> CDC handover: writes running during the snapshot are neither lost nor duplicated', async () => {
    await reset();
    await src.exec(`INSERT INTO acct SELECT seq, CONCAT('o', seq), seq, 'x', NOW(6), 'a', NULL FROM seq_1_to_20000; ANALYZE TABLE acct`);
    const cfg = config(`mysql_handover_${process.pid}`, 'rdb_merge', { extractor: { extract_type: 'snapshot_and_cdc', chunk_rows: '2000', batch_size: '500' } });
    const store = await createCheckpointStore(cfg.checkpoint, { logger: silentLogger });
    const stop = new AbortController();
    let writing = true;
    const writer = (async () => {
      let i = 0;
      while (writing) {
        i++;
        await src.exec(`UPDATE acct SET balance = balance + 1 WHERE id % 97 = ${i % 97}; INSERT INTO acct VALUES (${100000 + i}, 'late', ${i}, 'y', NOW(6), '', X'00'); DELETE FROM acct WHERE id = ${i * 7}`);
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
