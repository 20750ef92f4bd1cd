/**
 * Structure migration DDL text for StarRocks, Doris and TiDB (planDdl is pure): types, key-first column
 * order, key models, quoting, keyless tables, flags and MD002. Also the FE's SHOW CREATE TABLE key parser
 * and the endpoint keys.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SchemaModel, StructColumn, StructTable } from '../../lib/core/struct.ts';
import type { TypeFamily } from '../../lib/core/values.ts';
import { planOlapDdl } from '../../lib/connectors/olap/ddl.ts';
import { parseKeyModel } from '../../lib/connectors/olap/fe-client.ts';
import { resolveOlapConfig } from '../../lib/connectors/olap/config.ts';
import { DORIS } from '../../lib/connectors/doris/index.ts';
import { STARROCKS } from '../../lib/connectors/starrocks/index.ts';
import { planTidbDdl } from '../../lib/connectors/tidb/ddl.ts';
import { tidbSinkOptions } from '../../lib/connectors/tidb/options.ts';

const c = (name: string, family: TypeFamily, nativeType: string, o: Partial<StructColumn> = {}): StructColumn => ({ name, family, nativeType, nullable: true, ...o });
const table = (tb: string, columns: StructColumn[], o: Partial<StructTable> = {}): StructTable => ({ db: 'my db', tb, columns, indexes: [], foreignKeys: [], checks: [], ...o });
const model = (tables: StructTable[], sourceDbType = 'mysql'): SchemaModel => ({ sourceDbType, databases: [{ name: 'my db' }], tables, sequences: [], enumTypes: [] });

const allTypes = table(
  'all`types',
  [
    c('f_0', 'int', 'tinyint'),
    c('f_0_1', 'uint', 'tinyint unsigned'),
    c('f_1_1', 'uint', 'smallint unsigned'),
    c('f_2_1', 'uint', 'mediumint unsigned'),
    c('f_3_1', 'uint', 'int unsigned'),
    c('f_4_1', 'uint', 'bigint unsigned'),
    c('f_5', 'decimal', 'decimal(10,4)', { precision: 10, scale: 4 }),
    c('f_5_1', 'decimal', 'decimal(65,30)', { precision: 65, scale: 30 }),
    c('f_6', 'float', 'float'),
    c('f_7', 'float', 'double'),
    c('f_8', 'bit', 'bit(64)', { length: 64 }),
    c('f_9', 'datetime', 'datetime(6)', { precision: 6, default: { kind: 'current_timestamp', precision: 6 } }),
    c('f_10', 'time', 'time(6)', { precision: 6 }),
    c('f_11', 'date', 'date'),
    c('f_12', 'year', 'year'),
    c('f_13', 'timestamptz', 'timestamp(6)', { precision: 6 }),
    c('f_14', 'string', 'char(255)', { length: 255 }),
    c('f_15', 'string', 'varchar(255)', { length: 255, default: { kind: 'literal', value: 'say "hi"' }, comment: 'it\'s a "note"' }),
    c('f_19', 'string', 'text'),
    c('f_23', 'binary', 'blob'),
    c('f_26', 'enum', "enum('x-small','small')", { members: ['x-small', 'small'] }),
    c('f_27', 'set', "set('a','b')", { members: ['a', 'b'] }),
    c('f_28', 'json', 'json'),
    c('id', 'int', 'bigint', { nullable: false, autoIncrement: true }),
  ],
  { primaryKey: { columns: ['id'] }, indexes: [{ name: 'ix_f15', unique: false, parts: [{ column: 'f_15' }] }], comment: 'all the types' },
);

describe('StarRocks planDdl', () => {
  const plan = planOlapDdl(STARROCKS, model([allTypes]), { replicationNum: 1, buckets: 'auto' });

  it('CREATE DATABASE, then CREATE TABLE with PRIMARY KEY, key column first, the mapped types', () => {
    assert.deepEqual(plan.statements.map((s) => [s.phase, s.object]), [['database', 'my db'], ['table', 'my db.all`types']]);
    assert.equal(plan.statements[0].sql, 'CREATE DATABASE `my db`');
    assert.equal(
      plan.statements[1].sql,
      [
        'CREATE TABLE `my db`.`all``types` (',
        '  `id` BIGINT NOT NULL,',
        '  `f_0` TINYINT NULL,',
        '  `f_0_1` SMALLINT NULL,',
        '  `f_1_1` INT NULL,',
        '  `f_2_1` BIGINT NULL,',
        '  `f_3_1` BIGINT NULL,',
        '  `f_4_1` LARGEINT NULL,',
        '  `f_5` DECIMAL(10, 4) NULL,',
        '  `f_5_1` DECIMAL(38, 30) NULL,',
        '  `f_6` FLOAT NULL,',
        '  `f_7` DOUBLE NULL,',
        '  `f_8` LARGEINT NULL,',
        '  `f_9` DATETIME NULL DEFAULT CURRENT_TIMESTAMP,',
        '  `f_10` VARCHAR(32) NULL,',
        '  `f_11` DATE NULL,',
        '  `f_12` INT NULL,',
        '  `f_13` DATETIME NULL,',
        '  `f_14` VARCHAR(1020) NULL,',
        '  `f_15` VARCHAR(1020) NULL DEFAULT "say \\"hi\\"" COMMENT "it\'s a \\"note\\"",',
        '  `f_19` STRING NULL,',
        '  `f_23` VARBINARY NULL,',
        '  `f_26` VARCHAR(28) NULL,',
        '  `f_27` VARCHAR(16) NULL,',
        '  `f_28` JSON NULL',
        ') ENGINE=OLAP',
        'PRIMARY KEY(`id`)',
        'COMMENT "all the types"',
        'DISTRIBUTED BY HASH(`id`)',
        'PROPERTIES ("replication_num" = "1")',
      ].join('\n'),
    );
  });

  it('flags every lossy conversion, the index and AUTO_INCREMENT; nothing else', () => {
    const flagged = plan.flags.map((f) => f.object).sort();
    assert.deepEqual(flagged, ['my db.all`types.f_10', 'my db.all`types.f_13', 'my db.all`types.f_23', 'my db.all`types.f_26', 'my db.all`types.f_27', 'my db.all`types.f_5_1', 'my db.all`types.f_9', 'my db.all`types.id', 'my db.all`types.ix_f15'].sort());
    const f51 = plan.flags.find((f) => f.object.endsWith('.f_5_1'))!;
    assert.equal(f51.to, 'DECIMAL(38, 30)');
    assert.match(f51.reason, /more than 8 integer digits/);
    assert.match(plan.flags.find((f) => f.object.endsWith('.f_9'))!.reason, /fractional seconds/);
    assert.match(plan.flags.find((f) => f.object.endsWith('.f_13'))!.reason, /time zone dropped/);
  });

  it('keyless table: DUPLICATE KEY model on the first column, flagged', () => {
    const p = planOlapDdl(STARROCKS, model([table('log', [c('msg', 'int', 'int'), c('at', 'datetime', 'datetime')])]), { replicationNum: 3, buckets: 8 });
    assert.match(p.statements[1].sql, /\) ENGINE=OLAP\nDUPLICATE KEY\(`msg`\)\nDISTRIBUTED BY HASH\(`msg`\) BUCKETS 8\nPROPERTIES \("replication_num" = "3"\)$/);
    assert.deepEqual(p.flags.map((f) => [f.object, f.to]), [['my db.log', 'DUPLICATE KEY model']]);
    assert.match(p.flags[0].reason, /duplicate rows/);
  });

  it('composite keys first in key order; text and decimal keys get key-able types (flagged)', () => {
    const t = table('k', [c('v', 'int', 'int'), c('b', 'decimal', 'decimal(12,2)', { precision: 12, scale: 2 }), c('a', 'string', 'text', { nullable: false })], { primaryKey: { columns: ['a', 'b'] } });
    const p = planOlapDdl(STARROCKS, model([t]), { replicationNum: 1, buckets: 'auto' });
    assert.match(p.statements[1].sql, /^CREATE TABLE `my db`\.`k` \(\n  `a` VARCHAR\(65533\) NOT NULL,\n  `b` VARCHAR\(14\) NOT NULL,\n  `v` INT NULL\n\) ENGINE=OLAP\nPRIMARY KEY\(`a`, `b`\)\nDISTRIBUTED BY HASH\(`a`, `b`\)/);
    assert.deepEqual(p.flags.map((f) => f.object).sort(), ['my db.k.a', 'my db.k.b', 'my db.k.b']);
  });

  it('MD002 names db.tb.column and the type: geometry anywhere, JSON / float as a key', () => {
    const geo = table('g', [c('id', 'int', 'int'), c('shape', 'geometry', 'point')], { primaryKey: { columns: ['id'] } });
    assert.throws(() => planOlapDdl(STARROCKS, model([geo]), { replicationNum: 1, buckets: 'auto' }), (e: Error & { code?: string }) => e.code === 'MD002' && /my db\.g\.shape: point \(geometry\)/.test(e.message));
    const jk = table('j', [c('doc', 'json', 'json')], { primaryKey: { columns: ['doc'] } });
    assert.throws(() => planOlapDdl(STARROCKS, model([jk]), { replicationNum: 1, buckets: 'auto' }), (e: Error & { code?: string }) => e.code === 'MD002' && /my db\.j\.doc: json cannot be a StarRocks key column/.test(e.message));
  });
});

describe('Doris planDdl', () => {
  const plan = planOlapDdl(DORIS, model([allTypes]), { replicationNum: 1, buckets: 'auto' });
  const sql = plan.statements[1].sql;

  it('UNIQUE KEY with merge-on-write, BUCKETS AUTO, DATETIME(p), no VARBINARY', () => {
    assert.match(sql, /\) ENGINE=OLAP\nUNIQUE KEY\(`id`\)\nCOMMENT "all the types"\nDISTRIBUTED BY HASH\(`id`\) BUCKETS AUTO\nPROPERTIES \("replication_num" = "1", "enable_unique_key_merge_on_write" = "true"\)$/);
    assert.match(sql, /`f_9` DATETIME\(6\) NULL DEFAULT CURRENT_TIMESTAMP,/);
    assert.match(sql, /`f_13` DATETIME\(6\) NULL,/);
    assert.match(sql, /`f_23` STRING NULL,/);
    assert.match(sql, /`f_14` VARCHAR\(1020\) NULL,/);
    assert.ok(!plan.flags.some((f) => f.object.endsWith('.f_9')), 'Doris keeps microseconds: no flag');
  });

  it('decimal keys stay DECIMAL on Doris', () => {
    const t = table('k', [c('b', 'decimal', 'decimal(12,2)', { precision: 12, scale: 2 })], { primaryKey: { columns: ['b'] } });
    assert.match(planOlapDdl(DORIS, model([t]), { replicationNum: 1, buckets: 'auto' }).statements[1].sql, /`b` DECIMAL\(12, 2\) NOT NULL/);
  });
});

describe('TiDB planDdl', () => {
  const t = table(
    'orders',
    [
      c('id', 'int', 'bigint', { nullable: false, autoIncrement: true }),
      c('title', 'string', 'varchar(4000)', { length: 4000, charset: 'utf8mb4', collation: 'utf8mb4_bin' }),
      c('tags', 'set', "set('a','b')", { members: ['a', 'b'] }),
      c('body', 'string', 'text'),
      c('pos', 'geometry', 'point'),
    ].slice(0, 4),
    {
      primaryKey: { columns: ['id'] },
      indexes: [
        { name: 'ft', unique: false, method: 'fulltext', parts: [{ column: 'body' }] },
        { name: 'ix_title', unique: false, parts: [{ column: 'title', prefixLength: 1000 }] },
        { name: 'uq', unique: true, parts: [{ column: 'title', prefixLength: 100 }, { column: 'id', descending: true }] },
      ],
      foreignKeys: [{ name: 'fk_x', columns: ['id'], refDb: 'my db', refTb: 'x', refColumns: ['id'], onDelete: 'CASCADE' }],
      checks: [{ name: 'ck', expression: 'id > 0' }],
    },
  );
  const plan = planTidbDdl(model([t]));

  it('CREATE TABLE with a clustered primary key, then one ALTER per index and foreign key', () => {
    assert.deepEqual(plan.statements.map((s) => [s.phase, s.object]), [
      ['database', 'my db'],
      ['table', 'my db.orders'],
      ['index', 'my db.orders.ix_title'],
      ['index', 'my db.orders.uq'],
      ['foreign_key', 'my db.orders.fk_x'],
    ]);
    assert.equal(
      plan.statements[1].sql,
      [
        'CREATE TABLE `my db`.`orders` (',
        '  `id` bigint NOT NULL AUTO_INCREMENT,',
        '  `title` varchar(4000) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,',
        "  `tags` set('a','b') NULL,",
        '  `body` text NULL,',
        '  PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */',
        ')',
      ].join('\n'),
    );
    assert.equal(plan.statements[2].sql, 'ALTER TABLE `my db`.`orders` ADD INDEX `ix_title` (`title`(768))');
    assert.equal(plan.statements[3].sql, 'ALTER TABLE `my db`.`orders` ADD UNIQUE INDEX `uq` (`title`(100), `id` DESC)');
    assert.equal(plan.statements[4].sql, 'ALTER TABLE `my db`.`orders` ADD CONSTRAINT `fk_x` FOREIGN KEY (`id`) REFERENCES `my db`.`x` (`id`) ON DELETE CASCADE');
  });

  it('flags FULLTEXT (skipped), the cut prefix, foreign keys before 6.6, CHECK', () => {
    assert.deepEqual(plan.flags.map((f) => f.object), ['my db.orders.ft', 'my db.orders.ix_title', 'my db.orders.fk_x', 'my db.orders.ck']);
    assert.match(plan.flags[0].reason, /no FULLTEXT/);
    assert.match(plan.flags[1].reason, /3072-byte/);
    assert.match(plan.flags[2].reason, /v6\.6/);
  });

  it('spatial columns are MD002; from PostgreSQL, types come from the family', () => {
    const geo = table('g', [c('id', 'int', 'int'), c('pos', 'geometry', 'point')]);
    assert.throws(() => planTidbDdl(model([geo])), (e: Error & { code?: string }) => e.code === 'MD002' && /my db\.g\.pos: point/.test(e.message));
    const pg = table('p', [c('id', 'int', 'integer', { nullable: false }), c('at', 'timestamptz', 'timestamp with time zone', { precision: 6 }), c('n', 'decimal', 'numeric')], { primaryKey: { columns: ['id'] } });
    const p = planTidbDdl(model([pg], 'pg'));
    assert.match(p.statements[1].sql, /`id` INT NOT NULL,\n  `at` DATETIME\(6\) NULL,\n  `n` LONGTEXT NULL,/);
    assert.deepEqual(p.flags.map((f) => f.object), ['my db.p.at', 'my db.p.n']);
  });
});

describe('FE key model and endpoint keys', () => {
  it('parses the key clause of SHOW CREATE TABLE after the column list', () => {
    const text = 'CREATE TABLE `t` (\n  `a b` int(11) NOT NULL COMMENT "",\n  `PRIMARY KEY(x)` varchar(10)\n) ENGINE=OLAP\nPRIMARY KEY(`a b`, `c``d`)\nDISTRIBUTED BY HASH(`a b`)';
    assert.deepEqual(parseKeyModel(text), { model: 'PRIMARY', keyColumns: ['a b', 'c`d'] });
    assert.deepEqual(parseKeyModel('CREATE TABLE t (k int) ENGINE=OLAP\nUNIQUE KEY(`k`)\n'), { model: 'UNIQUE', keyColumns: ['k'] });
    assert.deepEqual(parseKeyModel('CREATE TABLE t (k int) ENGINE=OLAP\nDUPLICATE KEY(k, j)'), { model: 'DUPLICATE', keyColumns: ['k', 'j'] });
    assert.equal(parseKeyModel('CREATE TABLE t (k int, PRIMARY KEY (k)) ENGINE=InnoDB').model, 'UNKNOWN');
  });

  it('reads ape-dts keys: url (FE), stream_load_url with mysql:// and credentials, overrides', () => {
    const r = resolveOlapConfig({ url: 'mysql://root:@fe1:9030', maxConnections: 4, raw: { stream_load_url: 'mysql://root:@be1:8040' } });
    assert.deepEqual([r.fe, r.loadUrl, r.user, r.password, r.replicationNum, r.buckets], [{ host: 'fe1', port: 9030, database: undefined }, 'http://be1:8040', 'root', '', 1, 'auto']);
    const d = resolveOlapConfig({ url: 'mysql://u:p%40w@fe2', username: 'x', password: 'y', maxConnections: 1, raw: { replication_num: '3', buckets: '16', stream_load_label_prefix: 'job-7' } });
    assert.deepEqual([d.fe.port, d.loadUrl, d.user, d.password, d.replicationNum, d.buckets, d.labelPrefix], [9030, 'http://fe2:8030', 'x', 'y', 3, 16, 'job-7']);
    assert.throws(() => resolveOlapConfig({ url: 'http://fe', maxConnections: 1, raw: {} }), /CF001|sinker\.url: expected scheme mysql:\/\//);
    assert.throws(() => resolveOlapConfig({ url: 'mysql://fe', maxConnections: 1, raw: { stream_load_label_prefix: 'a b' } }), /sinker\.stream_load_label_prefix/);
    assert.throws(() => resolveOlapConfig({ url: 'mysql://fe', maxConnections: 1, raw: { stream_load_max_bytes: '10' } }), /sinker\.stream_load_max_bytes: expected an integer >= 1024/);
  });

  it('TiDB sink options: no LOAD DATA, statements bounded by the transaction limits', () => {
    assert.deepEqual(tidbSinkOptions({}), { loadData: false, statementBytes: 4 * 1024 * 1024, txnTotalSizeLimit: 100 * 1024 * 1024 });
    assert.equal(tidbSinkOptions({ txn_total_size_limit: String(8 * 1024 * 1024) }).statementBytes, 1024 * 1024);
    assert.throws(() => tidbSinkOptions({ txn_entry_size_limit: 'big' }), /sinker\.txn_entry_size_limit/);
  });
});
