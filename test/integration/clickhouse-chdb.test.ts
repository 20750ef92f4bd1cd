/**
 * Current ClickHouse (chdb, the 26.x engine in-process): every DDL the StructWriter plans for a modern server and
 * the exact payloads the sinker and the CDC applier send -- RowBinary (the default, `auto`) and JSONEachRow
 * (`clickhouse_format=json`) -- run through it, and the FINAL result is checked:
 * ReplacingMergeTree(_ape_dts_timestamp, _ape_dts_is_deleted) hides deleted rows by itself, DateTime64(6), Date32,
 * Bool, wide Decimal, keyless deletes with mutations_sync.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FerryError } from '../../lib/core/errors.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import type { ColumnMeta, Row, SchemaModel, StructTable, TargetChange, WriteTarget } from '../../lib/core/index.ts';
import { ClickhouseSinker } from '../../lib/connectors/clickhouse/sinker.ts';
import { ClickhouseStructWriter } from '../../lib/connectors/clickhouse/struct.ts';
import { MODERN, featuresOf } from '../../lib/connectors/clickhouse/features.ts';
import { describeTarget } from '../../lib/connectors/clickhouse/target.ts';
import { insertRows } from '../../lib/connectors/clickhouse/writer.ts';
import { ChdbApi, readLive } from '../support/clickhouse.ts';

const never = new AbortController().signal;
const col = (name: string, family: ColumnMeta['family'], nativeType: string, extra: Partial<ColumnMeta> = {}): ColumnMeta => ({
  name, family, nativeType, nullable: true, ...extra,
});

const COLUMNS: ColumnMeta[] = [
  col('id', 'int', 'bigint', { nullable: false }),
  col('i8', 'int', 'tinyint'), col('u16', 'uint', 'smallint unsigned'), col('u64', 'uint', 'bigint unsigned'),
  col('dec', 'decimal', 'decimal(65,30)', { precision: 65, scale: 30 }), col('num', 'decimal', 'numeric'),
  col('f4', 'float', 'real', { udtName: 'float4' }), col('f8', 'float', 'double precision', { udtName: 'float8' }),
  col('b', 'bool', 'boolean'), col('bits', 'bit', 'bit(10)', { length: 10 }), col('s', 'string', 'varchar(20)'),
  col('e', 'enum', "enum('a','b')"), col('st', 'set', "set('x','y')"), col('u', 'uuid', 'uuid'), col('ip', 'inet', 'inet'),
  col('bin', 'binary', 'bytea'), col('j', 'json', 'jsonb'), col('d', 'date', 'date'), col('t', 'time', 'time(6)'),
  col('dt', 'datetime', 'datetime(6)'), col('tz', 'timestamptz', 'timestamp with time zone'), col('y', 'year', 'year'),
  col('iv', 'interval', 'interval'), col('arr', 'array', 'integer[]'), col('g', 'geometry', 'geometry'), col('o', 'other', 'hstore'),
];

const table = (db: string, tb: string, columns: ColumnMeta[], key: string[]): StructTable => ({
  db, tb, columns, primaryKey: key.length ? { columns: key } : undefined, indexes: [], foreignKeys: [], checks: [],
});

const ROW1: Row = {
  id: 1, i8: -128, u16: 65535, u64: 18446744073709551615n, dec: '12345678901234567890123456789012345.123456789012345678901234567891',
  num: '-1e-3', f4: 1.5, f8: -2.2250738585072014e-308, b: true, bits: '1000000001', s: 'héllo "\\ ✓\n', e: 'b', st: 'x,y',
  u: '123e4567-e89b-12d3-a456-426614174000', ip: '10.0.0.1', bin: Buffer.from([0, 255, 16, 34, 92]), j: '{"a": [1, 2]}',
  d: '1900-01-01', t: '-838:59:59.000001', dt: '2299-12-31 23:59:59.999999', tz: '2024-01-01 01:30:00.5+02:00', y: 2024,
  iv: '1 day 02:00:00', arr: '{1,2}', g: Buffer.from('0101000000000000000000f03f000000000000f03f', 'hex'), o: '"k"=>"v"',
};

for (const format of ['auto', 'json'] as const) describe(`chdb (ClickHouse 26.x in-process): DDL and payloads for modern servers, clickhouse_format=${format}`, () => {
  let api: ChdbApi;
  let sinker: ClickhouseSinker;
  const db = format === 'auto' ? 'ferry_chdb' : 'ferry_chdb_json';
  const wire = format === 'auto' ? 'RowBinary' : 'JSONEachRow';
  const model: SchemaModel = {
    sourceDbType: 'pg', databases: [{ name: db }], sequences: [], enumTypes: [],
    tables: [table(db, 'all types', COLUMNS, ['id']), table(db, 'nokey', [col('a', 'int', 'int'), col('b', 'string', 'text')], [])],
  };
  const target = (tb: string, columns: ColumnMeta[], keyColumns: string[]): WriteTarget => ({ table: { db, tb }, source: { db: 'src', tb }, columns, keyColumns });
  const T = target('all types', COLUMNS, ['id']);
  const K = target('nokey', model.tables[1].columns, []);

  before(async () => {
    api = new ChdbApi();
    sinker = new ClickhouseSinker(api, silentLogger, format);
  });
  after(async () => api.close());

  it('runs every planned statement; the server is current ClickHouse', async () => {
    const features = await api.server();
    assert.ok(featuresOf(features.version).isDeletedEngine, `chdb ${features.version} is 23.2+`);
    const writer = new ClickhouseStructWriter(MODERN, api);
    const plan = writer.planDdl(model);
    for (const s of plan.statements) {
      assert.equal(await writer.exists(s), false);
      await writer.execute(s);
      assert.equal(await writer.exists(s), true);
    }
    const [t] = await api.rows<{ q: string }>(`SELECT create_table_query AS q FROM system.tables WHERE database = '${db}' AND name = 'all types'`, undefined, 't');
    assert.match(t.q, /ReplacingMergeTree\(_ape_dts_timestamp, _ape_dts_is_deleted\)/);
    assert.match(t.q, /`dt` Nullable\(DateTime64\(6, 'UTC'\)\)/);
    assert.match(t.q, /`d` Nullable\(Date32\)/);
    assert.match(t.q, /`dec` Nullable\(Decimal\(65, 30\)\)/);
    assert.match(t.q, /`b` Nullable\(Bool\)/);
    assert.deepEqual(plan.flags.map((f) => f.object.split('.').pop()).sort(), ['arr', 'bits', 'g', 'nokey', 'num', 'o', 'st', 't', 'tz'].sort());
  });

  it('snapshot payload: exact values, and a rerun leaves FINAL unchanged', async () => {
    const w = await sinker.openTable(T, never);
    const row2: Row = Object.fromEntries(COLUMNS.map((c) => [c.name, c.name === 'id' ? 2 : null]));
    await w.write([ROW1, row2], never);
    await w.write([ROW1, row2], never);
    const live = await readLive(api, { db, tb: 'all types', columns: COLUMNS }, ['id']);
    assert.equal(live.length, 2);
    const r = live[0];
    assert.equal(r.u64, '18446744073709551615');
    assert.equal(r.dec, '12345678901234567890123456789012345.123456789012345678901234567891');
    assert.equal(r.num, '-1e-3', 'unconstrained numeric kept as its text');
    assert.equal(r.bits, String(0b1000000001));
    assert.equal(r.s, 'héllo "\\ ✓\n');
    assert.equal(r.bin, '00FF10225C');
    assert.equal(r.d, '1900-01-01');
    assert.equal(r.dt, '2299-12-31 23:59:59.999999');
    assert.equal(r.tz, '2023-12-31 23:30:00.500000', 'timestamptz stored as UTC');
    assert.equal(r.b, 'true');
    assert.ok(Object.entries(live[1]).every(([k, v]) => k === 'id' || v === null));
    const [n] = await api.rows<{ n: string }>(`SELECT count() AS n FROM ${'`'}${db}${'`'}.${'`all types`'}`, undefined, 'n');
    assert.equal(Number(n.n), 4, 'the rerun inserted again; FINAL collapses it');
    const inserts = api.log.filter((l) => l.body && l.sql.includes('`all types`'));
    assert.ok(inserts.length && inserts.every((l) => l.sql.endsWith(`FORMAT ${wire}`)), `sent as ${wire}`);
    if (format === 'json') {
      assert.ok(inserts.some((l) => /"dec":12345678901234567890123456789012345\.123456789012345678901234567891,/.test(l.body!.toString('latin1'))), 'decimals sent as unquoted exact numbers');
    }
  });

  it('CDC payload: updates, key changes, deletes and partial images; FINAL hides deleted rows without a WHERE', async () => {
    const a = await sinker.openApplier(never);
    const ch = (op: TargetChange['op'], beforeKey: Row | null, after: Row | null, t = T): TargetChange => ({ op, target: t, beforeKey, after });
    await a.apply([
      ch('insert', null, { ...ROW1, id: 3, s: 'three' }),
      ch('update', { id: 1 }, { ...ROW1, s: 'one' }),
      ch('update', { id: 3 }, { ...ROW1, id: 4, s: 'four' }),
      ch('delete', { id: 2 }, null),
      // A partial image (PostgreSQL unchanged TOAST): `s`, `dec` and the rest come from the row written above.
      ch('update', { id: 4 }, { id: 4, i8: 7 }),
    ], never);
    // Partial image of a row written by an earlier apply: completed from the target's FINAL row.
    await a.apply([ch('update', { id: 1 }, { id: 1, f8: 0.25 })], never);
    const ids = await api.rows<{ id: string }>(`SELECT id FROM \`${db}\`.\`all types\` FINAL ORDER BY id`, undefined, 'ids');
    assert.deepEqual(ids.map((r) => Number(r.id)), [1, 4]);
    const live = await readLive(api, { db, tb: 'all types', columns: COLUMNS }, ['id']);
    assert.equal(live[0].s, 'one');
    assert.equal(live[0].f8, '0.25');
    assert.equal(live[0].dec, '12345678901234567890123456789012345.123456789012345678901234567891');
    assert.equal(live[1].s, 'four');
    assert.equal(live[1].i8, '7');
    assert.equal(live[1].bin, '00FF10225C');
    // Replaying a batch writes newer versions of the same rows: FINAL unchanged.
    await a.apply([ch('update', { id: 1 }, { ...ROW1, s: 'one', f8: 0.25 })], never);
    assert.deepEqual(await readLive(api, { db, tb: 'all types', columns: COLUMNS }, ['id']), live);
    await a.close();
  });

  it('keyless table: replaced whole by a snapshot rerun; CDC deletes through a synchronous mutation', async () => {
    const w = await sinker.openTable(K, never);
    const rows = [{ a: 1, b: 'x' }, { a: 1, b: 'x' }, { a: 2, b: null }];
    async function* batches() {
      yield rows;
    }
    await w.replaceAll!(batches(), never);
    await w.replaceAll!(batches(), never);
    assert.equal((await readLive(api, { db, tb: 'nokey', columns: K.columns }, [])).length, 3);
    const a = await sinker.openApplier(never);
    await a.apply([{ op: 'delete', target: K, beforeKey: { a: 2, b: null }, after: null }, { op: 'insert', target: K, beforeKey: null, after: { a: 3, b: 'y' } }], never);
    const live = await readLive(api, { db, tb: 'nokey', columns: K.columns }, []);
    assert.deepEqual(live, [{ a: '1', b: 'x' }, { a: '1', b: 'x' }, { a: '3', b: 'y' }]);
    const tables = await api.rows<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${db}'`, undefined, 't');
    assert.deepEqual(tables.map((t) => t.name).sort(), ['all types', 'nokey'], 'no staging table left behind');
  });

  it('values that do not fit: IN001 naming the table and key, before anything is sent', async () => {
    const w = await sinker.openTable(T, never);
    for (const [column, value] of [['i8', 128], ['d', '1899-12-31'], ['dec', '1.0000000000000000000000000000001'], ['u', 'nope'], ['id', null]] as const) {
      const sent = api.log.length;
      await assert.rejects(w.write([{ ...ROW1, id: 9, [column]: value }], never), (e: FerryError) => {
        assert.equal(e.code, 'IN001');
        assert.match(e.message, new RegExp(`${db}\\.all types: value does not fit column ${column} .*at key \\(id=`));
        return true;
      });
      assert.equal(api.log.length, sent);
    }
  });

  it('payload bounds: chunks of bounded size; a batch over the byte bound goes as several INSERTs, all rows arrive', async () => {
    const K2 = target('nokey', model.tables[1].columns, []);
    const shape = await describeTarget(api, K2, never, format);
    assert.equal(shape.format, wire);
    await api.command(`TRUNCATE TABLE ${db}.nokey`, never, 'test');
    const rows = Array.from({ length: 500 }, (_v, i) => ({ a: i, b: 'x'.repeat(50) }));
    const sent = api.log.length;
    await insertRows(api, shape, rows, 0, never, { chunkBytes: 2000, maxBytes: 10_000 });
    const inserts = api.log.slice(sent).filter((l) => l.body);
    assert.ok(inserts.length >= 3, `${inserts.length} INSERTs`);
    for (const l of inserts) assert.ok(l.body!.length < 10_000 + 2000 + 200, `${l.body!.length} bytes in one INSERT`);
    const [n] = await api.rows<{ n: string; s: string }>(`SELECT count() AS n, toString(sum(a)) AS s FROM ${db}.nokey`, never, 'count');
    assert.deepEqual([Number(n.n), Number(n.s)], [500, (499 * 500) / 2]);
  });
});
