/**
 * Every PostgreSQL type round-trips PG -> PG exactly through the canonical values: readChunk from one schema,
 * write into another, then compare with SQL (row text EXCEPT, both ways) so nothing is judged by JS.
 * Run for each read mode x write mode.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChunkSpec } from '../../lib/core/source.ts';
import type { Row } from '../../lib/core/values.ts';
import { pgConnector } from '../../lib/connectors/pg/index.ts';
import { ensureExtensions, freshSchema, pgEndpoint, testContext, type PgTestSchema } from '../support/pg.ts';

const COLUMNS = `
  id int PRIMARY KEY,
  c_smallint smallint, c_int int, c_bigint bigint,
  c_num numeric, c_num65 numeric(65,30), c_num_s numeric(10,2),
  c_real real, c_double double precision,
  c_bool boolean, c_bit1 bit(1), c_bit8 bit(8), c_varbit varbit,
  c_char char(10), c_varchar varchar(50), c_text text,
  c_bytea bytea,
  c_date date, c_time time, c_time0 time(0), c_timetz timetz, c_ts timestamp(6), c_ts3 timestamp(3), c_tstz timestamptz,
  c_interval interval, c_uuid uuid, c_inet inet, c_cidr cidr, c_macaddr macaddr,
  c_json json, c_jsonb jsonb,
  c_intarr int[], c_textarr text[], c_tsarr timestamp[],
  c_enum mood, c_hstore public.hstore, c_citext public.citext, c_ltree public.ltree, c_geom public.geometry,
  c_point point, c_range int4range, c_xml xml, c_money money`;

const ROWS = `
INSERT INTO t VALUES
 (1, -32768, -2147483648, -9223372036854775808,
  '-123456789012345678901234567890123456789012345678901234567890.123456789012345678901234567890', '-99999999999999999999999999999999999.999999999999999999999999999999', -12345678.90,
  -3.4028235e+38, -1.7976931348623157e+308,
  false, B'0', B'00000000', B'',
  'a', '', 'tab\there "quoted" back\\slash',
  '\\x00',
  '4713-01-01 BC', '00:00:00', '00:00:00', '00:00:00+14', '4713-01-01 00:00:00 BC', '1900-01-01 00:00:00.001', '0001-01-01 00:00:00+00',
  '-178000000 years', '00000000-0000-0000-0000-000000000000', '0.0.0.0', '::/0', '00:00:00:00:00:00',
  '[]', '{}',
  '{}', '{}', '{}',
  'happy', '', '', '', 'SRID=4326;POINT(0 0)',
  '(0,0)', 'empty', '<a/>', '-92233720368547758.08'),
 (2, 32767, 2147483647, 9223372036854775807,
  '0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001', '99999999999999999999999999999999999.999999999999999999999999999999', 99999999.99,
  3.4028235e+38, 1.7976931348623157e+308,
  true, B'1', B'11111111', B'1010101010101010101',
  'ten chars!', 'emoji 😀 ünïcödé ✓', E'multi\nline\r\nwith\\\\backslashes and\ttabs',
  '\\x000102fffe00',
  '5874897-12-31', '24:00:00', '23:59:59', '23:59:59.999999-15:59', '294276-12-31 23:59:59.999999', '2024-02-29 12:34:56.789', '2024-06-30 23:59:59.999999+00',
  '178000000 years 11 mons 30 days 23:59:59.999999', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '2001:db8::ff00:42:8329/64', '192.168.100.128/25', 'ff:ff:ff:ff:ff:ff',
  '{"b": [1, 2.50, "x\\u0000y"], "a" : null}', '{"z": {"deep": [true, false, null]}, "n": 1.230}',
  '{1,NULL,-3}', '{"a b","c,d","","NULL",null,"quote\\"q"}', '{"2024-01-01 00:00:00.5","infinity"}',
  'sad', 'a=>1, "b c"=>NULL', 'MiXeD Case', 'top.science.astronomy', 'SRID=3857;LINESTRING(1 2, 3.5 4.25, -1e10 7)',
  '(1.5,-2.25)', '[1,10)', '<root attr="v">text &amp; more</root>', '92233720368547758.07'),
 (3, 0, 0, 9007199254740993,
  'NaN', 0, 0,
  'NaN', 'NaN',
  NULL, NULL, NULL, NULL,
  NULL, NULL, NULL,
  '\\x',
  'infinity', NULL, NULL, NULL, 'infinity', '-infinity', 'infinity',
  '0', NULL, NULL, NULL, NULL,
  'null', 'null',
  NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, 'POLYGON((0 0, 1 0, 1 1, 0 0))',
  NULL, NULL, NULL, 0),
 (4, 1, -1, -9007199254740993,
  'Infinity', '-0.000000000000000000000000000001', -0.01,
  'Infinity', '-Infinity',
  true, B'1', B'10000001', B'0',
  NULL, 'x', '',
  NULL,
  '-infinity', '12:00:00.5', '12:00:01', '12:00:00.000001+05:30', '-infinity', '2000-01-01 00:00:00', '-infinity',
  '-1 days +02:03:04.5', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '::1', '10.0.0.0/8', '08:00:2b:01:02:03',
  '"just a string"', '"\\ud83d\\ude00"',
  '{{1,2},{3,4}}', '{"\\\\back"}', NULL,
  'ok', '"k"=>"v\\"q"', NULL, '', 'SRID=4326;MULTIPOINT Z ((1 2 3),(4 5 6))',
  NULL, '(,)', NULL, NULL),
 (5, NULL, NULL, NULL, '-Infinity', NULL, NULL, '-0', '-0', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL),
 (6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL)`;

let src: PgTestSchema;
let dst: PgTestSchema;

const ctx = testContext();
const signal = ctx.signal;

async function diff(): Promise<string[]> {
  const rows = await src.exec<{ side: string; r: string }>(`
    (SELECT 'missing' side, t::text r FROM ${src.q}.t EXCEPT SELECT 'missing', t::text FROM ${dst.q}.t)
    UNION ALL
    (SELECT 'extra' side, t::text r FROM ${dst.q}.t EXCEPT SELECT 'extra', t::text FROM ${src.q}.t)`);
  return rows.map((r) => `${r.side}: ${r.r}`);
}

describe('pg types round-trip PG -> PG', () => {
  before(async () => {
    await ensureExtensions('hstore', 'citext', 'ltree', 'postgis');
    src = await freshSchema('ferry_pgtypes_src');
    dst = await freshSchema('ferry_pgtypes_dst');
    for (const s of [src, dst]) {
      await s.exec(`SET search_path = ${s.q}, public; CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE TABLE t (${COLUMNS})`);
    }
    await src.exec(`SET search_path = ${src.q}, public; ${ROWS}`);
  });
  after(async () => {
    await src?.drop();
    await dst?.drop();
  });

  it('describes every column with its family', async () => {
    const md = await pgConnector.createMetadata!(pgEndpoint(), ctx);
    try {
      const meta = await md.getTableMeta({ db: src.name, tb: 't' }, signal);
      const fam = Object.fromEntries(meta.columns.map((c) => [c.name, c.family]));
      assert.deepEqual(fam, {
        id: 'int', c_smallint: 'int', c_int: 'int', c_bigint: 'int', c_num: 'decimal', c_num65: 'decimal', c_num_s: 'decimal',
        c_real: 'float', c_double: 'float', c_bool: 'bool', c_bit1: 'bit', c_bit8: 'bit', c_varbit: 'bit',
        c_char: 'string', c_varchar: 'string', c_text: 'string', c_bytea: 'binary', c_date: 'date', c_time: 'time', c_time0: 'time',
        c_timetz: 'time', c_ts: 'datetime', c_ts3: 'datetime', c_tstz: 'timestamptz', c_interval: 'interval', c_uuid: 'uuid',
        c_inet: 'inet', c_cidr: 'inet', c_macaddr: 'inet', c_json: 'json', c_jsonb: 'json', c_intarr: 'array', c_textarr: 'array',
        c_tsarr: 'array', c_enum: 'enum', c_hstore: 'other', c_citext: 'string', c_ltree: 'other', c_geom: 'geometry',
        c_point: 'other', c_range: 'other', c_xml: 'other', c_money: 'other',
      });
      const col = (n: string) => meta.columns.find((c) => c.name === n)!;
      assert.deepEqual(col('c_enum').members, ['sad', 'ok', 'happy']);
      assert.equal(col('c_num65').precision, 65);
      assert.equal(col('c_num65').scale, 30);
      assert.equal(col('c_varchar').length, 50);
      assert.equal(col('c_ts3').precision, 3);
      assert.equal(col('c_bit8').length, 8);
      assert.equal(col('c_num65').nativeType, 'numeric(65,30)');
      assert.equal(col('id').nullable, false);
      assert.equal(col('c_int').nullable, true);
      assert.equal(meta.keyKind, 'primary');
      assert.deepEqual(meta.keyColumns, ['id']);
    } finally {
      await md.close();
    }
  });

  it('emits canonical values', async () => {
    const md = await pgConnector.createMetadata!(pgEndpoint(), ctx);
    const source = await pgConnector.createSnapshotSource!(pgEndpoint(), ctx);
    try {
      const meta = await md.getTableMeta({ db: src.name, tb: 't' }, signal);
      const chunk: ChunkSpec = { id: 'c', table: meta, kind: 'whole', lower: null, upper: null, estimatedRows: 0 };
      const rows: Row[] = [];
      for await (const b of source.readChunk(meta, chunk, { columns: meta.columns.map((c) => c.name), batchSize: 100, signal })) rows.push(...b.rows);
      const [r1, r2, r3, r4, r5] = rows;
      assert.equal(r1.c_bigint, -9223372036854775808n);
      assert.equal(r2.c_bigint, 9223372036854775807n);
      assert.equal(r3.c_bigint, 9007199254740993n);
      assert.equal(r1.c_int, -2147483648);
      assert.equal(r3.c_num, 'NaN');
      assert.equal(r4.c_num, 'Infinity');
      assert.equal(r4.c_num65, '-0.000000000000000000000000000001');
      assert.equal(r2.c_num, '0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001');
      assert.ok(Number.isNaN(r3.c_real as number));
      assert.equal(r4.c_real, Infinity);
      assert.equal(r4.c_double, -Infinity);
      assert.ok(Object.is(r5.c_real, -0));
      // float4 prints its shortest exact decimal; as a JS number it parses back to the same float4.
      assert.equal(r2.c_real, 3.4028235e38);
      assert.equal(r2.c_bool, true);
      assert.equal(r2.c_bit8, '11111111');
      assert.deepEqual(r2.c_bytea, Buffer.from([0, 1, 2, 0xff, 0xfe, 0]));
      assert.deepEqual(r3.c_bytea, Buffer.alloc(0));
      assert.equal(r2.c_ts, '294276-12-31 23:59:59.999999');
      assert.equal(r4.c_ts3, '2000-01-01 00:00:00.000');
      assert.equal(r2.c_tstz, '2024-06-30 23:59:59.999999+00');
      assert.equal(r1.c_ts, '4713-01-01 00:00:00.000000 BC');
      assert.equal(r3.c_date, 'infinity');
      assert.equal(r4.c_time, '12:00:00.500000');
      assert.equal(r4.c_time0, '12:00:01');
      assert.equal(r2.c_text, 'multi\nline\r\nwith\\backslashes and\ttabs');
      assert.equal(r2.c_varchar, 'emoji 😀 ünïcödé ✓');
      assert.equal(r2.c_intarr, '{1,NULL,-3}');
      assert.equal(r2.c_enum, 'sad');
      assert.match(r2.c_geom as string, /^[0-9A-F]+$/);
      assert.equal(r2.c_jsonb, '{"n": 1.230, "z": {"deep": [true, false, null]}}');
      assert.equal(r5.c_text, null);
      assert.equal(r1.c_char, 'a'); // char(10) blanks are not part of the value
      assert.equal(r2.c_char, 'ten chars!');
    } finally {
      await md.close();
      await source.close();
    }
  });

  for (const readMode of ['select', 'copy'] as const) {
    for (const writeMode of ['copy', 'insert'] as const) {
      it(`round-trips exactly (read ${readMode}, write ${writeMode})`, async () => {
        await dst.exec(`DELETE FROM ${dst.q}.t`);
        const md = await pgConnector.createMetadata!(pgEndpoint(), ctx);
        const source = await pgConnector.createSnapshotSource!(pgEndpoint({ raw: { pg_read_mode: readMode } }), ctx);
        const sinker = await pgConnector.createSinker!(pgEndpoint({ raw: { pg_write_mode: writeMode } }), ctx);
        try {
          const meta = await md.getTableMeta({ db: src.name, tb: 't' }, signal);
          const writer = await sinker.openTable({ table: { db: dst.name, tb: 't' }, columns: meta.columns, keyColumns: meta.keyColumns, source: meta }, signal);
          // Two range chunks split at id 3, small pages: exercises bounds and resume keys.
          const chunks: ChunkSpec[] = [
            { id: 'a', table: meta, kind: 'range', lower: null, upper: [3], estimatedRows: 3 },
            { id: 'b', table: meta, kind: 'range', lower: [3], upper: null, estimatedRows: 3 },
          ];
          let n = 0;
          for (const chunk of chunks) {
            for await (const b of source.readChunk(meta, chunk, { columns: meta.columns.map((c) => c.name), batchSize: 2, signal })) {
              await writer.write(b.rows, signal);
              n += b.rows.length;
            }
          }
          assert.equal(n, 6);
          assert.deepEqual(await diff(), []);
          const [{ count }] = await dst.exec<{ count: string }>(`SELECT count(*) FROM ${dst.q}.t`);
          assert.equal(count, '6');
        } finally {
          await md.close();
          await source.close();
          await sinker.close();
        }
      });
    }
  }
});
