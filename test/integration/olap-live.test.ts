/**
 * Live tests against real StarRocks / Doris / TiDB servers, run ONLY when their URL is set (none can run on
 * this machine; each suite is skipped with the reason otherwise):
 *
 *   FERRY_TEST_STARROCKS_URL=mysql://root:pw@fe-host:9030       FE query port (MySQL protocol)
 *   FERRY_TEST_STARROCKS_LOAD_URL=http://fe-host:8030           optional Stream Load address (default: FE host, port 8030)
 *   FERRY_TEST_DORIS_URL=mysql://root:pw@fe-host:9030           (and FERRY_TEST_DORIS_LOAD_URL)
 *   FERRY_TEST_TIDB_URL=mysql://root@tidb-host:4000
 *
 * Each suite: MySQL (the project's MariaDB) -> target structure migration (planDdl + execute), snapshot
 * through the real task runner, then CDC (binlog -> applier), comparing source and target rows after each.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createConnection, type Connection } from 'mysql2/promise';
import { createCheckpointStore } from '../../lib/checkpoint/create-store.ts';
import { loadTaskConfig } from '../../lib/config/load.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import type { SchemaModel } from '../../lib/core/struct.ts';
import { loadConnector } from '../../lib/connectors/registry.ts';
import { readCdcRecord } from '../../lib/task/cdc-position.ts';
import { runCdc } from '../../lib/task/cdc-task.ts';
import { runSnapshot } from '../../lib/task/snapshot-task.ts';
import { freshMysqlDb, type TestDb } from '../support/mysql.ts';
import { testUrls } from '../support/services.ts';

const TARGETS = [
  { dbType: 'starrocks', url: process.env.FERRY_TEST_STARROCKS_URL, loadUrl: process.env.FERRY_TEST_STARROCKS_LOAD_URL, env: 'FERRY_TEST_STARROCKS_URL' },
  { dbType: 'doris', url: process.env.FERRY_TEST_DORIS_URL, loadUrl: process.env.FERRY_TEST_DORIS_LOAD_URL, env: 'FERRY_TEST_DORIS_URL' },
  { dbType: 'tidb', url: process.env.FERRY_TEST_TIDB_URL, loadUrl: undefined, env: 'FERRY_TEST_TIDB_URL' },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SELECT = 'SELECT id, CAST(amount AS CHAR) AS amount, CAST(big AS CHAR) AS big, c, CAST(doc AS CHAR) AS doc, CAST(at AS CHAR) AS at FROM t ORDER BY id';

/** Rows in a comparable form: decimals without trailing zeros, JSON parsed, datetimes to `digits` fractional digits. */
function normal(rows: Array<Record<string, unknown>>, digits: number) {
  return rows.map((r) => ({
    id: String(r.id),
    amount: r.amount === null ? null : String(r.amount).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, ''),
    big: r.big === null ? null : String(r.big),
    c: r.c,
    doc: r.doc === null ? null : JSON.parse(String(r.doc)),
    at: r.at === null ? null : String(r.at).slice(0, digits ? 20 + digits : 19),
  }));
}

for (const t of TARGETS) {
  describe(`${t.dbType} live (MySQL -> ${t.dbType})`, { skip: t.url ? false : `set ${t.env} (mysql://user:pw@host:port) to run against a real server` }, () => {
    let src: TestDb;
    let dst: Connection;
    let work: string;
    const digits = t.dbType === 'starrocks' ? 0 : 6;
    // A target database of its own, routed by db_map: the suite also runs with the target URL pointing at the
    // source server (e.g. FERRY_TEST_TIDB_URL at the project's MariaDB, as a smoke test of the whole path).
    const dstDb = () => `${src.name}_dst`;

    before(async () => {
      src = await freshMysqlDb(`live_${t.dbType}`);
      await src.exec(
        'CREATE TABLE t (id BIGINT PRIMARY KEY, amount DECIMAL(20,6), big BIGINT UNSIGNED, c VARCHAR(50), doc JSON, at DATETIME(6));' +
          "INSERT INTO t VALUES (1, 12345678901234.123456, 18446744073709551615, 'a', '{\"k\": [1, \"x\"]}', '2024-01-02 03:04:05.123456')," +
          "(2, -0.5, 0, 'é ü 中', '[]', '1999-12-31 23:59:59.000001'), (3, NULL, NULL, NULL, NULL, NULL)",
      );
      for (let i = 4; i <= 300; i++) await src.exec(`INSERT INTO t VALUES (${i}, ${i}.25, ${i}, 'row ${i}', '{"i": ${i}}', '2024-05-06 07:08:09.${String(i).padStart(6, '0')}')`);
      dst = await createConnection({ uri: t.url!, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true });
      work = await mkdtemp(join(tmpdir(), 'ferry-live-'));
    });
    after(async () => {
      await dst?.query(`DROP DATABASE IF EXISTS \`${dstDb()}\``).catch(() => undefined);
      await dst?.end();
      await src?.drop();
      if (work) await rm(work, { recursive: true, force: true });
    });

    const ini = (extract: 'snapshot' | 'cdc') =>
      [
        '[extractor]',
        'db_type=mysql',
        `extract_type=${extract}`,
        `url=${testUrls.mysql}`,
        'server_id=' + (7000 + Math.floor(Math.random() * 1000)),
        '[sinker]',
        `db_type=${t.dbType}`,
        'sink_type=write',
        `url=${t.url}`,
        ...(t.loadUrl ? [`stream_load_url=${t.loadUrl}`] : []),
        'batch_size=100',
        '[filter]',
        `do_dbs=${src.name}`,
        '[router]',
        `db_map=${src.name}:${dstDb()}`,
        '[parallelizer]',
        `parallel_type=${extract === 'cdc' ? 'rdb_merge' : 'snapshot'}`,
        '[pipeline]',
        'checkpoint_interval_secs=1',
        '[checkpoint]',
        'store=file',
        `dir=${work}/${extract}`,
      ].join('\n');

    const compare = async () => {
      const [a] = await src.conn.query(SELECT);
      await dst.query(`USE \`${dstDb()}\``);
      const [b] = await dst.query(SELECT);
      return { source: normal(a as Array<Record<string, unknown>>, digits), target: normal(b as Array<Record<string, unknown>>, digits) };
    };

    it('structure, snapshot, then CDC: target equals source after each', async () => {
      const connector = await loadConnector(t.dbType, 'sinker.db_type');
      const endpoint = { dbType: t.dbType as 'tidb', url: t.url!, maxConnections: 2, batchSize: 100, raw: (t.loadUrl ? { stream_load_url: t.loadUrl } : {}) as Record<string, string> };
      const writer = await connector.createStructWriter!(endpoint, { logger: silentLogger, signal: new AbortController().signal });
      const model: SchemaModel = {
        sourceDbType: 'mysql',
        databases: [{ name: dstDb() }],
        tables: [
          {
            db: dstDb(),
            tb: 't',
            columns: [
              { name: 'id', family: 'int', nativeType: 'bigint', nullable: false },
              { name: 'amount', family: 'decimal', nativeType: 'decimal(20,6)', nullable: true, precision: 20, scale: 6 },
              { name: 'big', family: 'uint', nativeType: 'bigint unsigned', nullable: true },
              { name: 'c', family: 'string', nativeType: 'varchar(50)', nullable: true, length: 50 },
              { name: 'doc', family: 'json', nativeType: 'json', nullable: true },
              { name: 'at', family: 'datetime', nativeType: 'datetime(6)', nullable: true, precision: 6 },
            ],
            primaryKey: { columns: ['id'] },
            indexes: [],
            foreignKeys: [],
            checks: [],
          },
        ],
        sequences: [],
        enumTypes: [],
      };
      try {
        for (const st of writer.planDdl(model).statements) if (!(await writer.exists(st))) await writer.execute(st);
      } finally {
        await writer.close();
      }

      const snap = (await loadTaskConfig({ text: ini('snapshot'), format: 'ini' })).config;
      const store = await createCheckpointStore(snap.checkpoint, { logger: silentLogger });
      try {
        const r = await runSnapshot(snap, { store, logger: silentLogger });
        assert.deepEqual(r.errors, []);
        assert.equal(r.status, 'done');
        assert.equal(r.rows, 300);
      } finally {
        await store.close();
      }
      let c = await compare();
      assert.deepEqual(c.target, c.source);

      const cdc = (await loadTaskConfig({ text: ini('cdc'), format: 'ini' })).config;
      const cstore = await createCheckpointStore(cdc.checkpoint, { logger: silentLogger });
      const stop = new AbortController();
      const running = runCdc(cdc, { store: cstore, logger: silentLogger, signal: stop.signal });
      try {
        for (let i = 0; i < 200 && !(await readCdcRecord(cstore, cdc.taskId)); i++) await sleep(50);
        await src.exec("UPDATE t SET c = 'changed', amount = 1.5 WHERE id = 1; DELETE FROM t WHERE id IN (2, 3); INSERT INTO t VALUES (1000, 2, 3, 'new', '{}', '2030-01-01 00:00:00.5'); UPDATE t SET id = 2000 WHERE id = 4");
        for (let i = 0; i < 120; i++) {
          c = await compare();
          if (JSON.stringify(c.target) === JSON.stringify(c.source)) break;
          await sleep(500);
        }
        assert.deepEqual(c.target, c.source);
      } finally {
        stop.abort();
        await running.catch(() => undefined);
        await cstore.close();
      }
    });
  });
}
