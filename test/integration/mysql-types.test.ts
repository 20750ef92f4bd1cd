/**
 * Every MySQL type round-trips MySQL -> MySQL exactly: readChunk from one database, TableWriter.write into
 * a second, then both tables compared in SQL (HEX / exact double / CAST AS CHAR), for every write mode.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { memoryLogger, silentLogger } from '../../lib/core/logger.ts';
import type { TableMeta } from '../../lib/core/table.ts';
import type { Row } from '../../lib/core/values.ts';
import { createMysqlMetadata, createMysqlSinker, createMysqlSnapshotSource } from '../../lib/connectors/mysql/index.ts';
import type { MysqlMetadata } from '../../lib/connectors/mysql/metadata.ts';
import type { MysqlSnapshotSource } from '../../lib/connectors/mysql/snapshot-source.ts';
import { exactSelect, freshMysqlDb, mysqlEndpoint, type TestDb } from '../support/mysql.ts';

const signal = new AbortController().signal;
const ctx = { logger: silentLogger, signal };

const ALL_TYPES = `CREATE TABLE types (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
  i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  dec65 DECIMAL(65,30), dec10 DECIMAL(10,2),
  fl FLOAT, db DOUBLE,
  b1 BIT(1), b10 BIT(10), b64 BIT(64), bo BOOLEAN,
  ch CHAR(10), vc VARCHAR(100), tx TEXT, lt LONGTEXT,
  bn BINARY(4), vb VARBINARY(10), bl BLOB,
  d DATE, t TIME(6), t0 TIME, dt DATETIME(6), dt0 DATETIME, ts TIMESTAMP(6) NULL, y YEAR,
  e ENUM('a','b','c d'), st SET('x','y','z'),
  j JSON, g GEOMETRY, p POINT
) CHARACTER SET utf8mb4`;

const ROWS = `
INSERT INTO types VALUES
 (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
  -99999999999999999999999999999999999.999999999999999999999999999999, -99999999.99,
  -3.4028234e38, -1.7976931348623157e308,
  b'0', b'0', b'0', 0,
  '', '', '', '',
  X'00000000', X'', X'',
  '1000-01-01', '-838:59:59.000000', '-838:59:59', '1000-01-01 00:00:00.000000', '0000-00-00 00:00:00', '1970-01-01 00:00:01.000000', 1901,
  'a', '', '[]', ST_GeomFromText('POINT(0 0)'), ST_GeomFromText('POINT(-1.5 2.25)')),
 (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
  99999999999999999999999999999999999.999999999999999999999999999999, 99999999.99,
  3.4028234e38, 1.7976931348623157e308,
  b'1', b'1111111111', b'1111111111111111111111111111111111111111111111111111111111111111', 1,
  'emoji😀', 'ünïcödé ✓ 😀👍🏽 tab\\there', 'line1\\nline2 \\\\ back\\0slash quote'' "dq" ?', REPEAT('x', 70000),
  X'FF00FF00', X'00000000000000000000', X'000102030405060708090A0B0C0D0E0F',
  '9999-12-31', '838:59:59.000000', '838:59:59', '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59', '2038-01-19 03:14:07.999999', 2155,
  'c d', 'x,y,z', '{"a": [1, 2.50, "\\u00e9"], "b": null, "big": 18446744073709551615}',
  ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0),(5 5,7 5,7 7,5 7,5 5))'), ST_GeomFromText('POINT(1e300 -1e-300)')),
 (3, 1, 1, -1, 1, 0, 1, -1, 1, -1, 9007199254740993,
  0.000000000000000000000000000001, 0.01,
  123456789, 0.30000000000000004,
  b'1', b'0101010101', b'1000000000000000000000000000000000000000000000000000000000000001', 2,
  'a', 'b', 'c', 'd',
  X'61', X'0a0d09', X'5c4e',
  '0000-00-00', '-00:00:00.000001', '25:00:00', '2024-02-29 12:34:56.123456', '2024-01-01 00:00:00', '2024-06-30 23:59:59.500000', 0,
  'b', 'y', '"text"', ST_GeomFromText('LINESTRING(0 0,1 1,2 2)'), ST_GeomFromText('POINT(3 4)')),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  1.17549435e-38, 5e-324,
  b'0', b'0', b'0', 0,
  '\\\\N', '\\\\N', '\\\\', '\\t',
  X'5c4e0000', X'5c', X'0a',
  '2000-01-01', '00:00:00.5', '00:00:00', '2000-01-01 00:00:00.000001', '2000-01-01 00:00:00', '2000-01-01 00:00:00.000000', 2000,
  'a', 'x', '{}', ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,1 1))'), ST_GeomFromText('POINT(0.1 0.2)'))`;

/** Same shape minus BIT/geometry: every column loadable, so the LOAD DATA path is exercised too. */
const TEXT_TYPES = `CREATE TABLE text_types AS SELECT id, ti, tiu, si, siu, mi, miu, i, iu, bi, biu, dec65, dec10, fl, db, bo,
  ch, vc, tx, lt, bn, vb, bl, d, t, t0, dt, dt0, ts, y, e, st, j FROM types`;

describe('mysql types round-trip', () => {
  let src: TestDb;
  let dst: TestDb;
  let md: MysqlMetadata;
  let source: MysqlSnapshotSource;

  before(async () => {
    src = await freshMysqlDb('mysql_types_src');
    dst = await freshMysqlDb('mysql_types_dst');
    await src.exec(`${ALL_TYPES}; ${ROWS}; ${TEXT_TYPES}; ALTER TABLE text_types ADD PRIMARY KEY (id)`);
    md = await createMysqlMetadata(mysqlEndpoint(), ctx);
    source = await createMysqlSnapshotSource(mysqlEndpoint(), ctx);
  });
  after(async () => {
    await md?.close();
    await source?.close();
    await src?.drop();
    await dst?.drop();
  });

  async function readAll(meta: TableMeta, batchSize = 2): Promise<Row[]> {
    const rows: Row[] = [];
    const chunk = { id: 'all', table: meta, kind: 'range' as const, lower: null, upper: null, estimatedRows: 0 };
    for await (const b of source.readChunk(meta, chunk, { columns: meta.columns.map((c) => c.name), batchSize, signal })) rows.push(...b.rows);
    return rows;
  }

  it('reads canonical values', async () => {
    const meta = await md.getTableMeta({ db: src.name, tb: 'types' }, signal);
    const fam = Object.fromEntries(meta.columns.map((c) => [c.name, c.family]));
    assert.deepEqual(
      { ti: fam.ti, tiu: fam.tiu, biu: fam.biu, dec65: fam.dec65, fl: fam.fl, b64: fam.b64, bo: fam.bo, bn: fam.bn, d: fam.d, t: fam.t, dt: fam.dt, ts: fam.ts, y: fam.y, e: fam.e, st: fam.st, j: fam.j, g: fam.g, p: fam.p },
      { ti: 'int', tiu: 'uint', biu: 'uint', dec65: 'decimal', fl: 'float', b64: 'bit', bo: 'int', bn: 'binary', d: 'date', t: 'time', dt: 'datetime', ts: 'datetime', y: 'year', e: 'enum', st: 'set', j: 'json', g: 'geometry', p: 'geometry' },
    );
    assert.deepEqual(meta.columns.find((c) => c.name === 'e')?.members, ['a', 'b', 'c d']);
    assert.equal(meta.columns.find((c) => c.name === 'b10')?.length, 10);
    assert.equal(meta.columns.find((c) => c.name === 'dt')?.precision, 6);
    const rows = await readAll(meta);
    assert.equal(rows.length, 5);
    const [r1, r2, r3, r4, r5] = rows;
    assert.equal(r1.bi, -9223372036854775808n);
    assert.equal(r2.biu, 18446744073709551615n);
    assert.equal(r3.biu, 9007199254740993n);
    assert.equal(r2.iu, 4294967295);
    assert.equal(r1.dec65, '-99999999999999999999999999999999999.999999999999999999999999999999');
    assert.equal(r3.dec65, '0.000000000000000000000000000001');
    assert.equal(r3.fl, 123456790); // the shortest decimal of the float32 123456792
    assert.equal(r5.fl, 1.1754944e-38);
    assert.equal(r3.db, 0.30000000000000004);
    assert.equal(r5.db, 5e-324);
    assert.equal(r1.b1, '0');
    assert.equal(r2.b64, '1'.repeat(64));
    assert.equal(r3.b10, '0101010101');
    assert.equal(r3.bo, 2);
    assert.equal(r2.ch, 'emoji😀');
    assert.deepEqual(r1.bn, Buffer.alloc(4));
    assert.deepEqual(r2.vb, Buffer.alloc(10));
    assert.equal(r1.t, '-838:59:59.000000');
    assert.equal(r3.t, '-00:00:00.000001');
    assert.equal(r3.t0, '25:00:00');
    assert.equal(r1.dt0, '0000-00-00 00:00:00');
    assert.equal(r3.d, '0000-00-00');
    assert.equal(r2.ts, '2038-01-19 03:14:07.999999');
    assert.equal(r2.y, 2155);
    assert.equal(r2.st, 'x,y,z');
    assert.equal(typeof r2.j, 'string');
    assert.ok(Buffer.isBuffer(r1.g) && r1.g.length === 25);
    for (const v of Object.entries(r4)) if (v[0] !== 'id') assert.equal(v[1], null, v[0]);
  });

  for (const table of ['types', 'text_types']) {
    for (const mode of [
      { name: 'replace (LOAD DATA when loadable)', replace: true, loadData: true },
      { name: 'replace (statements)', replace: true, loadData: false },
      { name: 'upsert', replace: false, loadData: false },
    ]) {
      it(`${table}: ${mode.name} writes identical values`, async () => {
        const meta = await md.getTableMeta({ db: src.name, tb: table }, signal);
        await dst.exec(`DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} LIKE ${src.name}.${table}`);
        const logger = memoryLogger();
        const sinker = await createMysqlSinker(mysqlEndpoint(), { logger, signal }, { sink: { replace: mode.replace, loadData: mode.loadData } });
        try {
          const w = await sinker.openTable({ table: { db: dst.name, tb: table }, columns: meta.columns, keyColumns: meta.keyColumns, source: meta }, signal);
          const rows = await readAll(meta);
          await w.write(rows.slice(0, 2), signal);
          await w.write(rows.slice(2), signal);
          await w.write(rows, signal); // again: idempotent
          const want = await src.query(exactSelect(src.name, table, meta.columns, ['id']));
          const got = await dst.query(exactSelect(dst.name, table, meta.columns, ['id']));
          assert.deepEqual(got, want);
          assert.deepEqual(logger.lines.filter((l) => /LOAD DATA/.test(String(l.msg))), [], 'the LOAD DATA path never fell back');
        } finally {
          await sinker.close();
        }
      });
    }
  }
});
