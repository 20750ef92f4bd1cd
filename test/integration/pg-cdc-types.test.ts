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
import { PG_TYPE_COLUMNS, PG_TYPE_ROWS } from '../support/pg-type-rows.ts';

const COLUMNS = PG_TYPE_COLUMNS;
const ROWS = PG_TYPE_ROWS;

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
