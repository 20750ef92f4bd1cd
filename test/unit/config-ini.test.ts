import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIni } from '../../lib/config/ini.ts';
import { FerryError } from '../../lib/core/errors.ts';

test('key=value and key: value; the first delimiter splits, the rest of the value is kept whole', () => {
  const s = parseIni('[extractor]\nurl=mysql://root:pw@127.0.0.1:3307?ssl-mode=disabled\nurl2: pg://a:b@h/db?x=1\n');
  assert.equal(s.extractor.url, 'mysql://root:pw@127.0.0.1:3307?ssl-mode=disabled');
  assert.equal(s.extractor.url2, 'pg://a:b@h/db?x=1');
});

test('full-line ; and # comments are skipped, indented too; no inline comments', () => {
  const s = parseIni(
    [
      '; a comment',
      '# another',
      '[filter]',
      '   ; indented comment',
      'do_tbs=r#^db\\.t.*#',
      'do_dbs=`a;`,`b#c` ; not a comment',
      'where_conditions=json:[{"db":"d","tb":"t","condition":"c = \'#\'"}]',
    ].join('\n'),
  );
  assert.deepEqual(s, {
    filter: {
      do_tbs: 'r#^db\\.t.*#',
      do_dbs: '`a;`,`b#c` ; not a comment',
      where_conditions: 'json:[{"db":"d","tb":"t","condition":"c = \'#\'"}]',
    },
  });
});

test('section and key names are case-insensitive (lower-cased), values keep their case', () => {
  const s = parseIni('[ Extractor ]\nDB_Type = MySQL\n');
  assert.deepEqual(s, { extractor: { db_type: 'MySQL' } });
});

test('empty values, keys without a delimiter, repeats, keys before any section, CRLF and BOM', () => {
  const s = parseIni('\uFEFForphan=1\r\n[a]\r\nempty=\r\nflag\r\nk=1\r\n[b]\r\nx=1\r\n[a]\r\nk=2\r\n');
  assert.deepEqual(s, { default: { orphan: '1' }, a: { empty: '', flag: '', k: '2' }, b: { x: '1' } });
});

test('text after the closing ] of a header is ignored, like configparser', () => {
  assert.deepEqual(parseIni('[sinker] trailing\nk=v'), { sinker: { k: 'v' } });
});

test('an unclosed section header is CF003 naming file and line', () => {
  assert.throws(
    () => parseIni('[extractor]\n[sinker\nk=v', 'task_config.ini'),
    (e: unknown) => e instanceof FerryError && e.toLine() === 'CF003 task_config.ini:2: expected "]" closing the section header, got "[sinker"',
  );
});

test('an empty key is CF003 and the rest of the line (maybe a secret) is not echoed', () => {
  assert.throws(
    () => parseIni('[extractor]\n=hunter2', 'task_config.ini'),
    (e: unknown) =>
      e instanceof FerryError &&
      e.toLine() === 'CF003 task_config.ini:2: expected a key before "=", got a line starting with "="' &&
      !JSON.stringify(e.toJSON()).includes('hunter2'),
  );
});
