/**
 * Value identity: every type inserted, updated (with a key change) and deleted arrives from the binlog with
 * exactly the values the snapshot source reads for the same row (deepEqual), incl. DECIMAL(65,30), BIGINT
 * UNSIGNED max, DATETIME(6)/TIMESTAMP(6) microseconds, ENUM/SET (an invalid ENUM ''), JSON, BIT, BLOB with
 * zero bytes, BINARY(n) trailing zeros, utf8mb4 emoji, latin1 text, geometries, MariaDB UUID/INET4/INET6, NULLs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Row } from '../../lib/core/values.ts';
import type { MysqlCdcSource } from '../../lib/connectors/mysql/index.ts';
import { freshMysqlDb, type TestDb } from '../support/mysql.ts';
import { cdcSource, collect, dataCommits, never, rowsOf, snapshotRows } from './mysql-cdc-support.ts';

const TABLE = `CREATE TABLE types (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
  i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  dec65 DECIMAL(65,30), dec10 DECIMAL(10,2), dec55 DECIMAL(5,5),
  fl FLOAT, db DOUBLE,
  b1 BIT(1), b10 BIT(10), b64 BIT(64), bo BOOLEAN,
  ch CHAR(10), vc VARCHAR(100), tx TEXT, lt LONGTEXT,
  bn BINARY(4), vb VARBINARY(10), bl BLOB,
  d DATE, t TIME(6), t0 TIME, t3 TIME(3), dt DATETIME(6), dt0 DATETIME, dt3 DATETIME(3), ts TIMESTAMP(6) NULL, y YEAR,
  e ENUM('a','b','c d'), st SET('x','y','z'),
  j JSON, g GEOMETRY, p POINT,
  u UUID, i4 INET4, i6 INET6, l1 VARCHAR(20) CHARACTER SET latin1, e2 ENUM('p','q')
) CHARACTER SET utf8mb4`;

const ROWS = `INSERT INTO types VALUES
 (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
  -99999999999999999999999999999999999.999999999999999999999999999999, -99999999.99, -0.99999,
  -3.4028234e38, -1.7976931348623157e308,
  b'0', b'0', b'0', 0,
  '', '', '', '',
  X'00000000', X'', X'',
  '1000-01-01', '-838:59:59.000000', '-838:59:59', '-00:00:01.500', '1000-01-01 00:00:00.000000', '0000-00-00 00:00:00', '2024-01-01 00:00:00.001', '1970-01-01 00:00:01.000000', 1901,
  'a', '', '[]', ST_GeomFromText('POINT(0 0)'), ST_GeomFromText('POINT(-1.5 2.25)'),
  'f81d4fae-7dec-11d0-a765-00a0c91e6bf6', '10.0.0.1', '::ffff:1.2.3.4', 'café', 'p'),
 (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
  99999999999999999999999999999999999.999999999999999999999999999999, 99999999.99, 0.99999,
  3.4028234e38, 1.7976931348623157e308,
  b'1', b'1111111111', b'1111111111111111111111111111111111111111111111111111111111111111', 1,
  'emoji😀', 'ünïcödé ✓ 😀👍🏽 tab\\there', 'line1\\nline2 \\\\ back\\0slash quote'' "dq" ?', REPEAT('x', 70000),
  X'FF00FF00', X'00000000000000000000', X'000102030405060708090A0B0C0D0E0F',
  '9999-12-31', '838:59:59.000000', '838:59:59', '838:59:59.999', '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59', '9999-12-31 23:59:59.999', '2038-01-19 03:14:07.999999', 2155,
  'c d', 'x,y,z', '{"a": [1, 2.50, "\\u00e9"], "b": null, "big": 18446744073709551615}',
  ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0),(5 5,7 5,7 7,5 7,5 5))'), ST_GeomFromText('POINT(1e300 -1e-300)'),
  '00000000-0000-0000-0000-000000000000', '0.0.0.0', '2001:db8::1', 'Ærø ©', 'q'),
 (3, 1, 1, -1, 1, 0, 1, -1, 1, -1, 9007199254740993,
  0.000000000000000000000000000001, 0.01, 0.00001,
  123456789, 0.30000000000000004,
  b'1', b'0101010101', b'1000000000000000000000000000000000000000000000000000000000000001', 2,
  'a', 'b', 'c', 'd',
  X'61', X'0a0d09', X'5c4e',
  '0000-00-00', '-00:00:00.000001', '25:00:00', '00:00:00.001', '2024-02-29 12:34:56.123456', '2024-01-01 00:00:00', '2024-02-29 12:34:56.120', '2024-06-30 23:59:59.500000', 0,
  'b', 'y', '"text"', ST_GeomFromText('LINESTRING(0 0,1 1,2 2)'), ST_GeomFromText('POINT(3 4)'),
  'ffffffff-ffff-ffff-ffff-ffffffffffff', '255.255.255.255', '::', '', 'invalid'),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL),
 (5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  1.17549435e-38, 5e-324,
  b'0', b'0', b'0', 0,
  '\\\\N', '\\\\N', '\\\\', '\\t',
  X'5c4e0000', X'5c', X'0a',
  '2000-01-01', '00:00:00.5', '00:00:00', '-12:00:00.250', '2000-01-01 00:00:00.000001', '2000-01-01 00:00:00', '2000-01-01 00:00:00.000', '2000-01-01 00:00:00.000000', 2000,
  'a', 'x', '{}', ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,1 1))'), ST_GeomFromText('POINT(0.1 0.2)'),
  '12345678-9abc-def0-1234-56789abcdef0', '192.168.0.1', '::1', 'x', 'p')`;

const byId = (rows: Row[]) => new Map(rows.map((r) => [Number(r.id), r]));

describe('mysql cdc: value identity with the snapshot source', () => {
  let db: TestDb;
  let source: MysqlCdcSource;

  before(async () => {
    db = await freshMysqlDb('mysql_cdc_types');
    await db.exec(`${TABLE}; SET SESSION sql_mode = ''`);
    source = await cdcSource([{ db: db.name, tb: 'types' }]);
  });
  after(async () => {
    await source?.close();
    await db?.drop();
  });

  it('insert, key-changing update and delete of every type decode exactly as the snapshot reads them', async () => {
    const t = { db: db.name, tb: 'types' };
    const from = await source.currentPosition(never);
    await db.exec(`BEGIN; ${ROWS}; COMMIT`);
    const inserted = byId((await snapshotRows(t)).rows);
    await db.exec(`UPDATE types SET id = id + 100, vc = CONCAT('u', vc), dt = '2001-02-03 04:05:06.000007'`);
    const updated = byId((await snapshotRows(t)).rows);
    await db.exec('DELETE FROM types');
    const { events } = await collect(source, from, (ev) => dataCommits(ev).length >= 3);
    const rows = rowsOf(events, 'types');
    assert.deepEqual(
      rows.map((r) => r.op),
      ['insert', 'insert', 'insert', 'insert', 'insert', 'update', 'update', 'update', 'update', 'update', 'delete', 'delete', 'delete', 'delete', 'delete'],
    );
    for (const r of rows.filter((x) => x.op === 'insert')) assert.deepEqual(r.after, inserted.get(Number(r.after!.id)), `insert id=${r.after!.id}`);
    for (const r of rows.filter((x) => x.op === 'update')) {
      assert.deepEqual(r.before, inserted.get(Number(r.before!.id)), `update before id=${r.before!.id}`);
      assert.deepEqual(r.after, updated.get(Number(r.after!.id)), `update after id=${r.after!.id}`);
    }
    for (const r of rows.filter((x) => x.op === 'delete')) assert.deepEqual(r.before, updated.get(Number(r.before!.id)), `delete id=${r.before!.id}`);
    // Spot checks of the hardest values, so a change on both sides cannot hide.
    const r2 = inserted.get(2)!;
    assert.equal(r2.biu, 18446744073709551615n);
    assert.equal(r2.dec65, '99999999999999999999999999999999999.999999999999999999999999999999');
    assert.equal(r2.dt, '9999-12-31 23:59:59.999999');
    assert.equal(r2.ts, '2038-01-19 03:14:07.999999');
    assert.equal(inserted.get(3)!.e2, '');
    assert.deepEqual(inserted.get(3)!.bn, Buffer.from('61000000', 'hex'));
    assert.equal(inserted.get(1)!.u, 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6');
    assert.equal(inserted.get(1)!.l1, 'café');
  });
});
