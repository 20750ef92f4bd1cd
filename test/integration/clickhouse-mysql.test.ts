/**
 * MySQL -> ClickHouse on the real test servers (MariaDB, Debian's ClickHouse 18.16 over HTTP): tables created by
 * the ClickHouse StructWriter, snapshot with `ferry run`, CDC inserts/updates/deletes applied by the ClickHouse
 * applier, and the target's live rows (FINAL, not deleted) compared with the source row by row by type family.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FerryError } from '../../lib/core/errors.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import type { MetadataAccessor, SnapshotSource, TableRef } from '../../lib/core/index.ts';
import { createMysqlMetadata, createMysqlSnapshotSource } from '../../lib/connectors/mysql/index.ts';
import { createClickhouseSinker, createClickhouseStructWriter } from '../../lib/connectors/clickhouse/index.ts';
import { loadTaskConfig } from '../../lib/config/load.ts';
import { createCheckpointStore } from '../../lib/checkpoint/create-store.ts';
import { freshMysqlDb, mysqlEndpoint, type TestDb } from '../support/mysql.ts';
import { testUrls, uniqueName } from '../support/services.ts';
import { runFerry, writeIni } from '../support/cli.ts';
import { schemaModelOf } from '../support/struct-model.ts';
import { assertSameRows, cdcUntil, clickhouseClient, clickhouseEndpoint, readLive } from '../support/clickhouse.ts';
import { uniqueServerId } from './mysql-cdc-support.ts';

const ctx = { logger: silentLogger, signal: new AbortController().signal };
const never = new AbortController().signal;

const SOURCE_SQL = `
CREATE TABLE types (
  id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT UNSIGNED, ii INT NOT NULL, bi BIGINT,
  bu BIGINT UNSIGNED, de DECIMAL(30,10), dbig DECIMAL(38,0), fl FLOAT, dd DOUBLE, bt BIT(10), ch CHAR(5), vc VARCHAR(50),
  tx TEXT, bn VARBINARY(20), bl BLOB, en ENUM('a','b c'), st SET('x','y'), js JSON, dt DATE, tm TIME(3), dtm DATETIME(6),
  ts TIMESTAMP(6) NULL DEFAULT NULL, yr YEAR);
INSERT INTO types VALUES
 (1, -128, 255, -32768, 16777215, -2147483648, -9223372036854775808, 18446744073709551615, '12345678901234567890.0123456789',
  '99999999999999999999999999999999999999', 1.5, 2.2250738585072014e-308, b'1010101010', 'ab', 'héllo "q" \\\\ ✓', REPEAT('t', 300),
  0x00ff10, 0xdeadbeef, 'b c', 'x,y', '{"b": [1, 2], "a": null}', '2024-02-29', '-838:59:59.000', '2024-01-02 03:04:05.123456',
  '2038-01-19 03:14:07.999999', 2024),
 (2, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, 127, 0, 32767, 0, 2147483647, 9223372036854775807, 0, '-0.0000000001', '-1', -3.25, -1e308, b'0', '', '', '', X'', X'', 'a', '', '[]',
  '1970-01-01', '00:00:00.5', '1970-01-01 00:00:00.000001', '1970-01-02 00:00:00', 1901);
CREATE TABLE \`we"ird tb\` (\`sel ect\` INT PRIMARY KEY, \`a\`\`b\` VARCHAR(10), \`ü\` INT);
INSERT INTO \`we"ird tb\` VALUES (1, 'x', 1), (2, NULL, 2);
CREATE TABLE nokey (a INT, b VARCHAR(10));
INSERT INTO nokey VALUES (1, 'one'), (1, 'one'), (2, 'two');
`;

describe('MySQL -> ClickHouse (18.16 over HTTP)', () => {
  let src: TestDb;
  let meta: MetadataAccessor;
  let source: SnapshotSource;
  let work: string;
  const dst = uniqueName('ch_from_my');
  const tables = (): TableRef[] => ['types', 'we"ird tb', 'nokey'].map((tb) => ({ db: src.name, tb }));
  const ch = clickhouseClient();

  before(async () => {
    src = await freshMysqlDb('ch_my_src');
    await src.exec(SOURCE_SQL);
    meta = await createMysqlMetadata(mysqlEndpoint(), ctx);
    source = await createMysqlSnapshotSource(mysqlEndpoint(), ctx);
    work = await mkdtemp(join(tmpdir(), 'ferry-ch-'));
  });
  after(async () => {
    await ch.command(`DROP DATABASE IF EXISTS \`${dst}\``, undefined, 'cleanup').catch(() => undefined);
    await ch.close();
    await meta.close();
    await source.close();
    await src.drop();
    await rm(work, { recursive: true, force: true });
  });

  it('creates the tables with the StructWriter: mapped types, flags, sorting keys', async () => {
    const model = await schemaModelOf(meta, tables(), 'mysql', (t) => ({ db: dst, tb: t.tb }));
    const writer = await createClickhouseStructWriter(clickhouseEndpoint(), ctx);
    try {
      const plan = writer.planDdl(model);
      assert.deepEqual(plan.statements.map((s) => s.phase), ['database', 'table', 'table', 'table']);
      const flagged = new Set(plan.flags.map((f) => f.object.split('.').slice(-1)[0]));
      for (const c of ['bt', 'st', 'tm', 'dtm', 'dt']) assert.ok(flagged.has(c), `${c} is flagged lossy on 18.16`);
      for (const s of plan.statements) {
        assert.equal(await writer.exists(s), false);
        await writer.execute(s);
        assert.equal(await writer.exists(s), true, s.object);
      }
    } finally {
      await writer.close();
    }
    const [types] = await ch.rows<{ engine: string; create_table_query: string }>(
      `SELECT engine, create_table_query FROM system.tables WHERE database = '${dst}' AND name = 'types'`, undefined, 't');
    assert.equal(types.engine, 'ReplacingMergeTree');
    assert.match(types.create_table_query, /`?de`? Nullable\(Decimal\(30, 10\)\)/);
    assert.match(types.create_table_query, /`?ii`? Int32,/);
    const [nokey] = await ch.rows<{ engine: string }>(`SELECT engine FROM system.tables WHERE database = '${dst}' AND name = 'nokey'`, undefined, 't');
    assert.equal(nokey.engine, 'MergeTree');
  });

  it('snapshot with `ferry run`: every row equal, and a rerun leaves FINAL unchanged', async () => {
    const ini = (id: string) =>
      writeIni(work, {
        extractor: { db_type: 'mysql', extract_type: 'snapshot', url: testUrls.mysql, batch_size: 2 },
        sinker: { db_type: 'clickhouse', sink_type: 'write', url: testUrls.clickhouse, batch_size: 10000 },
        filter: { do_dbs: src.name },
        router: { db_map: `${src.name}:${dst}` },
        checkpoint: { store: 'file', dir: join(work, id) },
        global: { task_id: id },
      }, `${id}.ini`);
    const first = await runFerry(['run', await ini('snap1')]);
    assert.equal(first.code, 0, first.stderr.slice(-2000));
    for (const t of tables()) {
      const m = await meta.getTableMeta(t, never);
      await assertSameRows(source, m, ch, { db: dst, tb: t.tb });
    }
    // A second full run (fresh checkpoints) writes every keyed row again with the same version: FINAL unchanged.
    const again = await runFerry(['run', await ini('snap2')]);
    assert.equal(again.code, 0, again.stderr.slice(-2000));
    const m = await meta.getTableMeta({ db: src.name, tb: 'types' }, never);
    assert.equal(await assertSameRows(source, m, ch, { db: dst, tb: 'types' }), 3);
    const [raw] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM \`${dst}\`.types`, undefined, 'count');
    assert.equal(Number(raw.n), 6, 'both runs inserted (collapsed by FINAL)');
    const keyless = await meta.getTableMeta({ db: src.name, tb: 'nokey' }, never);
    assert.equal(await assertSameRows(source, keyless, ch, { db: dst, tb: 'nokey' }), 3, 'keyless table replaced whole, not duplicated');
  });

  it('CDC: inserts, updates (also of the key), deletes converge; keyless deletes too', async () => {
    const text = [
      `[extractor]\ndb_type=mysql\nextract_type=cdc\nurl=${testUrls.mysql}\nserver_id=${uniqueServerId()}`,
      `[sinker]\ndb_type=clickhouse\nsink_type=write\nurl=${testUrls.clickhouse}\nbatch_size=1000`,
      `[filter]\ndo_dbs=${src.name}`,
      `[router]\ndb_map=${src.name}:${dst}`,
      `[parallelizer]\nparallel_type=rdb_merge\nparallel_size=2`,
      `[pipeline]\ncheckpoint_interval_secs=0`,
      `[global]\ntask_id=ch_my_cdc`,
    ].join('\n\n');
    const { config } = await loadTaskConfig({ text, format: 'ini' }, { env: process.env });
    config.checkpoint = { ...config.checkpoint, store: 'file', dir: join(work, 'cdc') };
    const store = await createCheckpointStore(config.checkpoint, { logger: silentLogger });
    try {
      await cdcUntil(config, store, () => src.exec(`
        INSERT INTO types (id, ii, de, vc, bn, dtm, js) VALUES (10, 10, '1.5', 'new', 0x0001, '2030-05-05 05:05:05.000005', '{"k": 1}');
        UPDATE types SET vc = 'changed', de = '-99999999999999999999.9999999999', bt = b'1' WHERE id = 1;
        UPDATE types SET ti = 5 WHERE id = 2;
        DELETE FROM types WHERE id = 3;
        UPDATE types SET id = 30 WHERE id = 10;
        INSERT INTO types (id, ii) VALUES (3, 33);
        UPDATE \`we"ird tb\` SET \`a\`\`b\` = 'y' WHERE \`sel ect\` = 2;
        DELETE FROM \`we"ird tb\` WHERE \`sel ect\` = 1;
        INSERT INTO nokey VALUES (3, 'three'), (4, 'four');
        UPDATE nokey SET b = 'deux' WHERE a = 2;
        DELETE FROM nokey WHERE a = 3;`), async () => {
        for (const t of tables()) await assertSameRows(source, await meta.getTableMeta(t, never), ch, { db: dst, tb: t.tb });
      });
      const live = await readLive(ch, { db: dst, tb: 'types', columns: [{ name: 'id', nativeType: 'int', family: 'int', nullable: false }] }, ['id']);
      assert.deepEqual(live.map((r) => r.id), ['1', '2', '3', '30']);
    } finally {
      await store.close();
    }
  });

  it('a value that does not fit: IN001 naming the table and the key', async () => {
    await src.exec(`CREATE TABLE bad (id INT PRIMARY KEY, d DATE); INSERT INTO bad VALUES (1, '2000-01-01'), (7, '1000-01-01')`);
    const t = { db: src.name, tb: 'bad' };
    const model = await schemaModelOf(meta, [t], 'mysql', () => ({ db: dst, tb: 'bad' }));
    const writer = await createClickhouseStructWriter(clickhouseEndpoint(), ctx);
    await writer.execute(writer.planDdl(model).statements[1]).finally(() => writer.close());
    const sinker = await createClickhouseSinker(clickhouseEndpoint(), ctx);
    try {
      const m = await meta.getTableMeta(t, never);
      const w = await sinker.openTable({ table: { db: dst, tb: 'bad' }, source: t, columns: m.columns, keyColumns: ['id'] }, never);
      await assert.rejects(w.write([{ id: 1, d: '2000-01-01' }, { id: 7, d: '1000-01-01' }], never), (e: FerryError) => {
        assert.equal(e.code, 'IN001');
        assert.match(e.message, new RegExp(`${dst}\\.bad: value does not fit column d .*id=7`));
        return true;
      });
      const [n] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM \`${dst}\`.bad`, undefined, 'count');
      assert.equal(Number(n.n), 0, 'nothing of the failed batch was written');
    } finally {
      await sinker.close();
    }
  });
});
