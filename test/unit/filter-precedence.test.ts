import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFilter } from '../../lib/pipeline/filter.ts';
import { build } from '../fixtures/config/sections.ts';

const filterOf = (filter: Record<string, string>, dbType = 'mysql') =>
  createFilter(build({ extractor: { db_type: dbType }, filter }).config.filter);

test('an empty filter includes nothing (ape-dts: keep empty to match nothing)', () => {
  const f = filterOf({});
  assert.equal(f.tableIncluded('a', 'b'), false);
  assert.equal(f.dbIncluded('a'), false);
});

test('do_dbs and do_tbs are a union; ignore_dbs and ignore_tbs win over both', () => {
  const f = filterOf({ do_dbs: 'sales', do_tbs: 'hr.people,ops.*', ignore_tbs: 'sales.tmp_*,ops.secret', ignore_dbs: 'archive*' });
  assert.equal(f.tableIncluded('sales', 'orders'), true); // do_dbs
  assert.equal(f.tableIncluded('hr', 'people'), true); // do_tbs
  assert.equal(f.tableIncluded('hr', 'salaries'), false); // neither
  assert.equal(f.tableIncluded('sales', 'tmp_1'), false); // ignore_tbs beats do_dbs
  assert.equal(f.tableIncluded('ops', 'secret'), false); // ignore_tbs beats do_tbs
  assert.equal(f.tableIncluded('ops', 'jobs'), true);
  const g = filterOf({ do_dbs: '*', do_tbs: '*.*', ignore_dbs: 'a*' });
  assert.deepEqual([g.tableIncluded('abc', 'x'), g.tableIncluded('b', 'x')], [false, true]);
});

test('wildcards: * any run, ? zero or one character, other regex characters literal; case-sensitive', () => {
  const f = filterOf({ do_dbs: 'he?lo,app_*,db$1+' });
  assert.deepEqual(['hello', 'helo', 'helllo', 'app_', 'app_1', 'Hello', 'db$1+', 'db1'].map((d) => f.tableIncluded(d, 't')), [
    true, true, false, true, true, false, true, false,
  ]);
});

test('quoted names match exactly, wildcards inside quotes included', () => {
  const f = filterOf({ do_dbs: '*', do_tbs: '*.*', ignore_tbs: '*.`b*`,*.c*' });
  assert.equal(f.tableIncluded('a', 'b*'), false);
  assert.equal(f.tableIncluded('a', 'bcd'), true);
  assert.equal(f.tableIncluded('a', 'cbd'), false);
  const g = filterOf({ ignore_dbs: 'b*', do_tbs: 'a*.*,`c*`.`*`' });
  assert.deepEqual([g.tableIncluded('c*', '*'), g.tableIncluded('c*', 'bcd'), g.tableIncluded('cde', 'x'), g.tableIncluded('abc', 'x')], [
    true, false, false, true,
  ]);
  const h = filterOf({ do_tbs: '`db_test_position.aaa`.`b.bbb,.b`,`db_test_position.aaa`.c' });
  assert.deepEqual([h.tableIncluded('db_test_position.aaa', 'b.bbb,.b'), h.tableIncluded('db_test_position.aaa', 'c')], [true, true]);
});

test('pg names are quoted with double quotes', () => {
  const f = filterOf({ do_tbs: '"My.Schema"."T,1"' }, 'pg');
  assert.deepEqual([f.tableIncluded('My.Schema', 'T,1'), f.tableIncluded('my.schema', 'T,1')], [true, false]);
});

test('r#..# regexes are anchored; # and ; and , are fine inside values', () => {
  const f = filterOf({ do_tbs: 'r#^db\\.t.*#.r#^(a|b)$#' });
  assert.deepEqual([f.tableIncluded('db.t1', 'a'), f.tableIncluded('db.t1', 'ab'), f.tableIncluded('dbxt1', 'b')], [true, false, false]);
});

test('dbIncluded follows ape-dts filter_schema (do_tbs databases count; ignore_tbs db.* drops the db)', () => {
  assert.equal(filterOf({ do_dbs: 'test_db_*', ignore_dbs: 'test_db_2' }).dbIncluded('test_db_1'), true);
  assert.equal(filterOf({ do_dbs: 'test_db_*', ignore_dbs: 'test_db_1' }).dbIncluded('test_db_1'), false);
  assert.equal(filterOf({ do_dbs: 'test_db_1', ignore_dbs: '*' }).dbIncluded('test_db_1'), false);
  assert.equal(filterOf({ do_dbs: 'test_db_*', ignore_tbs: 'test_db_1.a*' }).dbIncluded('test_db_1'), true);
  assert.equal(filterOf({ do_dbs: 'test_db_*', ignore_tbs: 'test_db_1.*' }).dbIncluded('test_db_1'), false);
  assert.equal(filterOf({ do_tbs: 'test_db_1.one_pk', ignore_tbs: 'test_db_*.a*' }).dbIncluded('test_db_1'), true);
  assert.equal(filterOf({ do_tbs: 'test_db_1.one_pk', ignore_tbs: 'test_db_*.*' }).dbIncluded('test_db_1'), false);
  assert.equal(filterOf({ do_tbs: 'test_db_1.one_pk', ignore_dbs: 'test_db_2' }).dbIncluded('test_db_1'), true);
  assert.equal(filterOf({ do_tbs: 'test_db_1.one_pk', ignore_dbs: 'test_db_*' }).dbIncluded('test_db_1'), false);
  assert.equal(filterOf({ do_tbs: 'test_db_1.one_pk' }).dbIncluded('test_db_2'), false);
});

test('events: do_events defaults to *; a list lets only those through, and only for included tables', () => {
  const all = filterOf({ do_dbs: 'd' });
  assert.deepEqual(['insert', 'update', 'delete'].map((e) => all.eventIncluded('d', 't', e)), [true, true, true]);
  assert.equal(all.eventIncluded('x', 't', 'insert'), false);
  const some = filterOf({ do_dbs: 'd', do_events: 'insert,delete' });
  assert.deepEqual(['insert', 'update', 'delete'].map((e) => some.eventIncluded('d', 't', e)), [true, false, true]);
});

test('DDL: none by default; listed types or * for included tables, database DDL by dbIncluded', () => {
  assert.equal(filterOf({ do_dbs: 'd' }).ddlIncluded('d', 't', 'create_table'), false);
  const f = filterOf({ do_dbs: 'd', do_ddls: 'create_table,drop_database' });
  assert.deepEqual(
    [f.ddlIncluded('d', 't', 'create_table'), f.ddlIncluded('d', 't', 'alter_table'), f.ddlIncluded('d', undefined, 'drop_database'), f.ddlIncluded('x', '', 'drop_database')],
    [true, false, true, false],
  );
  assert.equal(filterOf({ do_dbs: 'd', do_ddls: '*' }).ddlIncluded('d', 't', 'rename_table'), true);
});

test('ignore_cols and where_conditions are looked up by exact db.tb', () => {
  const f = filterOf({
    do_dbs: 'd',
    ignore_cols: 'json:[{"db":"d","tb":"t","ignore_cols":["a","b"]},{"db":"d","tb":"t","ignore_cols":["b","c"]}]',
    where_conditions: 'json:[{"db":"d","tb":"t","condition":"id > 1 and `age` > 100"}]',
  });
  assert.deepEqual(f.ignoredColumns('d', 't'), ['a', 'b', 'c']);
  assert.deepEqual(f.ignoredColumns('d', 'T'), []);
  assert.equal(f.whereCondition('d', 't'), 'id > 1 and `age` > 100');
  assert.equal(f.whereCondition('d', 'u'), undefined);
});

test('the filter still works on a TaskConfig that went through JSON (RegExp rebuilt from source)', () => {
  const cfg = build({ filter: { do_tbs: '`db.a`.`tb,1`,app_?.*,r#^x\\d$#.y' } }).config.filter;
  const f = createFilter(JSON.parse(JSON.stringify(cfg)));
  assert.deepEqual([f.tableIncluded('db.a', 'tb,1'), f.tableIncluded('app_', 'z'), f.tableIncluded('x1', 'y'), f.tableIncluded('x', 'y')], [
    true, true, true, false,
  ]);
});
