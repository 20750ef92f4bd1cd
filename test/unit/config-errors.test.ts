import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTaskConfig } from '../../lib/config/load.ts';
import { taskConfigFromSections } from '../../lib/config/task.ts';
import { FerryError } from '../../lib/core/errors.ts';
import { baseSections, build, errorLine, errorLineAsync } from '../fixtures/config/sections.ts';

test('CF001: a wrong value names section.key, what was expected and what was got', () => {
  assert.equal(errorLine(() => build({ extractor: { batch_size: 'abc' } })), 'CF001 extractor.batch_size: expected a positive integer, got "abc"');
  assert.equal(errorLine(() => build({ extractor: { batch_size: '0' } })), 'CF001 extractor.batch_size: expected a positive integer, got "0"');
  assert.equal(errorLine(() => build({ sinker: { batch_size: 2.5 } })), 'CF001 sinker.batch_size: expected a positive integer, got "2.5"');
  assert.equal(
    errorLine(() => build({ extractor: { db_type: 'oracle' } })),
    'CF001 extractor.db_type: expected one of mysql, pg, mongo, redis, kafka, clickhouse, starrocks, doris, tidb, got "oracle"',
  );
  assert.equal(errorLine(() => build({ sinker: { replace: 'yes' } })), 'CF001 sinker.replace: expected true or false, got "yes"');
  assert.equal(
    errorLine(() => build({ extractor: { parallel_type: 'hash' } })),
    'CF001 extractor.parallel_type: expected one of table, chunk, got "hash"',
  );
  assert.equal(
    errorLine(() => build({ filter: { do_events: 'insert,upsert' } })),
    'CF001 filter.do_events: expected a comma list of insert, update, delete or *, got "upsert"',
  );
  assert.equal(
    errorLine(() => build({ filter: { ignore_cols: 'json:[{"db":"d","tb":"t"}]' } })),
    'CF001 filter.ignore_cols: expected json:[{"db":"..","tb":"..","ignore_cols":[".."]}], got "json:[{\\"db\\":\\"d\\",\\"tb\\":\\"t\\"}]"',
  );
  assert.equal(
    errorLine(() => build({ extractor: { partition_cols: 'json:[{"db":"d"' } })),
    'CF001 extractor.partition_cols: expected json:[{"db":"..","tb":"..","partition_col":".."}], got "json:[{\\"db\\":\\"d\\""',
  );
  assert.equal(
    errorLine(() => build({ global: { task_id: 'a/b' } })),
    'CF001 global.task_id: expected at most 128 letters, digits, ".", "_" or "-", got "a/b"',
  );
  assert.equal(errorLine(() => build({ runtime: { log_level: 'loud' } })), 'CF001 runtime.log_level: expected one of trace, debug, info, warn, error, got "loud"');
  assert.equal(errorLine(() => build({ checkpoint: { store: 'redis' } })), 'CF001 checkpoint.store: expected one of file, dynamodb, s3, got "redis"');
});

test('CF002: a missing required key or section', () => {
  assert.equal(
    errorLine(() => build({ extractor: { extract_type: undefined } })),
    'CF002 extractor.extract_type: expected one of snapshot, cdc, struct, check_log, snapshot_and_cdc, got nothing (key missing or empty)',
  );
  assert.equal(errorLine(() => build({ extractor: { url: '' } })), 'CF002 extractor.url: expected a connection URL, got nothing (key missing or empty)');
  assert.equal(
    errorLine(() => build({ sinker: { db_type: undefined } })),
    'CF002 sinker.db_type: expected one of mysql, pg, mongo, redis, kafka, clickhouse, starrocks, doris, tidb, got nothing (key missing or empty)',
  );
  assert.equal(errorLine(() => build({ sinker: { url: undefined } })), 'CF002 sinker.url: expected a connection URL, got nothing (key missing or empty)');
  assert.equal(
    errorLine(() => build({ checkpoint: { store: 'dynamodb' } })),
    'CF002 checkpoint.table: expected a DynamoDB table name (store=dynamodb), got nothing (key missing or empty)',
  );
  assert.equal(
    errorLine(() => build({ checkpoint: { store: 's3' } })),
    'CF002 checkpoint.bucket: expected an S3 bucket name (store=s3), got nothing (key missing or empty)',
  );
  const noSinker = baseSections();
  delete noSinker.sinker;
  assert.equal(errorLine(() => taskConfigFromSections(noSinker, {})), 'CF002 sinker: expected a [sinker] section, got nothing');
});

test('CF003: contradicting keys', () => {
  assert.equal(
    errorLine(() => build({ extractor: { extract_type: 'cdc' }, sinker: { sink_type: 'struct' } })),
    'CF003 sinker.sink_type: expected write or dummy with extractor.extract_type=cdc, got "struct"',
  );
  assert.equal(
    errorLine(() => build({ checkpoint: { bucket: 'b' } })),
    'CF003 checkpoint.bucket: expected checkpoint.store=s3 when bucket is set, got store=file',
  );
  assert.equal(
    errorLine(() => build({ router: { db_map: 'a:b,c:d,a:e' } })),
    'CF003 router.db_map: expected one target per source, got a:b and a:e',
  );
  assert.equal(
    errorLine(() => build({ filter: { where_conditions: '[{"db":"d","tb":"t","condition":"a>1"},{"db":"d","tb":"t","condition":"b>1"}]' } })),
    'CF003 filter.where_conditions: expected one condition per table, got two for d.t',
  );
  assert.equal(
    errorLine(() => taskConfigFromSections({ ...baseSections(), filter: 'do_dbs=x' as unknown as Record<string, unknown> }, {})),
    'CF003 config: expected section [filter] to be a table of keys, got a string',
  );
});

test('CF003: unreadable or unparseable files, naming file (and line)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-config-'));
  assert.equal(await errorLineAsync(loadTaskConfig(join(dir, 'nope.ini'))), `CF003 ${join(dir, 'nope.ini')}: expected a readable config file, got ENOENT`);
  await writeFile(join(dir, 'bad.ini'), '[extractor]\n[sinker\n');
  assert.equal(await errorLineAsync(loadTaskConfig(join(dir, 'bad.ini'))), 'CF003 bad.ini:2: expected "]" closing the section header, got "[sinker"');
  await writeFile(join(dir, 'bad.toml'), '[extractor]\npassword = hunter2 oops\n');
  assert.equal(await errorLineAsync(loadTaskConfig(join(dir, 'bad.toml'))), 'CF003 bad.toml:2:12: expected valid TOML, got invalid value');
  await writeFile(join(dir, 'bad.json'), '{"extractor": {"password": hunter2}}');
  assert.equal(await errorLineAsync(loadTaskConfig(join(dir, 'bad.json'))), 'CF003 bad.json: expected valid JSON, got a syntax error');
  assert.equal(await errorLineAsync(loadTaskConfig({ text: '[1]', format: 'json' })), 'CF003 config: expected a JSON object of sections, got an array');
});

test('no error text ever holds a password, whatever the failure', async () => {
  const failing: Array<() => unknown> = [
    () => build({ extractor: { password: ['hunter2'] } }),
    () => build({ extractor: { url: ['mysql://root:hunter2@h:1'] } }),
    () => build({ sinker: { url: { u: 'postgres://u:hunter2@h/db' } } }),
    () => build({ extractor: { max_connections: 'password=hunter2' } }),
    () => build({ extractor: { batch_size: 'mysql://root:hunter2@h' } }),
    () => taskConfigFromSections({ ...baseSections(), sinker: { url: '${NOPE}', password: 'hunter2' } }, {}),
  ];
  for (const fn of failing) {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof FerryError, 'expected a FerryError');
    const text = [err.toLine(), err.stack ?? '', JSON.stringify(err.toJSON())].join('\n');
    assert.ok(!text.includes('hunter2'), text);
  }
  // core redactSecrets masks the word after "password:" too; the value is what must never show.
  assert.match(errorLine(failing[0]), /^CF001 extractor\.password: (expected|\*\*\*) a string, got "\*\*\*"$/);
  assert.equal(errorLine(failing[1]), 'CF001 extractor.url: expected a connection URL, got "[\\"mysql://root:***@h:1\\"]"');
  for (const file of ['bad.toml', 'bad.json', 'bad-key.ini']) {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-config-'));
    const body = { 'bad.toml': 'password = hunter2 x', 'bad.json': '{"password": hunter2}', 'bad-key.ini': '[a]\n: hunter2' }[file]!;
    await writeFile(join(dir, file), body);
    const line = await errorLineAsync(loadTaskConfig(join(dir, file)));
    assert.ok(!line.includes('hunter2'), line);
  }
});
