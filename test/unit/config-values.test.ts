import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build, errorLine } from '../fixtures/config/sections.ts';

const sources = (list: Array<{ db: { source: string }; tb: { source: string } }>) => list.map((p) => [p.db.source, p.tb.source]);

test('mysql do_tbs: backtick-quoted names may hold delimiters, r#..# regex tokens, wildcards (ape-dts token cases)', () => {
  const { config } = build({
    filter: { do_tbs: 'db_1.tb_1,`db.2`.`tb.2`,`db"3`.tb_3,db_4.`tb"4`,db_5.*,`db.6`.*,db_7*.*,`db.8*`.*,*.*,`*`.`*`,r#.*#.r#.?#' },
  });
  assert.deepEqual(sources(config.filter.doTbs), [
    ['db_1', 'tb_1'], ['`db.2`', '`tb.2`'], ['`db"3`', 'tb_3'], ['db_4', '`tb"4`'], ['db_5', '*'], ['`db.6`', '*'],
    ['db_7*', '*'], ['`db.8*`', '*'], ['*', '*'], ['`*`', '`*`'], ['r#.*#', 'r#.?#'],
  ]);
  const [, dotted] = config.filter.doTbs;
  assert.ok(dotted.db.regex.test('db.2') && !dotted.db.regex.test('dbx2'));
});

test('the brief example: do_tbs=`db.a`.`tb,1`,db2.*', () => {
  const { config } = build({ filter: { do_tbs: '`db.a`.`tb,1`,db2.*' } });
  assert.deepEqual(sources(config.filter.doTbs), [['`db.a`', '`tb,1`'], ['db2', '*']]);
  assert.ok(config.filter.doTbs[0].tb.regex.test('tb,1'));
});

test('pg names are quoted with double quotes; a backtick is an ordinary character there', () => {
  const { config } = build({
    extractor: { db_type: 'pg', url: 'postgres://u:p@h/db' },
    filter: { do_tbs: '"db.2"."tb.2",`x`.y', do_dbs: '"a,b",c' },
  });
  assert.deepEqual(sources(config.filter.doTbs), [['"db.2"', '"tb.2"'], ['`x`', 'y']]);
  assert.deepEqual(config.filter.doDbs.map((p) => p.source), ['"a,b"', 'c']);
  assert.ok(config.filter.doTbs[1].db.regex.test('`x`'));
});

test('do_dbs splits at "." too, like ape-dts (a.b is two database names); blanks and empty items are dropped', () => {
  const { config } = build({ filter: { do_dbs: ' a.b , ,c,' } });
  assert.deepEqual(config.filter.doDbs.map((p) => p.source), ['a', 'b', 'c']);
});

test('regex tokens keep , . and ; inside; `(?i)` becomes a flag', () => {
  const { config } = build({ filter: { do_dbs: 'r#^(a|b),c\\.d;$#,r#(?i)^abc$#' } });
  const [first, second] = config.filter.doDbs;
  assert.equal(first.source, 'r#^(a|b),c\\.d;$#');
  assert.ok(first.regex.test('a,c.d;') && !first.regex.test('a,cxd;'));
  assert.ok(second.regex.test('ABC'));
});

test('json: prefix is optional, as in ape-dts (trim_start_matches)', () => {
  const a = build({ filter: { ignore_cols: 'json:[{"db":"d","tb":"t","ignore_cols":["c"]}]' } }).config.filter;
  const b = build({ filter: { ignore_cols: '[{"db":"d","tb":"t","ignore_cols":["c"]}]' } }).config.filter;
  assert.deepEqual(a.ignoreCols, [{ db: 'd', tb: 't', ignoreCols: ['c'] }]);
  assert.deepEqual(b.ignoreCols, a.ignoreCols);
});

test('router maps: quoted names hold , : and . and come back unquoted (ape-dts router token cases)', () => {
  const { config } = build({
    router: {
      db_map: "src_1:dst_1,`src,2'`:dst_2,`src:3,`:`dst:3,`",
      tb_map: "src_db_1.src_tb_1:dst_db_1.dst_tb_1,`src_db,2'`.`src_tb,2'`:dst_db_2.dst_tb_2,`src_db:3,`.`src_tb:3,`:`dst_db:3,`.`dst_tb:3,`",
      topic_map: '*.*:test,`db:1`.*:test2,`db:1`.`tb:1`:test3,db.t:my.dotted.topic',
      col_map: 'json:[{"db":"src_db:3,","tb":"src_tb:3,","col_map":{"src_col:1,":"dst_col:1,"}}]',
    },
  });
  assert.deepEqual(config.router.dbMap, { src_1: 'dst_1', "src,2'": 'dst_2', 'src:3,': 'dst:3,' });
  assert.deepEqual(config.router.tbMap, {
    'src_db_1.src_tb_1': { db: 'dst_db_1', tb: 'dst_tb_1' },
    "src_db,2'.src_tb,2'": { db: 'dst_db_2', tb: 'dst_tb_2' },
    'src_db:3,.src_tb:3,': { db: 'dst_db:3,', tb: 'dst_tb:3,' },
  });
  assert.deepEqual(config.router.topicMap, { '*.*': 'test', 'db:1.*': 'test2', 'db:1.tb:1': 'test3', 'db.t': 'my.dotted.topic' });
  assert.deepEqual(config.router.colMap, { 'src_db:3,.src_tb:3,': { 'src_col:1,': 'dst_col:1,' } });
});

test('malformed tokens are CF001 with the offending text', () => {
  assert.equal(
    errorLine(() => build({ filter: { do_tbs: '`db.a.tb' } })),
    'CF001 filter.do_tbs: expected a closing `, got "`db.a.tb" (unterminated)',
  );
  assert.equal(errorLine(() => build({ filter: { do_dbs: 'a,``' } })), 'CF001 filter.do_dbs: expected a name between ``, got an empty name');
  assert.equal(
    errorLine(() => build({ filter: { do_dbs: '`a`b,c' } })),
    'CF001 filter.do_dbs: expected one of "," "." after `a`, got "b,c"',
  );
  assert.equal(
    errorLine(() => build({ filter: { do_tbs: 'a.b.c,d.e' } })),
    'CF001 filter.do_tbs: expected db.tb (quote names that contain "." or ","), got "a.b.c"',
  );
  assert.equal(
    errorLine(() => build({ filter: { ignore_tbs: 'lonely' } })),
    'CF001 filter.ignore_tbs: expected db.tb (quote names that contain "." or ","), got "lonely"',
  );
  // The reason in parentheses is V8's own wording.
  assert.match(
    errorLine(() => build({ filter: { do_dbs: 'r#(unclosed#' } })),
    /^CF001 filter\.do_dbs: expected a valid regular expression, got "r#\(unclosed#" \(.*Unterminated group\)$/,
  );
  assert.equal(
    errorLine(() => build({ router: { tb_map: 'a.b:c' } })),
    'CF001 router.tb_map: expected src_db.src_tb:dst_db.dst_tb (quote names that contain "." "," or ":"), got "a.b:c"',
  );
  assert.equal(
    errorLine(() => build({ router: { db_map: 'a:b:c' } })),
    'CF001 router.db_map: expected src_db:dst_db (quote names that contain "." "," or ":"), got "a:b:c"',
  );
});
