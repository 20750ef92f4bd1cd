import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadTaskConfig } from '../../lib/config/load.ts';
import { taskConfigFromSections } from '../../lib/config/task.ts';
import { build, withSections } from '../fixtures/config/sections.ts';

const FIX = 'test/fixtures/config';

test('an ape-dts MySQL snapshot task_config.ini loads with every value', async () => {
  const { config, warnings } = await loadTaskConfig(`${FIX}/mysql_snapshot.ini`, { env: {} });
  assert.deepEqual(warnings, []);
  assert.equal(config.taskId, 'mysql_snapshot_1');
  const { raw, ...extractor } = config.extractor;
  assert.deepEqual(extractor, {
    dbType: 'mysql',
    extractType: 'snapshot',
    url: 'mysql://root:123456@127.0.0.1:3307?ssl-mode=disabled',
    username: undefined,
    password: undefined,
    maxConnections: 10,
    batchSize: 5000,
    parallelSize: 4,
    parallelType: 'chunk',
    partitionCols: [],
  });
  assert.equal(raw.chunk_rows, '50000');
  assert.equal(config.chunkRows, 50000);
  assert.equal(config.sinker.replace, false);
  assert.equal(config.sinker.disableForeignKeyChecks, true);
  assert.equal(config.sinker.batchSize, 200);
  assert.deepEqual(config.filter.doDbs.map((p) => p.source), ['test_db', 'app_*']);
  assert.deepEqual(config.filter.ignoreCols, [{ db: 'test_db', tb: 'users', ignoreCols: ['secret_note', 'blob_col'] }]);
  assert.deepEqual(config.filter.whereConditions, [{ db: 'test_db', tb: 'orders', condition: "id > 100 and `status` <> 'x'" }]);
  assert.deepEqual(config.filter.doEvents, ['insert']);
  assert.deepEqual(config.router, {
    dbMap: { test_db: 'test_db_copy' },
    tbMap: { 'test_db.orders': { db: 'archive', tb: 'orders_2024' } },
    colMap: { 'test_db.orders': { amt: 'amount' } },
    topicMap: {},
  });
  assert.deepEqual(config.parallelizer, { parallelType: 'snapshot', parallelSize: 8 });
  assert.deepEqual(config.pipeline, { bufferSize: 16000, bufferMemoryMb: 0, checkpointIntervalSecs: 1 });
  assert.deepEqual(config.runtime, { logLevel: 'info', logDir: './logs' });
  assert.deepEqual(config.checkpoint, { store: 'file', dir: './.ferry/mysql_snapshot_1' });
});

test('TOML and JSON spellings of the task give a deep-equal TaskConfig', async () => {
  const ini = await loadTaskConfig(`${FIX}/mysql_snapshot.ini`, { env: {} });
  const toml = await loadTaskConfig(`${FIX}/mysql_snapshot.toml`, { env: {} });
  const json = await loadTaskConfig(`${FIX}/mysql_snapshot.json`, { env: {} });
  assert.deepStrictEqual(toml, ini);
  assert.deepStrictEqual(json, ini);
  const fromText = await loadTaskConfig({ text: await readFile(`${FIX}/mysql_snapshot.toml`, 'utf8'), format: 'toml' }, { env: {} });
  assert.deepStrictEqual(fromText.config, ini.config);
  const fromObject = await loadTaskConfig(JSON.parse(await readFile(`${FIX}/mysql_snapshot.json`, 'utf8')), { env: {} });
  assert.deepStrictEqual(fromObject.config, ini.config);
});

test('MySQL CDC: connector keys stay in raw, comments and key: value are read, regex filters work', async () => {
  const { config, warnings } = await loadTaskConfig(`${FIX}/mysql_cdc.ini`, { env: {} });
  assert.equal(config.extractor.extractType, 'cdc');
  assert.equal(config.extractor.url, 'mysql://root:123456@127.0.0.1:3307?ssl-mode=disabled');
  assert.equal(config.extractor.raw.server_id, '2000');
  assert.equal(config.extractor.raw.binlog_filename, 'mysql-bin.000035');
  assert.equal(config.extractor.raw.gtid_set, '');
  assert.ok(config.filter.doTbs[0].db.regex.test('db_12') && !config.filter.doTbs[0].db.regex.test('db_x'));
  assert.ok(config.filter.ignoreTbs[0].tb.regex.test('a;b#c'));
  assert.equal(config.filter.doDdls.length, 10);
  assert.deepEqual(config.parallelizer, { parallelType: 'rdb_merge', parallelSize: 8 });
  assert.match(config.taskId, /^mysql_cdc-[0-9a-f]{8}$/);
  assert.deepEqual(warnings, [
    'runtime.log4rs_file: ape-dts key not implemented by ferry yet; ignored (ferry logs JSON lines; see runtime.log_dir)',
    `global.task_id: not set; derived "${config.taskId}" -- set it to keep CDC checkpoints when the filter or endpoints change`,
  ]);
});

test('PG CDC with pg-quoted names and a DynamoDB checkpoint store', async () => {
  const { config } = await loadTaskConfig(`${FIX}/pg_cdc.ini`, { env: {} });
  assert.equal(config.extractor.raw.slot_name, 'ape_test');
  assert.ok(config.filter.doDbs[1].regex.test('Mixed.Case'));
  assert.deepEqual(config.router.tbMap, { 'sch,1.tb.1': { db: 'dst', tb: 'tb:2' } });
  assert.deepEqual(config.checkpoint, {
    store: 'dynamodb', dir: './.ferry/pg_cdc_1', table: 'ferry-checkpoints', region: 'us-east-1', prefix: 'prod/',
  });
});

test('ape-dts defaults fill every unset key', () => {
  const { config, warnings } = build();
  assert.deepEqual(warnings, []);
  assert.equal(config.extractor.batchSize, 16000); // pipeline.buffer_size / extractor.parallel_size
  assert.equal(config.extractor.maxConnections, 10);
  assert.equal(config.extractor.parallelSize, 1);
  assert.equal(config.extractor.parallelType, 'chunk'); // ferry default: tables are cut into chunks
  assert.equal(config.chunkRows, 200000);
  assert.deepEqual(
    { ...config.sinker, raw: undefined },
    {
      dbType: 'mysql', sinkType: 'write', url: 'mysql://root:hunter2@127.0.0.1:3308', username: undefined, password: undefined,
      maxConnections: 10, batchSize: 200, replace: true, disableForeignKeyChecks: true, conflictPolicy: 'interrupt', raw: undefined,
    },
  );
  assert.deepEqual(config.filter, {
    doDbs: [], ignoreDbs: [], doTbs: [], ignoreTbs: [], ignoreCols: [], whereConditions: [], doEvents: ['*'], doDdls: [], doStructures: ['*'],
  });
  assert.deepEqual(config.router, { dbMap: {}, tbMap: {}, colMap: {}, topicMap: {} });
  assert.deepEqual(config.pipeline, { bufferSize: 16000, bufferMemoryMb: 0, checkpointIntervalSecs: 10 });
  assert.deepEqual(config.parallelizer, { parallelType: 'serial', parallelSize: 1 });
  assert.deepEqual(config.runtime, { logLevel: 'info' });
  assert.match(config.taskId, /^task-[0-9a-f]{8}$/);
  assert.deepEqual(config.checkpoint, { store: 'file', dir: `./.ferry/${config.taskId}` });
});

test('empty values mean the default, as in ape-dts', () => {
  const { config } = build({ extractor: { batch_size: '', parallel_size: ' ' }, filter: { do_events: '' }, sinker: { replace: '' } });
  assert.equal(config.extractor.batchSize, 16000);
  assert.deepEqual(config.filter.doEvents, ['*']);
  assert.equal(config.sinker.replace, true);
});

test('extractor batch_size default follows buffer_size / parallel_size; check_log uses 200; tb_parallel_size is the legacy parallel_size', () => {
  assert.equal(build({ extractor: { parallel_size: '4' }, pipeline: { buffer_size: '1000' } }).config.extractor.batchSize, 250);
  assert.equal(build({ extractor: { parallel_size: '8' }, pipeline: { buffer_size: '4' } }).config.extractor.batchSize, 4);
  assert.equal(build({ extractor: { extract_type: 'check_log' }, sinker: { sink_type: 'check' } }).config.extractor.batchSize, 200);
  const legacy = build({ runtime: { tb_parallel_size: '4' } }).config.extractor;
  assert.deepEqual([legacy.parallelSize, legacy.batchSize], [4, 4000]);
});

test('a dummy sinker needs neither db_type nor url', () => {
  const { config } = build({ sinker: { sink_type: 'dummy', db_type: undefined, url: undefined } });
  assert.deepEqual([config.sinker.sinkType, config.sinker.dbType, config.sinker.url], ['dummy', 'mysql', '']);
});

test('username and password keys are kept next to the url', () => {
  const { config } = build({ extractor: { username: 'app', password: ' p@ss word ' } });
  assert.deepEqual([config.extractor.username, config.extractor.password], ['app', ' p@ss word ']);
});

test('derived task id: stable, ignores batch sizes and credentials, differs with the filter, uses the file name', async () => {
  const a = build().config.taskId;
  assert.equal(build().config.taskId, a);
  assert.equal(build({ extractor: { batch_size: '7', url: 'mysql://root:other@127.0.0.1:3307' } }).config.taskId, a);
  assert.notEqual(build({ filter: { do_dbs: 'x' } }).config.taskId, a);
  assert.notEqual(build({ sinker: { url: 'mysql://root:hunter2@10.0.0.9:3308' } }).config.taskId, a);
  const named = taskConfigFromSections(withSections({}), {}, { sourceName: 'orders sync.ini' }).config.taskId;
  assert.equal(named, `orders_sync-${a.slice('task-'.length)}`);
});

test('file format is taken from the extension, else sniffed; relative paths resolve against baseDir', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-config-'));
  const ini = await readFile(`${FIX}/mysql_snapshot.ini`, 'utf8');
  const toml = await readFile(`${FIX}/mysql_snapshot.toml`, 'utf8');
  const json = await readFile(`${FIX}/mysql_snapshot.json`, 'utf8');
  const expected = (await loadTaskConfig(`${FIX}/mysql_snapshot.ini`, { env: {} })).config;
  // a.task and d/e have no known extension: sniffed (JSON object, TOML if it parses, else INI).
  for (const [name, text] of [['a.task', ini], ['b.conf', ini], ['c.cfg', ini], ['d', json], ['e', toml]] as const) {
    await writeFile(join(dir, name), text);
    assert.deepStrictEqual((await loadTaskConfig(join(dir, name), { env: {} })).config, expected, name);
  }
  const { config } = await loadTaskConfig(`${FIX}/mysql_snapshot.ini`, { env: {}, baseDir: dir });
  assert.equal(config.checkpoint.dir, resolve(dir, '.ferry/mysql_snapshot_1'));
  assert.equal(config.runtime.logDir, resolve(dir, 'logs'));
});

test('section and key names of TOML/JSON are case-insensitive like INI', () => {
  const { config } = taskConfigFromSections(
    { Extractor: { DB_TYPE: 'mysql', Extract_Type: 'snapshot', URL: 'mysql://h:1' }, SINKER: { db_type: 'pg', url: 'postgres://h/d' } },
    {},
  );
  assert.deepEqual([config.extractor.dbType, config.sinker.dbType], ['mysql', 'pg']);
});

test('values of enums are read case-insensitively; booleans accept any letter case', () => {
  const { config } = build({ extractor: { db_type: 'MySQL', extract_type: 'SNAPSHOT' }, sinker: { replace: 'False' } });
  assert.deepEqual([config.extractor.dbType, config.extractor.extractType, config.sinker.replace], ['mysql', 'snapshot', false]);
});
