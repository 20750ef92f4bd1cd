/**
 * Keys: choice of key, keyMinMax / keyAtOffset boundaries, composite and string keys, nullable unique keys
 * with NULL rows, keyless tables via replaceAll, and identifiers that need quoting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FerryError } from '../../lib/core/errors.ts';
import type { ChunkSpec, MetadataAccessor, SnapshotSource } from '../../lib/core/source.ts';
import type { Sinker } from '../../lib/core/sinker.ts';
import type { TableMeta } from '../../lib/core/table.ts';
import type { KeyTuple, Row } from '../../lib/core/values.ts';
import { pgConnector } from '../../lib/connectors/pg/index.ts';
import { freshSchema, pgEndpoint, testContext, type PgTestSchema } from '../support/pg.ts';

const ctx = testContext();
const signal = ctx.signal;
let s: PgTestSchema;
let d: PgTestSchema;
let md: MetadataAccessor;

const meta = (tb: string, db = s.name) => md.getTableMeta({ db, tb }, signal);

/** Cuts a table into range chunks of `size` rows with keyAtOffset, plus a null-key chunk when needed. */
async function planChunks(m: TableMeta, size: number): Promise<ChunkSpec[]> {
  const chunks: ChunkSpec[] = [];
  let lower: KeyTuple | null = null;
  for (let i = 0; ; i++) {
    const upper = await md.keyAtOffset(m, lower, size, undefined, signal);
    chunks.push({ id: `c${i}`, table: m, kind: 'range', lower, upper, estimatedRows: size });
    if (!upper) break;
    lower = upper;
  }
  if (await md.hasNullKeys(m, signal)) chunks.push({ id: 'nk', table: m, kind: 'null-key', lower: null, upper: null, estimatedRows: 0 });
  return chunks;
}

async function copyTable(source: SnapshotSource, sinker: Sinker, m: TableMeta, dstDb: string, size: number, batchSize: number): Promise<number> {
  const writer = await sinker.openTable({ table: { db: dstDb, tb: m.tb }, columns: m.columns, keyColumns: m.keyColumns, source: m }, signal);
  let n = 0;
  for (const chunk of await planChunks(m, size)) {
    for await (const b of source.readChunk(m, chunk, { columns: m.columns.map((c) => c.name), batchSize, signal })) {
      await writer.write(b.rows, signal);
      n += b.rows.length;
    }
  }
  return n;
}

/** Multiset difference of two tables' row texts (EXCEPT ALL both ways). */
async function tableDiff(a: string, b: string): Promise<string[]> {
  const rows = await s.exec<{ r: string }>(`(SELECT t::text r FROM ${a} t EXCEPT ALL SELECT t::text FROM ${b} t)
    UNION ALL (SELECT '+' || t::text FROM ${b} t EXCEPT ALL SELECT '+' || t::text FROM ${a} t)`);
  return rows.map((r) => r.r);
}

describe('pg keys and chunk boundaries', () => {
  before(async () => {
    s = await freshSchema('ferry_pgkeys_src');
    d = await freshSchema('ferry_pgkeys_dst');
    md = await pgConnector.createMetadata!(pgEndpoint(), ctx);
    await s.exec(`SET search_path = ${s.q};
      CREATE TABLE seq (id int PRIMARY KEY, v text);
      INSERT INTO seq SELECT g, 'v' || g FROM generate_series(1, 10) g;
      CREATE TABLE empty (id int PRIMARY KEY);
      CREATE TABLE uq (a int NOT NULL, b int NOT NULL, c int NOT NULL, UNIQUE (a, b), UNIQUE (c));
      CREATE TABLE uq_partial (a int NOT NULL, b int);
      CREATE UNIQUE INDEX ON uq_partial (a) WHERE a > 0;
      CREATE UNIQUE INDEX ON uq_partial ((b + 1));
      CREATE TABLE uq_null (u int UNIQUE, v text);
      CREATE TABLE nokey (a int, b text);
      CREATE TABLE parted (id int PRIMARY KEY, v int) PARTITION BY RANGE (id);
      CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100);
      CREATE VIEW a_view AS SELECT 1 AS x;`);
  });
  after(async () => {
    await md?.close();
    await s?.drop();
    await d?.drop();
  });

  it('chooses PRIMARY KEY, then the smallest NOT NULL unique, then a nullable unique, else none', async () => {
    assert.deepEqual([(await meta('seq')).keyKind, (await meta('seq')).keyColumns], ['primary', ['id']]);
    const uq = await meta('uq');
    assert.deepEqual([uq.keyKind, uq.keyColumns, uq.keyNullable, uq.uniqueKeys], ['unique', ['c'], false, [['a', 'b']]]);
    assert.deepEqual([(await meta('uq_partial')).keyKind], ['none']);
    const un = await meta('uq_null');
    assert.deepEqual([un.keyKind, un.keyColumns, un.keyNullable], ['unique', ['u'], true]);
    assert.deepEqual([(await meta('nokey')).keyKind, (await meta('nokey')).keyColumns], ['none', []]);
  });

  it('lists schemas and tables (partitioned parent, not partitions or views)', async () => {
    const dbs = await md.listDatabases(signal);
    assert.ok(dbs.includes(s.name) && dbs.includes('public'));
    assert.ok(!dbs.some((x) => x === 'pg_catalog' || x === 'information_schema' || x.startsWith('pg_toast') || x.startsWith('pg_temp')));
    assert.deepEqual(await md.listTables(s.name, signal), ['empty', 'nokey', 'parted', 'seq', 'uq', 'uq_null', 'uq_partial']);
  });

  it('getTableMeta of a missing table is MD001 naming schema.table', async () => {
    await assert.rejects(meta('nope'), (e: FerryError) => e.code === 'MD001' && e.message.includes(`${s.name}.nope`));
  });

  it('estimates rows from statistics (0 before ANALYZE, never -1)', async () => {
    assert.equal((await meta('empty')).estimatedRows, 0);
    await s.exec(`ANALYZE ${s.q}.seq`);
    assert.equal((await meta('seq')).estimatedRows, 10);
  });

  it('keyMinMax and keyAtOffset at the boundaries', async () => {
    const m = await meta('seq');
    assert.deepEqual(await md.keyMinMax(m, undefined, signal), { min: [1], max: [10] });
    assert.deepEqual(await md.keyMinMax(m, 'id % 2 = 0', signal), { min: [2], max: [10] });
    assert.equal(await md.keyMinMax(await meta('empty'), undefined, signal), null);
    assert.deepEqual(await md.keyAtOffset(m, null, 1, undefined, signal), [1]);
    assert.deepEqual(await md.keyAtOffset(m, null, 10, undefined, signal), [10]);
    assert.equal(await md.keyAtOffset(m, null, 11, undefined, signal), null);
    assert.deepEqual(await md.keyAtOffset(m, [5], 5, undefined, signal), [10]);
    assert.equal(await md.keyAtOffset(m, [5], 6, undefined, signal), null);
    assert.equal(await md.keyAtOffset(m, [10], 1, undefined, signal), null);
    assert.deepEqual(await md.keyAtOffset(m, [0], 1, undefined, signal), [1]);
    assert.deepEqual(await md.keyAtOffset(m, [2], 2, 'id % 2 = 0', signal), [6]);
    assert.equal(await md.hasNullKeys(m, signal), false);
  });

  it('reads range chunks with exclusive lower, inclusive upper and exact resume keys', async () => {
    const m = await meta('seq');
    const source = await pgConnector.createSnapshotSource!(pgEndpoint(), ctx);
    try {
      const read = async (chunk: Partial<ChunkSpec>, batchSize: number, after?: KeyTuple) => {
        const out: Array<{ ids: number[]; lastKey: KeyTuple | null }> = [];
        const spec = { id: 'x', table: m, kind: 'range', lower: null, upper: null, estimatedRows: 0, ...chunk } as ChunkSpec;
        for await (const b of source.readChunk(m, spec, { columns: ['v'], batchSize, signal, after })) {
          out.push({ ids: b.rows.map((r) => r.id as number), lastKey: b.lastKey });
          assert.ok(b.bytes > 0);
        }
        return out;
      };
      assert.deepEqual(await read({ lower: [3], upper: [7] }, 2), [
        { ids: [4, 5], lastKey: [5] },
        { ids: [6, 7], lastKey: [7] },
      ]);
      assert.deepEqual(await read({ lower: [3], upper: [7] }, 2, [5]), [{ ids: [6, 7], lastKey: [7] }]);
      assert.deepEqual(await read({ lower: [8], upper: null }, 5), [{ ids: [9, 10], lastKey: [10] }]);
      assert.deepEqual(await read({ lower: [10], upper: null }, 5), []);
      assert.deepEqual((await read({ kind: 'whole' }, 4)).map((b) => b.ids), [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]);
      const filtered = await (async () => {
        const out: number[] = [];
        const spec: ChunkSpec = { id: 'w', table: m, kind: 'whole', lower: null, upper: null, estimatedRows: 0 };
        for await (const b of source.readChunk(m, spec, { columns: ['id', 'v'], batchSize: 3, signal, where: "v LIKE 'v1%' OR id = 2" })) out.push(...b.rows.map((r) => r.id as number));
        return out;
      })();
      assert.deepEqual(filtered, [1, 2, 10]);
    } finally {
      await source.close();
    }
  });

  for (const mode of ['copy', 'insert'] as const) {
    it(`copies composite and string keys through cut chunks (write ${mode})`, async () => {
      const tag = `ck_${mode}`;
      await s.exec(`CREATE TABLE ${s.q}.${tag} (a int, b text COLLATE "C", c text, PRIMARY KEY (a, b));
        INSERT INTO ${s.q}.${tag} SELECT g % 7, chr(65 + g % 26) || g || (CASE WHEN g % 5 = 0 THEN ' ü😀' ELSE 'z' END), 'row ' || g FROM generate_series(1, 500) g;`);
      await d.exec(`CREATE TABLE ${d.q}.${tag} (a int, b text COLLATE "C", c text, PRIMARY KEY (a, b))`);
      const source = await pgConnector.createSnapshotSource!(pgEndpoint(), ctx);
      const sinker = await pgConnector.createSinker!(pgEndpoint({ raw: { pg_write_mode: mode } }), ctx);
      try {
        const m = await meta(tag);
        assert.deepEqual(m.keyColumns, ['a', 'b']);
        assert.equal(await copyTable(source, sinker, m, d.name, 37, 10), 500);
        assert.deepEqual(await tableDiff(`${s.q}.${tag}`, `${d.q}.${tag}`), []);
        // A string-keyed table with a non-C collation: bounds come from and are compared in the database.
        await s.exec(`CREATE TABLE ${s.q}.${tag}_s (k varchar(40) PRIMARY KEY, n int);
          INSERT INTO ${s.q}.${tag}_s SELECT md5(g::text) || CASE WHEN g % 3 = 0 THEN 'Ä' ELSE 'a' END, g FROM generate_series(1, 300) g;`);
        await d.exec(`CREATE TABLE ${d.q}.${tag}_s (k varchar(40) PRIMARY KEY, n int)`);
        assert.equal(await copyTable(source, sinker, await meta(`${tag}_s`), d.name, 41, 16), 300);
        assert.deepEqual(await tableDiff(`${s.q}.${tag}_s`, `${d.q}.${tag}_s`), []);
      } finally {
        await source.close();
        await sinker.close();
      }
    });
  }

  it('nullable unique keys: NULL-key rows in their own chunk, written idempotently', async () => {
    await s.exec(`SET search_path = ${s.q};
      CREATE TABLE nk (a int, b int, v text, UNIQUE (a, b));
      INSERT INTO nk VALUES (1, 1, 'x'), (1, NULL, 'dup'), (1, NULL, 'dup'), (1, NULL, 'dup'), (2, NULL, 'y'), (NULL, NULL, 'z'), (2, 2, 'w'), (3, 1, 'q');`);
    await d.exec(`CREATE TABLE ${d.q}.nk (a int, b int, v text, UNIQUE (a, b))`);
    const m = await meta('nk');
    assert.deepEqual([m.keyKind, m.keyColumns, m.keyNullable], ['unique', ['a', 'b'], true]);
    assert.equal(await md.hasNullKeys(m, signal), true);
    assert.deepEqual(await md.keyMinMax(m, undefined, signal), { min: [1, 1], max: [3, 1] });
    for (const mode of ['copy', 'insert'] as const) {
      const source = await pgConnector.createSnapshotSource!(pgEndpoint(), ctx);
      const sinker = await pgConnector.createSinker!(pgEndpoint({ raw: { pg_write_mode: mode } }), ctx);
      try {
        // Range chunks never include a NULL-key row, even (2, NULL) which (2, NULL) > (1, 1) would admit.
        const ranges: Row[] = [];
        const all: ChunkSpec = { id: 'r', table: m, kind: 'range', lower: [1, 1], upper: null, estimatedRows: 0 };
        for await (const b of source.readChunk(m, all, { columns: ['v'], batchSize: 10, signal })) ranges.push(...b.rows);
        assert.deepEqual(ranges.map((r) => r.v), ['w', 'q']);
        // Three identical NULL-key rows with batchSize 2: the batch stretches so the copies stay together.
        for (let round = 0; round < 2; round++) assert.equal(await copyTable(source, sinker, m, d.name, 2, 2), 8);
        assert.deepEqual(await tableDiff(`${s.q}.nk`, `${d.q}.nk`), []);
        // A whole-table read of a nullable key covers both parts.
        const whole: ChunkSpec = { id: 'w', table: m, kind: 'whole', lower: null, upper: null, estimatedRows: 0 };
        let n = 0;
        for await (const b of source.readChunk(m, whole, { columns: ['v'], batchSize: 2, signal })) n += b.rows.length;
        assert.equal(n, 8);
      } finally {
        await source.close();
        await sinker.close();
      }
    }
  });

  it('keyless tables: replaceAll twice leaves the same content (duplicates kept)', async () => {
    await s.exec(`INSERT INTO ${s.q}.nokey SELECT g % 4, 'v' || (g % 3) FROM generate_series(1, 250) g`);
    await d.exec(`CREATE TABLE ${d.q}.nokey (a int, b text); INSERT INTO ${d.q}.nokey VALUES (99, 'stale')`);
    const m = await meta('nokey');
    for (const mode of ['copy', 'insert'] as const) {
      const source = await pgConnector.createSnapshotSource!(pgEndpoint(), ctx);
      const sinker = await pgConnector.createSinker!(pgEndpoint({ raw: { pg_write_mode: mode } }), ctx);
      try {
        assert.equal(sinker.capabilities.replaceAll, true);
        const writer = await sinker.openTable({ table: { db: d.name, tb: 'nokey' }, columns: m.columns, keyColumns: [], source: m }, signal);
        await assert.rejects(writer.write([{ a: 1, b: 'x' }], signal), (e: FerryError) => e.code === 'RT002');
        for (let round = 0; round < 2; round++) {
          const chunk: ChunkSpec = { id: 'w', table: m, kind: 'whole', lower: null, upper: null, estimatedRows: 0 };
          async function* batches() {
            for await (const b of source.readChunk(m, chunk, { columns: ['a', 'b'], batchSize: 64, signal })) {
              assert.equal(b.lastKey, null);
              yield b.rows;
            }
          }
          assert.equal(await writer.replaceAll!(batches(), signal), 250);
          assert.deepEqual(await tableDiff(`${s.q}.nokey`, `${d.q}.nokey`), []);
        }
      } finally {
        await source.close();
        await sinker.close();
      }
    }
  });

  it('names with quotes, spaces, unicode, upper case and reserved words', async () => {
    const schema = await freshSchema('x', `Weird "Schema" ü ${process.pid}`);
    const target = await freshSchema('x', `Target Schema ${process.pid}`);
    try {
      const tb = 'Select "T" ünï';
      const cols = `"Order" int, "user name" text, "q""uote" text, "Ünï" numeric, "UPPER" bool, "from" date, PRIMARY KEY ("Order", "user name")`;
      await schema.exec(`CREATE TABLE ${schema.q}."Select ""T"" ünï" (${cols});
        INSERT INTO ${schema.q}."Select ""T"" ünï" SELECT g, 'n' || g, 'q' || g, g / 3.0, g % 2 = 0, date '2024-01-01' + g FROM generate_series(1, 50) g;`);
      await target.exec(`CREATE TABLE ${target.q}."Select ""T"" ünï" (${cols})`);
      assert.ok((await md.listTables(schema.name, signal)).includes(tb));
      const m = await md.getTableMeta({ db: schema.name, tb }, signal);
      assert.deepEqual(m.keyColumns, ['Order', 'user name']);
      for (const mode of ['copy', 'insert'] as const) {
        const source = await pgConnector.createSnapshotSource!(pgEndpoint({ raw: { pg_read_mode: mode === 'copy' ? 'copy' : 'select' } }), ctx);
        const sinker = await pgConnector.createSinker!(pgEndpoint({ raw: { pg_write_mode: mode } }), ctx);
        try {
          assert.equal(await copyTable(source, sinker, m, target.name, 7, 5), 50);
        } finally {
          await source.close();
          await sinker.close();
        }
      }
      const q = (x: PgTestSchema) => `${x.q}."Select ""T"" ünï"`;
      assert.deepEqual(await tableDiff(q(schema), q(target)), []);
    } finally {
      await schema.drop();
      await target.drop();
    }
  });
});
