/**
 * Every PostgreSQL type round-trips PG -> PG exactly through the canonical values: readChunk from one schema,
 * write into another, then compare with SQL (row text EXCEPT, both ways) so nothing is judged by JS.
 * Run for each read mode x write mode.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChunkSpec } from '../../lib/core/source.ts';
import type { Row } from '../../lib/core/values.ts';
import { memoryLogger } from '../../lib/core/logger.ts';
import { pgConnector } from '../../lib/connectors/pg/index.ts';
import { ensureExtensions, freshSchema, pgEndpoint, testContext, type PgTestSchema } from '../support/pg.ts';
import { PG_TYPE_COLUMNS, PG_TYPE_ROWS } from '../support/pg-type-rows.ts';

const COLUMNS = PG_TYPE_COLUMNS;
const ROWS = PG_TYPE_ROWS;

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

  it('round-trips exactly through the raw COPY pass-through (auto write mode, same types), and raw pages decode to the same rows', async () => {
    await dst.exec(`DELETE FROM ${dst.q}.t`);
    const md = await pgConnector.createMetadata!(pgEndpoint(), ctx);
    const source = await pgConnector.createSnapshotSource!(pgEndpoint(), ctx);
    const log = memoryLogger();
    const sinker = await pgConnector.createSinker!(pgEndpoint({ raw: { pg_write_mode: 'auto' } }), { ...ctx, logger: log });
    try {
      const meta = await md.getTableMeta({ db: src.name, tb: 't' }, signal);
      const writer = await sinker.openTable({ table: { db: dst.name, tb: 't' }, columns: meta.columns, keyColumns: meta.keyColumns, source: meta }, signal);
      // Same types on both sides, but arrays, enums and extension types rule binary COPY out.
      assert.deepEqual(writer.rawFormats, ['pg-copy-data'], 'every column has the same type on both sides');
      const columns = meta.columns.map((c) => c.name);
      const chunks: ChunkSpec[] = [
        { id: 'a', table: meta, kind: 'range', lower: null, upper: [3], estimatedRows: 3 },
        { id: 'b', table: meta, kind: 'range', lower: [3], upper: null, estimatedRows: 3 },
      ];
      const decoded: Row[] = [];
      const keys: unknown[] = [];
      let n = 0;
      for (const chunk of chunks) {
        for await (const b of source.readChunk(meta, chunk, { columns, batchSize: 2, raw: writer.rawFormats, signal })) {
          assert.ok(b.raw, 'keyed COPY pages come raw when asked');
          assert.equal(b.raw.format, 'pg-copy-data');
          await writer.writeRaw!(b.raw, () => b.rows, signal);
          n += b.raw.count;
          keys.push(b.lastKey);
          decoded.push(...b.rows);
        }
      }
      assert.equal(n, 6);
      assert.deepEqual(log.lines.filter((l) => l.msg === 'raw COPY batch takes the row path'), [], 'every page went in as it came');
      assert.deepEqual(keys, [[2], [3], [5], [6]]);
      assert.deepEqual(await diff(), []);
      // The lazily decoded rows of raw pages equal what a plain read gives.
      const plain: Row[] = [];
      for (const chunk of chunks) {
        for await (const b of source.readChunk(meta, chunk, { columns, batchSize: 2, signal })) {
          assert.equal(b.raw, undefined);
          plain.push(...b.rows);
        }
      }
      assert.deepEqual(decoded, plain);
    } finally {
      await md.close();
      await source.close();
      await sinker.close();
    }
  });
});
