import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRouter } from '../../lib/pipeline/router.ts';
import { build } from '../fixtures/config/sections.ts';

const routerOf = (router: Record<string, string>, dbType = 'mysql') =>
  createRouter(build({ extractor: { db_type: dbType }, router }).config.router);

test('no rules: every name is unchanged and hasRules is false', () => {
  const r = routerOf({});
  assert.equal(r.hasRules, false);
  assert.deepEqual(r.routeTable({ db: 'a', tb: 'b' }), { db: 'a', tb: 'b' });
  assert.equal(r.routeColumn('a', 'b', 'c'), 'c');
  assert.equal(r.routeTopic('a', 'b'), undefined);
});

test('db_map renames the database; tb_map beats db_map', () => {
  const r = routerOf({ db_map: 'src_1:dst_1', tb_map: 'src_1.special:other.renamed' });
  assert.equal(r.hasRules, true);
  assert.deepEqual(r.routeTable({ db: 'src_1', tb: 'orders' }), { db: 'dst_1', tb: 'orders' });
  assert.deepEqual(r.routeTable({ db: 'src_1', tb: 'special' }), { db: 'other', tb: 'renamed' });
  assert.deepEqual(r.routeTable({ db: 'src_4', tb: 'x' }), { db: 'src_4', tb: 'x' });
  assert.equal(r.routeDb('src_1'), 'dst_1');
});

test('names are exact and case-sensitive; quoted names with delimiters route', () => {
  const r = routerOf({ tb_map: "`src_db,2'`.`src_tb,2'`:dst_db_2.dst_tb_2", db_map: 'Sales:sales_copy' });
  assert.deepEqual(r.routeTable({ db: "src_db,2'", tb: "src_tb,2'" }), { db: 'dst_db_2', tb: 'dst_tb_2' });
  assert.deepEqual(r.routeTable({ db: "src_db,2'", tb: "src_tb,3'" }), { db: "src_db,2'", tb: "src_tb,3'" });
  assert.deepEqual(r.routeTable({ db: 'sales', tb: 't' }), { db: 'sales', tb: 't' });
});

test('col_map renames columns of the source table, with or without a table route', () => {
  const r = routerOf({
    tb_map: 'db_1.tb_1:dst.tb_9',
    col_map: 'json:[{"db":"db_1","tb":"tb_1","col_map":{"f_0":"dst_f_0"}},{"db":"db_2","tb":"tb_2","col_map":{"a":"b"}}]',
  });
  assert.equal(r.routeColumn('db_1', 'tb_1', 'f_0'), 'dst_f_0');
  assert.equal(r.routeColumn('db_1', 'tb_1', 'f_1'), 'f_1');
  assert.equal(r.routeColumn('db_2', 'tb_2', 'a'), 'b');
  assert.equal(r.routeColumn('dst', 'tb_9', 'f_0'), 'f_0');
});

test('topic_map: db.tb, then db.*, then *.*', () => {
  const r = routerOf({ topic_map: '*.*:default_topic,test_db_2.*:topic2,test_db_2.tb_1:topic3' });
  assert.equal(r.routeTopic('test_db_2', 'tb_1'), 'topic3');
  assert.equal(r.routeTopic('test_db_2', 'tb_2'), 'topic2');
  assert.equal(r.routeTopic('other', 'tb_1'), 'default_topic');
  assert.equal(r.hasRules, false); // a topic map alone routes no table (ape-dts has_route_rules)
});

test('routing never mutates its input, and inherited object keys are not rules', () => {
  const r = routerOf({ db_map: 'a:b' });
  const src = Object.freeze({ db: 'a', tb: 't' });
  assert.deepEqual(r.routeTable(src), { db: 'b', tb: 't' });
  assert.deepEqual(src, { db: 'a', tb: 't' });
  assert.deepEqual(r.routeTable({ db: 'constructor', tb: 'toString' }), { db: 'constructor', tb: 'toString' });
  assert.equal(r.routeColumn('hasOwnProperty', 'x', 'valueOf'), 'valueOf');
});
