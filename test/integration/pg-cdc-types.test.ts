/**
 * CDC values are the snapshot's values: every type of the snapshot round-trip test is inserted, updated and
 * deleted, and each CDC row must deep-equal what the snapshot source reads for the same row (same decoders,
 * same session formats). Domains (with their own typmod) and REPLICA IDENTITY FULL old rows too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Position, RowChange } from '../../lib/core/change.ts';
import type { ChunkSpec } from '../../lib/core/source.ts';
import type { Row } from '../../lib/core/values.ts';
import { pgConnector, type PgCdcSource } from '../../lib/connectors/pg/index.ts';
import { testContext } from '../support/pg.ts';
import { cdcDatabase, collect, commitCount, never, rowsOf, type CdcDb } from './pg-cdc-support.ts';

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

const NON_KEY = [...COLUMNS.matchAll(/\b(c_\w+)\s/g)].map((m) => m[1]).join(', ');
/** Every non-key column of row i takes row 7-i's values. */
const UPDATE_ALL = `UPDATE t SET (${NON_KEY}) = (SELECT ${NON_KEY} FROM t x WHERE x.id = 7 - t.id)`;

let db: CdcDb;
let source: PgCdcSource;
let pos: Position;
const ctx = testContext();

/** What the snapshot source reads now, by id. */
async function snapshot(tb = 't'): Promise<Map<unknown, Row>> {
  const ep = db.endpoint();
  const md = await pgConnector.createMetadata!(ep, ctx);
  const src = await pgConnector.createSnapshotSource!(ep, ctx);
  try {
    const meta = await md.getTableMeta({ db: 'public', tb }, never);
    const chunk: ChunkSpec = { id: 'c', table: meta, kind: 'whole', lower: null, upper: null, estimatedRows: 0 };
    const out = new Map<unknown, Row>();
    for await (const b of src.readChunk(meta, chunk, { columns: meta.columns.map((c) => c.name), batchSize: 100, signal: never })) {
      for (const r of b.rows) out.set(r.id, r);
    }
    return out;
  } finally {
    await md.close();
    await src.close();
  }
}

/** Streams the next `n` transactions from `pos` (acknowledging them) and moves `pos` past them. */
async function next(n = 1): Promise<RowChange[]> {
  const { events } = await collect(source, pos, commitCount(n), { ack: true });
  pos = events.filter((e) => e.kind === 'commit').at(-1)!.position;
  return rowsOf(events);
}

describe('pg cdc values equal snapshot values', () => {
  before(async () => {
    db = await cdcDatabase('ferry_cdc_types');
    await db.exec(`CREATE EXTENSION hstore; CREATE EXTENSION citext; CREATE EXTENSION ltree; CREATE EXTENSION postgis;
      CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE TABLE t (${COLUMNS});
      CREATE DOMAIN amount AS numeric(12,3); CREATE DOMAIN ts3 AS timestamp(3); CREATE DOMAIN small AS varchar(5);
      CREATE TABLE d (id int PRIMARY KEY, c_amount amount, c_ts3 ts3, c_small small[], c_moods mood[])`);
    source = await db.source();
    pos = await source.currentPosition(never);
  });
  after(async () => {
    await source?.close();
    await db?.cleanup();
  });

  it('inserts: every type as the snapshot reads it', async () => {
    await db.exec(ROWS);
    const rows = await next();
    assert.equal(rows.length, 6);
    const snap = await snapshot();
    for (const r of rows) {
      assert.equal(r.op, 'insert');
      assert.deepEqual(r.table, { db: 'public', tb: 't' });
      assert.equal(r.before, null);
      assert.deepStrictEqual(r.after, snap.get(r.after!.id), `row ${r.after!.id}`);
    }
    assert.equal(rows[1].after!.c_bigint, 9223372036854775807n);
    assert.equal(rows[1].after!.c_tstz, '2024-06-30 23:59:59.999999+00');
    assert.deepEqual(rows[1].after!.c_bytea, Buffer.from([0, 1, 2, 0xff, 0xfe, 0]));
  });

  it('updates: after is the new row, before the key (REPLICA IDENTITY DEFAULT)', async () => {
    await db.exec(UPDATE_ALL);
    const rows = await next();
    assert.equal(rows.length, 6);
    const snap = await snapshot();
    for (const r of rows) {
      assert.equal(r.op, 'update');
      assert.deepStrictEqual(r.before, { id: r.after!.id });
      assert.deepStrictEqual(r.after, snap.get(r.after!.id), `row ${r.after!.id}`);
    }
  });

  it('REPLICA IDENTITY FULL: before is the old row as the snapshot read it', async () => {
    await db.exec(`ALTER TABLE t REPLICA IDENTITY FULL`);
    const old = await snapshot();
    await db.exec(UPDATE_ALL);
    const rows = await next();
    const now = await snapshot();
    assert.equal(rows.length, 6);
    for (const r of rows) {
      assert.deepStrictEqual(r.before, old.get(r.after!.id), `old row ${r.after!.id}`);
      assert.deepStrictEqual(r.after, now.get(r.after!.id), `new row ${r.after!.id}`);
    }
  });

  it('deletes: before is the old row (FULL) or the key (DEFAULT)', async () => {
    const old = await snapshot();
    await db.exec(`DELETE FROM t WHERE id <= 3`);
    await db.exec(`ALTER TABLE t REPLICA IDENTITY DEFAULT; DELETE FROM t WHERE id > 3`);
    const rows = await next(2);
    assert.equal(rows.length, 6);
    for (const r of rows) {
      assert.equal(r.op, 'delete');
      assert.equal(r.after, null);
      const id = r.before!.id as number;
      assert.deepStrictEqual(r.before, id <= 3 ? old.get(id) : { id });
    }
  });

  it('domains keep their own typmod (numeric scale, timestamp precision), arrays of domains and enums', async () => {
    await db.exec(`INSERT INTO d VALUES (1, 12.5, '2024-01-02 03:04:05.1', '{ab,"c d"}', '{sad,happy}'), (2, NULL, 'infinity', '{}', NULL)`);
    const rows = await next();
    const snap = await snapshot('d');
    for (const r of rows) assert.deepStrictEqual(r.after, snap.get(r.after!.id));
    assert.equal(rows[0].after!.c_amount, '12.500');
    assert.equal(rows[0].after!.c_ts3, '2024-01-02 03:04:05.100');
  });
});
