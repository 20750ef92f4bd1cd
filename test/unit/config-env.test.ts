import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTaskConfig } from '../../lib/config/load.ts';
import { taskConfigFromSections } from '../../lib/config/task.ts';
import { baseSections, errorLineAsync, errorLine } from '../fixtures/config/sections.ts';

const ENV = { DB_HOST: 'db.internal', DB_USER: 'app', DB_PASSWORD: 's3cr3t', SCHEMA: 'sales', BUCKET: 'ferry-ckpt' };

test('${VAR} is replaced in any value, ${VAR:-fallback} falls back, $${ stays literal', async () => {
  const { config } = await loadTaskConfig('test/fixtures/config/env.ini', { env: ENV });
  assert.equal(config.extractor.url, 'mysql://db.internal:3306');
  assert.deepEqual([config.extractor.username, config.extractor.password], ['app', 's3cr3t']);
  assert.equal(config.extractor.raw.password, 's3cr3t');
  assert.equal(config.sinker.url, 'mysql://127.0.0.1:3307');
  assert.equal(config.sinker.password, undefined); // ${TARGET_PASSWORD:-} -> empty -> unset
  assert.equal(config.filter.doTbs[0].db.source, 'sales');
  assert.deepEqual(config.filter.whereConditions, [{ db: 'sales', tb: 't', condition: "note = '${literal}'" }]);
  assert.equal(config.checkpoint.bucket, 'ferry-ckpt');
});

test('a set variable beats the fallback; an empty one takes it', async () => {
  const { config } = await loadTaskConfig('test/fixtures/config/env.ini', { env: { ...ENV, TARGET_HOST: '10.1.1.1', TARGET_PASSWORD: 'tp' } });
  assert.equal(config.sinker.url, 'mysql://10.1.1.1:3307');
  assert.equal(config.sinker.password, 'tp');
  const empty = await loadTaskConfig('test/fixtures/config/env.ini', { env: { ...ENV, TARGET_HOST: '' } });
  assert.equal(empty.config.sinker.url, 'mysql://127.0.0.1:3307');
});

test('a missing variable is CF002 naming the key and the variable, never a value', async () => {
  const { DB_PASSWORD: _, ...rest } = ENV;
  const line = await errorLineAsync(loadTaskConfig('test/fixtures/config/env.ini', { env: rest }));
  // core redactSecrets reads "password: expected" as a key=value secret and masks the word; both are fine here.
  assert.match(line, /^CF002 extractor\.password: (expected|\*\*\*) environment variable DB_PASSWORD to be set, got nothing$/);
});

test('process.env is the default environment; regex-like ${1,2} is not a reference', () => {
  process.env.FERRY_TEST_DB = 'from_process_env';
  try {
    const s = baseSections();
    s.filter = { do_dbs: '${FERRY_TEST_DB},r#^a{1,2}$#' };
    const { config } = taskConfigFromSections(s);
    assert.deepEqual(config.filter.doDbs.map((p) => p.source), ['from_process_env', 'r#^a{1,2}$#']);
  } finally {
    delete process.env.FERRY_TEST_DB;
  }
});

test('variables are replaced inside native TOML/JSON values too (arrays, tables)', () => {
  const s = baseSections();
  s.filter = { do_dbs: ['${A}', 'b'], ignore_cols: [{ db: '${A}', tb: 't', ignore_cols: ['${COL}'] }] };
  const { config } = taskConfigFromSections(s, { A: 'alpha', COL: 'c1' });
  assert.deepEqual(config.filter.doDbs.map((p) => p.source), ['alpha', 'b']);
  assert.deepEqual(config.filter.ignoreCols, [{ db: 'alpha', tb: 't', ignoreCols: ['c1'] }]);
  assert.equal(errorLine(() => taskConfigFromSections(s, { A: 'x' })), 'CF002 filter.ignore_cols: expected environment variable COL to be set, got nothing');
});
