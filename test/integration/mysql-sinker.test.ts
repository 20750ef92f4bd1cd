/**
 * The MySQL sinker: idempotent and concurrent writes, target checks (MD001), values that do not fit
 * (IN001 naming table, column and key; earlier batches kept), and canonical values from other engines.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../lib/core/logger.ts';
import type { ColumnMeta } from '../../lib/core/table.ts';
import type { TypeFamily, Row } from '../../lib/core/values.ts';
import { createMysqlSinker } from '../../lib/connectors/mysql/index.ts';
import type { MysqlSinker } from '../../lib/connectors/mysql/sinker.ts';
import { freshMysqlDb, mysqlEndpoint, type TestDb } from '../support/mysql.ts';

const signal = new AbortController().signal;
const ctx = { logger: silentLogger, signal };
const col = (name: string, family: TypeFamily, nativeType = family): ColumnMeta => ({ name, family, nativeType, nullable: true });
const source = { db: 'src', tb: 'src' };

type Rejection = Error & { code?: string; details?: Record<string, unknown> };
const rejectsWith = (code: string, pattern: RegExp) => (e: Rejection) => {
  assert.equal(e.code, code, e.message);
  assert.match(e.message, pattern);
  return true;
};

const MODES = [
  { name: 'replace/LOAD DATA', opts: { replace: true, loadData: true } },
  { name: 'replace/statements', opts: { replace: true, loadData: false } },
  { name: 'upsert', opts: { replace: false } },
];

describe('mysql sinker', () => {
  let db: TestDb;
  const sinkers: MysqlSinker[] = [];
  const sinker = async (opts: Parameters<typeof createMysqlSinker>[2] = {}) => {
    const s = await createMysqlSinker(mysqlEndpoint({ maxConnections: 6 }), ctx, opts);
    sinkers.push(s);
    return s;
  };

  before(async () => {
    db = await freshMysqlDb('mysql_sinker');
  });
  after(async () => {
    for (const s of sinkers) await s.close();
    await db?.drop();
  });

  const sbColumns = [col('id', 'int'), col('k', 'int'), col('c', 'string'), col('pad', 'string')];
  const sbRows = (n: number, tag: string): Row[] =>
    Array.from({ length: n }, (_, i) => ({ id: i + 1, k: (i * 7919) % n, c: `${tag}-${i}-${'x'.repeat(i % 50)}`, pad: i % 3 ? `p${i}` : null }));

  for (const m of MODES) {
    it(`${m.name}: the same batch written twice and concurrently leaves an identical target`, async () => {
      const tb = `sb_${m.name.replace(/\W/g, '_')}`;
      await db.exec(`CREATE TABLE ${tb} (id INT PRIMARY KEY, k INT NOT NULL, c VARCHAR(120) NOT NULL, pad CHAR(60) NULL, KEY (k))`);
      const s = await sinker({ sink: m.opts });
      const w = await s.openTable({ table: { db: db.name, tb }, columns: sbColumns, keyColumns: ['id'], source }, signal);
      const rows = sbRows(3000, 'v1');
      await w.write(rows, signal);
      const once = await db.query(`SELECT * FROM ${tb} ORDER BY id`);
      await w.write(rows, signal);
      assert.deepEqual(await db.query(`SELECT * FROM ${tb} ORDER BY id`), once);
      // Overlapping writers (deadlocks, if any, are retried inside write).
      await Promise.all([w.write(rows, signal), w.write(rows.slice(500), signal), w.write(rows, signal), w.write(rows.slice(0, 2000), signal)]);
      assert.deepEqual(await db.query(`SELECT * FROM ${tb} ORDER BY id`), once);
      // Updates land (non-key columns overwritten).
      await w.write(sbRows(3000, 'v2'), signal);
      const [r] = await db.query<{ c: string }>(`SELECT c FROM ${tb} WHERE id = 10`);
      assert.match(r.c, /^v2-9-/);
    });
  }

  it('openTable: missing table, missing column, target without a usable key -> MD001 naming them', async () => {
    await db.exec('CREATE TABLE t_shape (id INT PRIMARY KEY, a INT); CREATE TABLE t_nokey (id INT, a INT)');
    const s = await sinker();
    await assert.rejects(
      s.openTable({ table: { db: db.name, tb: 'missing' }, columns: [col('id', 'int')], keyColumns: ['id'], source }, signal),
      rejectsWith('MD001', new RegExp(`target table ${db.name}\\.missing does not exist`)),
    );
    await assert.rejects(
      s.openTable({ table: { db: db.name, tb: 't_shape' }, columns: [col('id', 'int'), col('nope', 'int')], keyColumns: ['id'], source }, signal),
      rejectsWith('MD001', new RegExp(`target column ${db.name}\\.t_shape\\.nope does not exist`)),
    );
    await assert.rejects(
      s.openTable({ table: { db: db.name, tb: 't_nokey' }, columns: [col('id', 'int'), col('a', 'int')], keyColumns: ['id'], source }, signal),
      rejectsWith('MD001', /t_nokey has no primary or unique key/),
    );
    await assert.rejects(
      s.openTable({ table: { db: 'no_such_db_ferry', tb: 't' }, columns: [col('id', 'int')], keyColumns: ['id'], source }, signal),
      rejectsWith('MD001', /no_such_db_ferry\.t/),
    );
  });

  for (const m of MODES) {
    it(`${m.name}: a value too long -> IN001 naming table, column and key; earlier batches stay`, async () => {
      const tb = `t_fit_${m.name.replace(/\W/g, '_')}`;
      await db.exec(`CREATE TABLE ${tb} (id INT PRIMARY KEY, c VARCHAR(5), n INT NOT NULL, t TINYINT)`);
      const s = await sinker({ sink: m.opts });
      const w = await s.openTable({ table: { db: db.name, tb }, columns: [col('id', 'int'), col('c', 'string'), col('n', 'int'), col('t', 'int')], keyColumns: ['id'], source }, signal);
      const ok = (from: number, n: number): Row[] => Array.from({ length: n }, (_, i) => ({ id: from + i, c: 'ok', n: 1, t: 1 }));
      await w.write(ok(1, 100), signal);
      const bad = ok(101, 100);
      bad[41] = { id: 142, c: 'too long', n: 1, t: 1 };
      await assert.rejects(w.write(bad, signal), rejectsWith('IN001', new RegExp(`^target ${db.name}\\.${tb}: value does not fit column c \\(Data too long\\) at key id=142$`)));
      // No row number in the server's message (NOT NULL): found by bisection.
      const nul = ok(201, 50);
      nul[17] = { id: 218, c: 'ok', n: null, t: 1 };
      await assert.rejects(w.write(nul, signal), rejectsWith('IN001', /column n .*at key id=218$/));
      const range = ok(301, 10);
      range[3] = { id: 304, c: 'ok', n: 1, t: 300 };
      await assert.rejects(w.write(range, signal), rejectsWith('IN001', /column t \(Out of range value\) at key id=304$/));
      const [{ n }] = await db.query<{ n: number }>(`SELECT COUNT(*) n FROM ${tb}`);
      assert.equal(Number(n), 100, 'the first batch is committed, none of the failed ones');
    });
  }

  it('NaN / Infinity into numeric columns -> IN001 naming column and key; strings keep the text', async () => {
    await db.exec('CREATE TABLE t_nan (id INT PRIMARY KEY, f DOUBLE, d DECIMAL(10,2), s VARCHAR(20))');
    for (const m of MODES) {
      const s = await sinker({ sink: m.opts });
      const w = await s.openTable({ table: { db: db.name, tb: 't_nan' }, columns: [col('id', 'int'), col('f', 'float'), col('d', 'decimal'), col('s', 'float')], keyColumns: ['id'], source }, signal);
      await assert.rejects(w.write([{ id: 1, f: 1, d: '1', s: 1 }, { id: 7, f: NaN, d: '1', s: 1 }], signal), rejectsWith('IN001', /t_nan: value does not fit column f \(NaN cannot be stored.*at key id=7$/));
      await assert.rejects(w.write([{ id: 8, f: -Infinity, d: '1', s: 1 }], signal), rejectsWith('IN001', /column f .*at key id=8$/));
      await assert.rejects(w.write([{ id: 9, f: 1, d: 'NaN', s: 1 }], signal), rejectsWith('IN001', /column d .*at key id=9$/));
      await w.write([{ id: 10, f: 1.5, d: '2.25', s: Infinity }], signal);
    }
    assert.deepEqual(await db.query('SELECT id, f, CAST(d AS CHAR) d, s FROM t_nan'), [{ id: 10, f: 1.5, d: '2.25', s: 'Infinity' }]);
  });

  for (const m of MODES) {
    it(`${m.name}: multi-megabyte values arrive intact`, async () => {
      const tb = `t_big_${m.name.replace(/\W/g, '_')}`;
      await db.exec(`CREATE TABLE ${tb} (id INT PRIMARY KEY, b LONGBLOB, t LONGTEXT)`);
      const s = await sinker({ sink: m.opts });
      const w = await s.openTable({ table: { db: db.name, tb }, columns: [col('id', 'int'), col('b', 'binary'), col('t', 'string')], keyColumns: ['id'], source }, signal);
      const blob = Buffer.alloc(3_500_000, 0);
      for (let i = 0; i < blob.length; i += 7) blob[i] = i % 256; // zero bytes, \t, \n and backslashes throughout
      const text = 'ü😀\t\n\\'.repeat(400_000);
      await w.write([{ id: 1, b: blob, t: text }, { id: 2, b: Buffer.alloc(0), t: '' }], signal);
      const [r] = await db.query<{ bl: number; bm: string; tl: number; tm: string }>(`SELECT LENGTH(b) bl, MD5(b) bm, CHAR_LENGTH(t) tl, MD5(t) tm FROM ${tb} WHERE id = 1`);
      const md5 = async (x: Buffer) => (await import('node:crypto')).createHash('md5').update(x).digest('hex');
      assert.deepEqual(r, { bl: blob.length, bm: await md5(blob), tl: [...text].length, tm: await md5(Buffer.from(text)) });
    });
  }

  it('an aborted write rejects with RT001 and the pool stays usable', async () => {
    await db.exec('CREATE TABLE t_abort (id INT PRIMARY KEY, c VARCHAR(10))');
    const s = await sinker();
    const w = await s.openTable({ table: { db: db.name, tb: 't_abort' }, columns: [col('id', 'int'), col('c', 'string')], keyColumns: ['id'], source }, signal);
    const ac = new AbortController();
    ac.abort(new Error('deadline'));
    await assert.rejects(w.write([{ id: 1, c: 'a' }], ac.signal), (e: Rejection) => e.code === 'RT001');
    await w.write([{ id: 2, c: 'b' }], signal);
    assert.deepEqual(await db.query('SELECT id, c FROM t_abort'), [{ id: 2, c: 'b' }]);
  });

  it('replaceAll rolls back whole on a bad row and names it', async () => {
    await db.exec("CREATE TABLE t_keyless (a INT, c VARCHAR(3)); INSERT INTO t_keyless VALUES (1, 'old')");
    const s = await sinker();
    const w = await s.openTable({ table: { db: db.name, tb: 't_keyless' }, columns: [col('a', 'int'), col('c', 'string')], keyColumns: [], source }, signal);
    const batches = async function* () {
      yield [{ a: 1, c: 'abc' }];
      yield [{ a: 2, c: 'abc' }, { a: 3, c: 'abcd' }];
    };
    await assert.rejects(w.replaceAll!(batches(), signal), rejectsWith('IN001', /t_keyless: value does not fit column c \(Data too long\) at row 2 of the batch/));
    assert.deepEqual(await db.query('SELECT a, c FROM t_keyless'), [{ a: 1, c: 'old' }]);
  });

  it('canonical values from other engines convert by the target column type', async () => {
    await db.exec(`CREATE TABLE t_in (id BIGINT UNSIGNED PRIMARY KEY, b TINYINT(1), bb BIT(1), ts DATETIME(6), tsp TIMESTAMP(6) NULL, ts0 DATETIME,
      bits BIT(4), bits_i INT, j JSON, blb BLOB, dec65 DECIMAL(65,30), u CHAR(36), inet VARCHAR(45), iv VARCHAR(64), arr TEXT,
      g GEOMETRY, g2 GEOMETRY, f FLOAT, y YEAR, jb JSON)`);
    const columns = [
      col('id', 'uint'), col('b', 'bool'), col('bb', 'bool'), col('ts', 'timestamptz'), col('tsp', 'timestamptz'), col('ts0', 'timestamptz'),
      col('bits', 'bit'), col('bits_i', 'bit'), col('j', 'json'), col('blb', 'binary'), col('dec65', 'decimal'), col('u', 'uuid'), col('inet', 'inet'),
      col('iv', 'interval'), col('arr', 'array'), col('g', 'geometry'), col('g2', 'geometry'), col('f', 'float'), col('y', 'year'), col('jb', 'bool'),
    ];
    const wkbPoint = Buffer.from('0101000000000000000000F03F0000000000000040', 'hex');
    const row = {
      id: 18446744073709551615n, b: true, bb: false, ts: '2024-01-02 03:04:05.123456+05:30', tsp: '2000-01-01 00:00:00-08', ts0: '1999-12-31 23:59:59Z',
      bits: '0101', bits_i: '1111', j: '{"a": [1, {"b": null}]}', blb: Buffer.from([0, 1, 0, 255]), dec65: '-12345678901234567890123456789012345.123456789012345678901234567890',
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', inet: '2001:db8::1/64', iv: '1 day 02:03:04', arr: '{1,2,"x y"}', g: wkbPoint, g2: 'SRID=4326;POINT(3 4)', f: 0.1, y: 2024, jb: true,
    };
    const s = await sinker();
    const w = await s.openTable({ table: { db: db.name, tb: 't_in' }, columns, keyColumns: ['id'], source }, signal);
    await w.write([row], signal);
    await w.write([row], signal);
    const [got] = await db.query(`SELECT CAST(id AS CHAR) id, b, BIN(bb) bb, CAST(ts AS CHAR) ts, CAST(tsp AS CHAR) tsp, CAST(ts0 AS CHAR) ts0, BIN(bits) bits, bits_i, j,
      HEX(blb) blb, CAST(dec65 AS CHAR) dec65, u, inet, iv, arr, ST_AsText(g) g, ST_AsText(g2) g2, ST_SRID(g2) srid, CAST(f AS DOUBLE) f, y, jb FROM t_in`);
    assert.deepEqual(got, {
      id: '18446744073709551615', b: 1, bb: '0', ts: '2024-01-01 21:34:05.123456', tsp: '2000-01-01 08:00:00.000000', ts0: '1999-12-31 23:59:59',
      bits: '101', bits_i: 15, j: '{"a": [1, {"b": null}]}', blb: '000100FF', dec65: row.dec65, u: row.u, inet: row.inet, iv: row.iv, arr: row.arr,
      g: 'POINT(1 2)', g2: 'POINT(3 4)', srid: 4326, f: Math.fround(0.1), y: 2024, jb: 'true',
    });
  });
});
