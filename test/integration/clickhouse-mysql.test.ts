/**
 * MySQL -> ClickHouse on the real test servers (MariaDB, Debian's ClickHouse 18.16 over HTTP), the way a user runs
 * it: `ferry struct --dry-run` (the DDL and flags, nothing created), a struct task (`ferry run`, extract_type=struct,
 * MySQL StructReader -> ClickHouse StructWriter), the snapshot task (`ferry run`), CDC with inserts / updates /
 * deletes, and after each step the target's live rows (FINAL, not deleted) compared with the source row by row by
 * type family. Also: a reserved column name is MD002 naming table.column and the type, a value the target type
 * cannot hold is IN001 naming table and key.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { silentLogger } from '../../lib/core/logger.ts';
import type { MetadataAccessor, SnapshotSource, TableRef } from '../../lib/core/index.ts';
import { loadTaskConfig } from '../../lib/config/load.ts';
import { createCheckpointStore } from '../../lib/checkpoint/create-store.ts';
import type { TestDb } from '../support/mysql.ts';
import { testUrls, uniqueName } from '../support/services.ts';
import { runFerry } from '../support/cli.ts';
import { assertSameRows, closeMysqlSource, openMysqlSource, cdcUntil, chTask, clickhouseClient, insertFormat, readLive, targetTypes } from '../support/clickhouse.ts';
import { uniqueServerId } from './mysql-cdc-support.ts';

const never = new AbortController().signal;

const SOURCE_SQL = `
CREATE TABLE types (
  id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, bo TINYINT(1), si SMALLINT, su SMALLINT UNSIGNED, mi MEDIUMINT UNSIGNED,
  ii INT NOT NULL, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED, de DECIMAL(30,10), dbig DECIMAL(38,0), dwide DECIMAL(65,30),
  fl FLOAT, dd DOUBLE, bt BIT(10), ch CHAR(5), vc VARCHAR(50), tx TEXT, bn VARBINARY(20), bl BLOB, en ENUM('a','b c'), st SET('x','y'),
  js JSON, dt DATE, tm TIME(3), dtm DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL, yr YEAR, uu UUID, i6 INET6, g POINT);
INSERT INTO types VALUES
 (1, -128, 255, 1, -32768, 65535, 16777215, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615, '12345678901234567890.0123456789',
  '99999999999999999999999999999999999999', '-12345678901234567890123456789012345.123456789012345678901234567891', 1.5, 2.2250738585072014e-308,
  b'1010101010', 'ab', 'héllo "q" \\\\ ✓', REPEAT('t', 300), 0x00ff10, 0xdeadbeef, 'b c', 'x,y', '{"b": [1, 2], "a": null}', '2024-02-29',
  '-838:59:59.000', '2024-01-02 03:04:05.123456', '2038-01-19 03:14:07.999999', 2024, '123e4567-e89b-12d3-a456-426614174000', '2001:db8::1',
  ST_GeomFromText('POINT(1 2)')),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, 127, 0, 0, 32767, 0, 0, 2147483647, 0, 9223372036854775807, 0, '-0.0000000001', '-1', '0.000000000000000000000000000001', -3.25, -1e308,
  b'0', '', '', '', X'', X'', 'a', '', '[]', '1970-01-01', '00:00:00.5', '1970-01-01 00:00:00.000001', '1970-01-02 00:00:00', 1901,
  '00000000-0000-0000-0000-000000000000', '::ffff:10.0.0.1', ST_GeomFromText('POINT(-1.5 0)'));
CREATE TABLE \`we"ird tb\` (\`sel ect\` INT PRIMARY KEY, \`a\`\`b\` VARCHAR(10), \`ü\` INT);
INSERT INTO \`we"ird tb\` VALUES (1, 'x', 1), (2, NULL, 2);
CREATE TABLE nokey (a INT, b VARCHAR(10));
INSERT INTO nokey VALUES (1, 'one'), (1, 'one'), (2, 'two');
`;

/** What the struct task creates on 18.16 (no DateTime64, Date32, Bool; Decimal up to 38 digits). */
const TYPES_ON_18_16: Record<string, string> = {
  id: 'Int32', ti: 'Nullable(Int8)', tu: 'Nullable(UInt8)', bo: 'Nullable(Int8)', si: 'Nullable(Int16)', su: 'Nullable(UInt16)',
  mi: 'Nullable(UInt32)', ii: 'Int32', iu: 'Nullable(UInt32)', bi: 'Nullable(Int64)', bu: 'Nullable(UInt64)',
  de: 'Nullable(Decimal(30, 10))', dbig: 'Nullable(Decimal(38, 0))', dwide: 'Nullable(String)', fl: 'Nullable(Float32)',
  dd: 'Nullable(Float64)', bt: 'Nullable(UInt64)', ch: 'Nullable(String)', vc: 'Nullable(String)', tx: 'Nullable(String)',
  bn: 'Nullable(String)', bl: 'Nullable(String)', en: 'Nullable(String)', st: 'Nullable(String)', js: 'Nullable(String)',
  dt: 'Nullable(Date)', tm: 'Nullable(String)', dtm: "Nullable(DateTime('UTC'))", ts: "Nullable(DateTime('UTC'))", yr: 'Nullable(Int32)',
  uu: 'Nullable(UUID)', i6: 'Nullable(String)', g: 'Nullable(String)', _ape_dts_is_deleted: 'UInt8', _ape_dts_timestamp: 'Int64',
};

describe('MySQL -> ClickHouse (18.16 over HTTP): struct, snapshot, CDC through `ferry`', () => {
  let src: TestDb;
  let meta: MetadataAccessor;
  let source: SnapshotSource;
  let work: string;
  const dst = uniqueName('ch_from_my');
  const tables = (): TableRef[] => ['types', 'we"ird tb', 'nokey'].map((tb) => ({ db: src.name, tb }));
  const ch = clickhouseClient();
  const task = (kind: 'struct' | 'snapshot', id: string, extra: Record<string, Record<string, string | number>> = {}) =>
    chTask(work, id, { extractor: { db_type: 'mysql', url: testUrls.mysql, ...extra.extractor }, kind, filter: { do_dbs: src.name, ...extra.filter }, router: { db_map: `${src.name}:${dst}` }, sinker: extra.sinker });
  const compareAll = async () => {
    for (const t of tables()) await assertSameRows(source, await meta.getTableMeta(t, never), ch, { db: dst, tb: t.tb });
  };

  before(async () => {
    ({ src, meta, source, work } = await openMysqlSource('ch_my_src', SOURCE_SQL));
  });
  after(() => closeMysqlSource({ src, meta, source, work }, ch, dst));

  it('`ferry struct --dry-run` prints the CREATE TABLEs and the flags, creating nothing', async () => {
    const r = await runFerry(['struct', '--dry-run', await task('struct', 'dry')]);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.match(r.stdout, new RegExp(`^-- database ${dst}\nCREATE DATABASE \`${dst}\`;$`, 'm'));
    assert.match(r.stdout, new RegExp(`^CREATE TABLE \`${dst}\`\\.\`types\` \\($`, 'm'));
    assert.match(r.stdout, /^ {2}`dtm` Nullable\(DateTime\('UTC'\)\),$/m);
    assert.match(r.stdout, /ENGINE = ReplacingMergeTree\(`_ape_dts_timestamp`\) ORDER BY \(`id`\);/);
    assert.match(r.stdout, new RegExp(`^CREATE TABLE \`${dst}\`\\.\`we"ird tb\` \\(\n {2}\`sel ect\` Int32,\n {2}\`a\\\\\`b\` Nullable\\(String\\),\n {2}\`ü\` Nullable\\(Int32\\),`, 'm'));
    assert.match(r.stdout, new RegExp(`CREATE TABLE \`${dst}\`\\.\`nokey\` \\([^;]*\\) ENGINE = MergeTree ORDER BY tuple\\(\\);`));
    for (const [col, to] of [['tm', 'String'], ['st', 'String'], ['bt', 'UInt64'], ['dt', 'Date'], ['dtm', "DateTime('UTC')"], ['dwide', 'String'], ['g', 'String']]) {
      assert.match(r.stdout, new RegExp(`^-- FLAG ${dst}\\.types\\.${col}: .* -> ${to.replace(/[()]/g, '\\$&')} \\(`, 'm'), `${col} flagged`);
    }
    assert.match(r.stdout, new RegExp(`^-- FLAG ${dst}\\.nokey: table without key -> MergeTree ORDER BY tuple\\(\\)`, 'm'));
    const dbs = await ch.rows(`SELECT name FROM system.databases WHERE name = '${dst}'`, undefined, 'dbs');
    assert.equal(dbs.length, 0, 'a dry run creates nothing');
  });

  it('struct task (`ferry run`, extract_type=struct): every mapped type, quoted names, a keyless table', async () => {
    const r = await runFerry(['run', await task('struct', 'struct')]);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.deepEqual(Object.fromEntries(await targetTypes(ch, dst, 'types')), TYPES_ON_18_16);
    assert.deepEqual(Object.fromEntries(await targetTypes(ch, dst, 'we"ird tb')), {
      'sel ect': 'Int32', 'a`b': 'Nullable(String)', ü: 'Nullable(Int32)', _ape_dts_is_deleted: 'UInt8', _ape_dts_timestamp: 'Int64',
    });
    const engines = await ch.rows<{ name: string; engine: string }>(`SELECT name, engine FROM system.tables WHERE database = '${dst}' ORDER BY name`, undefined, 't');
    assert.deepEqual(engines.map((e) => [e.name, e.engine]), [['nokey', 'MergeTree'], ['types', 'ReplacingMergeTree'], ['we"ird tb', 'ReplacingMergeTree']]);
    for (const t of tables()) assert.equal(await insertFormat(ch, await meta.getTableMeta(t, never), { db: dst, tb: t.tb }), 'RowBinary', `${t.tb} written as RowBinary`);
    // interrupt (the default): a second run stops at the first existing object.
    const again = await runFerry(['run', await task('struct', 'struct2')]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, new RegExp(`MD003.*${dst}: database already exists`));
  });

  it('snapshot task (`ferry run`): every row equal, and a rerun leaves FINAL unchanged', async () => {
    const snap = (id: string) => task('snapshot', id, { extractor: { batch_size: 2 } });
    const first = await runFerry(['run', await snap('snap1')]);
    assert.equal(first.code, 0, first.stderr.slice(-2000));
    await compareAll();
    // A second full run (fresh checkpoints) writes every keyed row again with the same version: FINAL unchanged.
    const again = await runFerry(['run', await snap('snap2')]);
    assert.equal(again.code, 0, again.stderr.slice(-2000));
    await compareAll();
    const [raw] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM \`${dst}\`.types`, undefined, 'count');
    assert.equal(Number(raw.n), 6, 'both runs inserted (collapsed by FINAL)');
    const [nk] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM \`${dst}\`.nokey`, undefined, 'count');
    assert.equal(Number(nk.n), 3, 'keyless table replaced whole, not duplicated');
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
        INSERT INTO types (id, ii, de, vc, bn, dtm, js, uu, g) VALUES (10, 10, '1.5', 'new', 0x0001, '2030-05-05 05:05:05.000005', '{"k": 1}',
          'ffffffff-0000-0000-0000-000000000001', ST_GeomFromText('POINT(3 4)'));
        UPDATE types SET vc = 'changed', de = '-99999999999999999999.9999999999', bt = b'1', i6 = '::1' WHERE id = 1;
        UPDATE types SET ti = 5, dwide = '1.5' WHERE id = 2;
        DELETE FROM types WHERE id = 3;
        UPDATE types SET id = 30 WHERE id = 10;
        INSERT INTO types (id, ii) VALUES (3, 33);
        UPDATE \`we"ird tb\` SET \`a\`\`b\` = 'y' WHERE \`sel ect\` = 2;
        DELETE FROM \`we"ird tb\` WHERE \`sel ect\` = 1;
        INSERT INTO nokey VALUES (3, 'three'), (4, 'four');
        UPDATE nokey SET b = 'deux' WHERE a = 2;
        DELETE FROM nokey WHERE a = 3;`), compareAll);
      const live = await readLive(ch, { db: dst, tb: 'types', columns: [{ name: 'id', nativeType: 'int', family: 'int', nullable: false }] }, ['id']);
      assert.deepEqual(live.map((r) => r.id), ['1', '2', '3', '30']);
    } finally {
      await store.close();
    }
  });

  it('a reserved column name: MD002 naming table.column and the type (interrupt), nothing created', async () => {
    await src.exec('CREATE TABLE clash (id INT PRIMARY KEY, _ape_dts_timestamp BIGINT)');
    try {
      const r = await runFerry(['run', await task('struct', 'clash', { filter: { do_dbs: '', do_tbs: `${src.name}.clash` } })]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /MD002/);
      assert.match(r.stderr, new RegExp(`${dst}\\.clash\\._ape_dts_timestamp \\(bigint(\\(20\\))?\\)`));
      const t = await ch.rows(`SELECT name FROM system.tables WHERE database = '${dst}' AND name = 'clash'`, undefined, 't');
      assert.equal(t.length, 0);
    } finally {
      await src.exec('DROP TABLE clash');
    }
  });

  it('a value the target type cannot hold: IN001 naming table and key, nothing of the batch written (payload already streaming)', async () => {
    // 30,000 good rows (about 2.5 MB of JSON, so several payload chunks are sent) before the bad one, in one batch.
    await src.exec(`CREATE TABLE bad (id INT PRIMARY KEY, d DATE, f VARCHAR(80));
      INSERT INTO bad SELECT seq, '2000-01-01', REPEAT('x', 60) FROM seq_1_to_30000;
      INSERT INTO bad VALUES (99999, '1000-01-01', 'x')`);
    const only = { filter: { do_dbs: '', do_tbs: `${src.name}.bad` } };
    const s = await runFerry(['run', await task('struct', 'bad_struct', { ...only, sinker: { conflict_policy: 'ignore' } })]);
    assert.equal(s.code, 0, s.stderr.slice(-2000));
    const r = await runFerry(['run', await task('snapshot', 'bad_snap', { ...only, extractor: { batch_size: 50000 } })]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`IN001.*${dst}\\.bad: value does not fit column d .*id=99999`));
    const [n] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM \`${dst}\`.bad`, undefined, 'count');
    assert.equal(Number(n.n), 0, 'nothing of the failed batch was written');
  });
});
