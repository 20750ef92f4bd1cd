/**
 * Canonical rows as the MySQL connector emits them, written into the PostgreSQL types of the usual
 * MySQL -> PostgreSQL mapping (TINYINT -> SMALLINT, DATETIME -> TIMESTAMP, JSON -> JSONB, BIGINT UNSIGNED ->
 * NUMERIC(20,0), BLOB -> BYTEA, GEOMETRY -> PostGIS geometry...). Checked with SQL text output.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FerryError } from '../../lib/core/errors.ts';
import type { ColumnMeta } from '../../lib/core/table.ts';
import type { Row, TypeFamily } from '../../lib/core/values.ts';
import { pgConnector } from '../../lib/connectors/pg/index.ts';
import { ensureExtensions, freshSchema, pgEndpoint, testContext, type PgTestSchema } from '../support/pg.ts';

const ctx = testContext();
const signal = ctx.signal;
let s: PgTestSchema;

/** [column, MySQL type (for the reader), source family, PostgreSQL target type] */
const MAP: Array<[string, string, TypeFamily, string]> = [
  ['id', 'int', 'int', 'int PRIMARY KEY'],
  ['c_tinyint', 'tinyint', 'int', 'smallint'],
  ['c_tinyint1', 'tinyint(1)', 'int', 'boolean'],
  ['c_mediumint', 'mediumint', 'int', 'integer'],
  ['c_uint', 'int unsigned', 'uint', 'bigint'],
  ['c_bigint', 'bigint', 'int', 'bigint'],
  ['c_ubig', 'bigint unsigned', 'uint', 'numeric(20,0)'],
  ['c_decimal', 'decimal(12,4)', 'decimal', 'numeric(12,4)'],
  ['c_float', 'float', 'float', 'real'],
  ['c_double', 'double', 'float', 'double precision'],
  ['c_bit', 'bit(10)', 'bit', 'bit(10)'],
  ['c_bit1', 'bit(1)', 'bit', 'boolean'],
  ['c_bit_varbit', 'bit(64)', 'bit', 'varbit(64)'],
  ['c_date', 'date', 'date', 'date'],
  ['c_datetime', 'datetime(6)', 'datetime', 'timestamp(6)'],
  ['c_dt_tz', 'datetime(6)', 'datetime', 'timestamptz'],
  ['c_ts', 'timestamp(6)', 'timestamptz', 'timestamptz'],
  ['c_ts_wall', 'timestamp(6)', 'timestamptz', 'timestamp(6)'],
  ['c_time', 'time(6)', 'time', 'time(6)'],
  ['c_time_long', 'time', 'time', 'interval'],
  ['c_year', 'year', 'year', 'smallint'],
  ['c_char', 'char(5)', 'string', 'char(5)'],
  ['c_varchar', 'varchar(20)', 'string', 'varchar(20)'],
  ['c_text', 'longtext', 'string', 'text'],
  ['c_blob', 'blob', 'binary', 'bytea'],
  ['c_enum', "enum('small','medium','large')", 'enum', 'varchar(10)'],
  ['c_enum_pg', "enum('small','medium','large')", 'enum', 'size_t'],
  ['c_set', "set('a','b','c')", 'set', 'varchar(10)'],
  ['c_set_arr', "set('a','b','c')", 'set', 'text[]'],
  ['c_json', 'json', 'json', 'jsonb'],
  ['c_json_plain', 'json', 'json', 'json'],
  ['c_geom', 'geometry', 'geometry', 'public.geometry'],
  ['c_uuid', 'binary(16)', 'binary', 'uuid'],
  ['c_zero_text', 'date', 'date', 'text'],
];

const columns: ColumnMeta[] = MAP.map(([name, nativeType, family]) => ({ name, nativeType, family, nullable: name !== 'id' }));

/** MySQL's internal geometry: 4-byte little-endian SRID, then WKB (here POINT(1 2), little-endian). */
function mysqlPoint(srid: number, x: number, y: number): Buffer {
  const b = Buffer.alloc(25);
  b.writeUInt32LE(srid, 0);
  b[4] = 1;
  b.writeUInt32LE(1, 5);
  b.writeDoubleLE(x, 9);
  b.writeDoubleLE(y, 17);
  return b;
}

const ROWS: Row[] = [
  {
    id: 1, c_tinyint: -128, c_tinyint1: 1, c_mediumint: -8388608, c_uint: 4294967295, c_bigint: -9223372036854775808n,
    c_ubig: 18446744073709551615n, c_decimal: '-12345678.9012', c_float: 3.14, c_double: 2.718281828459045,
    c_bit: '1000000001', c_bit1: '1', c_bit_varbit: '0000000000000000000000000000000000000000000000000000000000000101',
    c_date: '2024-02-29', c_datetime: '2024-01-02 03:04:05.123456', c_dt_tz: '2024-01-02 03:04:05.123456',
    c_ts: '2024-01-02 03:04:05.123456+08:00', c_ts_wall: '2024-01-02 03:04:05.5-02:30', c_time: '12:34:56.500000',
    c_time_long: '-838:59:59', c_year: 2024, c_char: 'ab', c_varchar: 'ünïcødé 😀', c_text: 'line1\nline2\t\\',
    c_blob: Buffer.from([0, 1, 2, 0xff, 0]), c_enum: 'medium', c_enum_pg: 'large', c_set: 'a,c', c_set_arr: 'a,c',
    c_json: '{"b": 2, "a": [1, "x"]}', c_json_plain: '{"b":2,  "a":1}', c_geom: mysqlPoint(4326, 1, 2),
    c_uuid: Buffer.from('a0eebc999c0b4ef8bb6d6bb9bd380a11', 'hex'), c_zero_text: '0000-00-00',
  },
  {
    id: 2, c_tinyint: 127, c_tinyint1: 0, c_mediumint: 8388607, c_uint: 0, c_bigint: 9223372036854775807n,
    c_ubig: 0, c_decimal: '0.0000', c_float: -0, c_double: 1e-300, c_bit: '0000000000', c_bit1: '0', c_bit_varbit: '0',
    c_date: '1000-01-01', c_datetime: '1000-01-01 00:00:00', c_dt_tz: '9999-12-31 23:59:59.999999',
    c_ts: '1970-01-01 00:00:01Z', c_ts_wall: '2038-01-19 03:14:07.999999+00:00', c_time: '00:00:00',
    c_time_long: '838:59:59.000000', c_year: 1901, c_char: '', c_varchar: '', c_text: '', c_blob: Buffer.alloc(0),
    c_enum: '', c_enum_pg: 'small', c_set: '', c_set_arr: '', c_json: 'null', c_json_plain: '[]', c_geom: mysqlPoint(0, -1.5, 0.25),
    c_uuid: null, c_zero_text: null,
  },
  Object.fromEntries(MAP.map(([n]) => [n, n === 'id' ? 3 : null])),
];

const EXPECT: Array<Record<string, string | null>> = [
  {
    id: '1', c_tinyint: '-128', c_tinyint1: 'true', c_mediumint: '-8388608', c_uint: '4294967295', c_bigint: '-9223372036854775808',
    c_ubig: '18446744073709551615', c_decimal: '-12345678.9012', c_float: '3.14', c_double: '2.718281828459045',
    c_bit: '1000000001', c_bit1: 'true', c_bit_varbit: '0000000000000000000000000000000000000000000000000000000000000101',
    c_date: '2024-02-29', c_datetime: '2024-01-02 03:04:05.123456', c_dt_tz: '2024-01-02 03:04:05.123456+00',
    c_ts: '2024-01-01 19:04:05.123456+00', c_ts_wall: '2024-01-02 05:34:05.5', c_time: '12:34:56.5', c_time_long: '-838:59:59',
    c_year: '2024', c_char: 'ab', c_varchar: 'ünïcødé 😀', c_text: 'line1\nline2\t\\', c_blob: '\\x000102ff00',
    c_enum: 'medium', c_enum_pg: 'large', c_set: 'a,c', c_set_arr: '{a,c}', c_json: '{"a": [1, "x"], "b": 2}',
    c_json_plain: '{"b":2,  "a":1}', c_geom: 'SRID=4326;POINT(1 2)', c_uuid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', c_zero_text: '0000-00-00',
  },
  {
    id: '2', c_tinyint: '127', c_tinyint1: 'false', c_mediumint: '8388607', c_uint: '0', c_bigint: '9223372036854775807',
    c_ubig: '0', c_decimal: '0.0000', c_float: '-0', c_double: '1e-300', c_bit: '0000000000', c_bit1: 'false', c_bit_varbit: '0',
    c_date: '1000-01-01', c_datetime: '1000-01-01 00:00:00', c_dt_tz: '9999-12-31 23:59:59.999999+00',
    c_ts: '1970-01-01 00:00:01+00', c_ts_wall: '2038-01-19 03:14:07.999999', c_time: '00:00:00', c_time_long: '838:59:59',
    c_year: '1901', c_char: '', c_varchar: '', c_text: '', c_blob: '\\x', c_enum: '', c_enum_pg: 'small', c_set: '',
    c_set_arr: '{}', c_json: 'null', c_json_plain: '[]', c_geom: 'POINT(-1.5 0.25)', c_uuid: null, c_zero_text: null,
  },
  Object.fromEntries(MAP.map(([n]) => [n, n === 'id' ? '3' : null])),
];

describe('pg sinker takes MySQL-family canonical values', () => {
  before(async () => {
    await ensureExtensions('postgis');
    s = await freshSchema('ferry_pgmy');
  });
  after(async () => {
    await s?.drop();
  });

  for (const mode of ['copy', 'insert'] as const) {
    it(`writes them by target type (write ${mode})`, async () => {
      const tb = `my_${mode}`;
      await s.exec(`SET search_path = ${s.q}, public;
        DO $$ BEGIN CREATE TYPE size_t AS ENUM ('small', 'medium', 'large'); EXCEPTION WHEN duplicate_object THEN NULL; END $$;
        CREATE TABLE ${tb} (${MAP.map(([n, , , t]) => `${n} ${t}`).join(', ')})`);
      const sk = await pgConnector.createSinker!(pgEndpoint({ raw: { pg_write_mode: mode } }), ctx);
      try {
        const w = await sk.openTable({ table: { db: s.name, tb }, columns, keyColumns: ['id'], source: { db: 'mysql_db', tb } }, signal);
        await w.write(ROWS, signal);
        await w.write(ROWS, signal);
        await assert.rejects(w.write([{ ...ROWS[0], id: 9, c_datetime: '0000-00-00 00:00:00' }], signal), (e: FerryError) =>
          e.code === 'IN001' && e.message.includes(`${s.name}.${tb}`) && e.message.includes('(column c_datetime) at key id=9'),
        );
        await assert.rejects(w.write([{ ...ROWS[0], id: 9, c_date: '2024-00-10' }], signal), (e: FerryError) => e.code === 'IN001' && e.message.includes('(column c_date)'));
        await assert.rejects(w.write([{ ...ROWS[0], id: 9, c_time: '25:00:00' }], signal), (e: FerryError) => e.code === 'IN001' && e.message.includes('at key id=9'));
      } finally {
        await sk.close();
      }
      const select = MAP.map(([n, , , t]) => (t.includes('geometry') ? `public.ST_AsEWKT(${n}) ${n}` : `${n}::text ${n}`)).join(', ');
      const got = await s.exec(`SET search_path = ${s.q}, public; SELECT ${select} FROM ${s.q}.${tb} ORDER BY id`);
      assert.deepEqual(got, EXPECT);
    });
  }
});
