/**
 * Keys: choice of key, chunk boundaries (keyMinMax / keyAtOffset), keyset reads over composite, string,
 * binary, unsigned, decimal and enum keys, NULL-key rows, and keyless tables through replaceAll.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../lib/core/logger.ts';
import type { ChunkSpec } from '../../lib/core/source.ts';
import type { TableMeta } from '../../lib/core/table.ts';
import type { KeyTuple, Row } from '../../lib/core/values.ts';
import { createMysqlMetadata, createMysqlSinker, createMysqlSnapshotSource } from '../../lib/connectors/mysql/index.ts';
import type { MysqlMetadata } from '../../lib/connectors/mysql/metadata.ts';
import type { MysqlSinker } from '../../lib/connectors/mysql/sinker.ts';
import type { MysqlSnapshotSource } from '../../lib/connectors/mysql/snapshot-source.ts';
import { exactSelect, freshMysqlDb, mysqlEndpoint, type TestDb } from '../support/mysql.ts';

const signal = new AbortController().signal;
const ctx = { logger: silentLogger, signal };

describe('mysql keys', () => {
  let src: TestDb;
  let dst: TestDb;
  let md: MysqlMetadata;
  let source: MysqlSnapshotSource;
  let sinker: MysqlSinker;

  before(async () => {
    src = await freshMysqlDb('mysql_keys_src');
    dst = await freshMysqlDb('mysql_keys_dst');
    md = await createMysqlMetadata(mysqlEndpoint(), ctx);
    source = await createMysqlSnapshotSource(mysqlEndpoint(), ctx);
    sinker = await createMysqlSinker(mysqlEndpoint(), ctx);
  });
  after(async () => {
    await md?.close();
    await source?.close();
    await sinker?.close();
    await src?.drop();
    await dst?.drop();
  });

  /** Chunks of about `per` rows cut with keyAtOffset, plus the null-key chunk when there are NULL keys. */
  async function plan(meta: TableMeta, per: number, where?: string): Promise<ChunkSpec[]> {
    const chunks: ChunkSpec[] = [];
    let lower: KeyTuple | null = null;
    for (let i = 0; ; i++) {
      const upper = await md.keyAtOffset(meta, lower, per, where, signal);
      chunks.push({ id: `c${i}`, table: meta, kind: 'range', lower, upper, estimatedRows: per });
      if (!upper) break;
      lower = upper;
    }
    if (await md.hasNullKeys(meta, signal)) chunks.push({ id: 'null', table: meta, kind: 'null-key', lower: null, upper: null, estimatedRows: 0 });
    return chunks;
  }

  async function read(meta: TableMeta, chunks: ChunkSpec[], batchSize: number, where?: string): Promise<Row[][]> {
    const out: Row[][] = [];
    for (const c of chunks) {
      for await (const b of source.readChunk(meta, c, { columns: meta.columns.map((x) => x.name), batchSize, where, signal })) out.push(b.rows);
    }
    return out;
  }

  async function copy(meta: TableMeta, chunks: ChunkSpec[], batchSize: number, tb = meta.tb): Promise<void> {
    const w = await sinker.openTable({ table: { db: dst.name, tb }, columns: meta.columns, keyColumns: meta.keyColumns, source: meta }, signal);
    for (const rows of await read(meta, chunks, batchSize)) await w.write(rows, signal);
  }

  async function sameContent(meta: TableMeta, order: string[]) {
    const want = await src.query(exactSelect(src.name, meta.tb, meta.columns, order));
    const got = await dst.query(exactSelect(dst.name, meta.tb, meta.columns, order));
    assert.deepEqual(got, want);
  }

  it('chooses PRIMARY, else the smallest NOT NULL unique key, else a nullable one', async () => {
    await src.exec(`
      CREATE TABLE k_pk (a INT, b INT, c INT NOT NULL, PRIMARY KEY (a, b), UNIQUE KEY u (c));
      CREATE TABLE k_uniq (a INT NOT NULL, b INT NOT NULL, c INT, d INT NOT NULL, UNIQUE KEY u_ab (a, b), UNIQUE KEY u_c (c), UNIQUE KEY u_d (d));
      CREATE TABLE k_null (a INT, b INT, UNIQUE KEY u_ab (a, b));
      CREATE TABLE k_none (a INT, b INT, KEY (a));`);
    const pk = await md.getTableMeta({ db: src.name, tb: 'k_pk' }, signal);
    assert.deepEqual([pk.keyKind, pk.keyColumns, pk.keyNullable, pk.uniqueKeys], ['primary', ['a', 'b'], false, [['c']]]);
    const uq = await md.getTableMeta({ db: src.name, tb: 'k_uniq' }, signal);
    assert.deepEqual([uq.keyKind, uq.keyColumns, uq.keyNullable], ['unique', ['d'], false]);
    const nl = await md.getTableMeta({ db: src.name, tb: 'k_null' }, signal);
    assert.deepEqual([nl.keyKind, nl.keyColumns, nl.keyNullable], ['unique', ['a', 'b'], true]);
    const none = await md.getTableMeta({ db: src.name, tb: 'k_none' }, signal);
    assert.deepEqual([none.keyKind, none.keyColumns], ['none', []]);
    const tables = await md.listTables(src.name, signal);
    assert.deepEqual(tables, ['k_none', 'k_null', 'k_pk', 'k_uniq']);
    const dbs = await md.listDatabases(signal);
    assert.ok(dbs.includes(src.name));
    for (const sys of ['mysql', 'information_schema', 'performance_schema', 'sys']) assert.ok(!dbs.includes(sys), sys);
  });

  it('getTableMeta of a missing table throws MD001 naming db.tb', async () => {
    await assert.rejects(md.getTableMeta({ db: src.name, tb: 'nope' }, signal), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'MD001');
      assert.match(e.message, new RegExp(`${src.name}\\.nope`));
      return true;
    });
  });

  it('composite (int, case-insensitive string) key: boundaries are exact and chunks cover every row once', async () => {
    const words = ['a', 'B', 'b2', 'c d', "o'k", 'back\\slash', 'Ö', 'z', 'émoji😀', 'ß', 'SS2', ''];
    const values: string[] = [];
    for (let i = 0; i < 50; i++) for (const w of words) values.push(`(${i % 7}, '${(w + i).replace(/\\/g, '\\\\').replace(/'/g, "''")}', ${i})`);
    await src.exec(`CREATE TABLE comp (a INT NOT NULL, s VARCHAR(40) COLLATE utf8mb4_general_ci NOT NULL, v INT, PRIMARY KEY (a, s));
      INSERT INTO comp VALUES ${values.join(',')}`);
    const meta = await md.getTableMeta({ db: src.name, tb: 'comp' }, signal);
    const mm = await md.keyMinMax(meta, undefined, signal);
    const [first] = await src.query<{ a: number; s: string }>('SELECT a, s FROM comp ORDER BY a, s LIMIT 1');
    const [last] = await src.query<{ a: number; s: string }>('SELECT a, s FROM comp ORDER BY a DESC, s DESC LIMIT 1');
    assert.deepEqual(mm, { min: [first.a, first.s], max: [last.a, last.s] });
    // keyAtOffset agrees with the server's own OFFSET in key order.
    for (const n of [1, 37, 200, 599, 600]) {
      const [want] = await src.query<{ a: number; s: string }>(`SELECT a, s FROM comp ORDER BY a, s LIMIT 1 OFFSET ${n - 1}`);
      assert.deepEqual(await md.keyAtOffset(meta, null, n, undefined, signal), [want.a, want.s], `offset ${n}`);
    }
    assert.equal(await md.keyAtOffset(meta, null, 601, undefined, signal), null);
    const mid = (await md.keyAtOffset(meta, null, 100, undefined, signal))!;
    const [want] = await src.query<{ a: number; s: string }>('SELECT a, s FROM comp ORDER BY a, s LIMIT 1 OFFSET 149');
    assert.deepEqual(await md.keyAtOffset(meta, mid, 50, undefined, signal), [want.a, want.s]);

    // A whole chunk of a NOT NULL key reads by keyset too: every batch carries its resume key.
    const lastKeys: unknown[] = [];
    for await (const b of source.readChunk(meta, { id: 'w', table: meta, kind: 'whole', lower: null, upper: null, estimatedRows: 0 }, { columns: ['v'], batchSize: 250, signal })) {
      lastKeys.push(b.lastKey);
      assert.deepEqual(Object.keys(b.rows[0]), ['v'], 'key columns read for lastKey are not added to rows');
    }
    assert.equal(lastKeys.length, 3);
    assert.deepEqual(lastKeys[2], [last.a, last.s]);
    const resumed = [];
    for await (const b of source.readChunk(meta, { id: 'w', table: meta, kind: 'whole', lower: null, upper: null, estimatedRows: 0 }, { columns: ['a', 's'], batchSize: 1000, after: lastKeys[0] as KeyTuple, signal })) resumed.push(...b.rows);
    assert.equal(resumed.length, 350);

    const chunks = await plan(meta, 77);
    assert.equal(chunks.length, 8);
    const rows = (await read(meta, chunks, 10)).flat();
    assert.equal(rows.length, 600);
    assert.equal(new Set(rows.map((r) => `${r.a}|${r.s}`)).size, 600);
    // A filter applies to boundaries and reads alike.
    const filtered = (await read(meta, await plan(meta, 33, 'v % 2 = 0'), 7, 'v % 2 = 0')).flat();
    assert.equal(filtered.length, 300);
    await dst.exec('CREATE TABLE comp LIKE ' + src.name + '.comp');
    await copy(meta, chunks, 13);
    await sameContent(meta, ['a', 's']);
  });

  it('binary, unsigned, decimal, datetime and enum keys page in server order', async () => {
    await src.exec(`
      CREATE TABLE kb (k VARBINARY(8) PRIMARY KEY, v INT);
      INSERT INTO kb VALUES (X'', 1), (X'00', 2), (X'0000', 3), (X'0001', 4), (X'FF', 5), (X'5C27', 6), (X'7F00', 7);
      CREATE TABLE ku (k BIGINT UNSIGNED PRIMARY KEY, d DECIMAL(30,10) NOT NULL, UNIQUE KEY (d));
      INSERT INTO ku VALUES (0, -1.5), (1, 0), (9007199254740993, 1e-10), (18446744073709551614, 99999999999999999999.9999999999), (18446744073709551615, -99999999999999999999.9999999999);
      CREATE TABLE kt (k DATETIME(6) PRIMARY KEY);
      INSERT INTO kt VALUES ('0000-00-00 00:00:00'), ('1000-01-01 00:00:00.000001'), ('2024-01-01 00:00:00'), ('2024-01-01 00:00:00.000001'), ('9999-12-31 23:59:59.999999');
      CREATE TABLE ke (k ENUM('zulu','alpha','mike') PRIMARY KEY, v INT);
      INSERT INTO ke VALUES ('alpha', 1), ('mike', 2), ('zulu', 3);`);
    for (const tb of ['kb', 'ku', 'kt', 'ke']) {
      const meta = await md.getTableMeta({ db: src.name, tb }, signal);
      for (const per of [1, 2, 3]) {
        const rows = (await read(meta, await plan(meta, per), 1)).flat();
        const want = await src.query<{ k: unknown }>(`SELECT HEX(k) AS h FROM ${tb} ORDER BY k`);
        const got = [];
        for (const r of rows) {
          const [h] = await src.query<{ h: string }>(`SELECT HEX(k) AS h FROM ${tb} WHERE k = ${typeof r.k === 'string' ? `'${r.k}'` : Buffer.isBuffer(r.k) ? `X'${r.k.toString('hex')}'` : String(r.k)}`);
          got.push(h);
        }
        assert.deepEqual(got, want, `${tb} per=${per}`);
      }
    }
    const ku = await md.getTableMeta({ db: src.name, tb: 'ku' }, signal);
    assert.deepEqual(await md.keyMinMax(ku, undefined, signal), { min: [0], max: [18446744073709551615n] });
  });

  it('nullable unique key: NULL-key rows get their own chunk, and copies are written idempotently', async () => {
    const vals: string[] = [];
    for (let i = 0; i < 40; i++) vals.push(`(${i % 5 === 0 ? 'NULL' : i}, ${i % 3 === 0 ? 'NULL' : i % 4}, 'v${i % 2}')`);
    // Exact duplicates of NULL-key rows, and rows equal but for case (distinct under bytes).
    vals.push("(NULL, 1, 'dup')", "(NULL, 1, 'dup')", "(NULL, 1, 'dup')", "(NULL, 1, 'DUP')", "(NULL, NULL, 'dup')");
    await src.exec(`CREATE TABLE kn (a INT NULL, b INT NULL, v VARCHAR(10) COLLATE utf8mb4_general_ci, UNIQUE KEY u (a, b));
      INSERT INTO kn VALUES ${vals.join(',')}`);
    const meta = await md.getTableMeta({ db: src.name, tb: 'kn' }, signal);
    assert.equal(meta.keyNullable, true);
    assert.equal(await md.hasNullKeys(meta, signal), true);
    const chunks = await plan(meta, 6);
    assert.equal(chunks.at(-1)?.kind, 'null-key');
    const all = (await read(meta, chunks, 2)).flat();
    assert.equal(all.length, 45);
    // A whole chunk of a nullable-key table covers every row too.
    const whole = (await read(meta, [{ id: 'w', table: meta, kind: 'whole', lower: null, upper: null, estimatedRows: 0 }], 4)).flat();
    assert.equal(whole.length, 45);
    await dst.exec(`CREATE TABLE kn LIKE ${src.name}.kn`);
    const order = ['a', 'b', 'v'];
    await copy(meta, chunks, 2);
    await sameContent(meta, order);
    await copy(meta, chunks, 2); // again: NULL-key copies are replaced, not doubled
    await copy(meta, chunks, 3);
    await sameContent(meta, order);
  });

  it('keyless table: whole-table stream, replaceAll twice gives the same content', async () => {
    const vals = Array.from({ length: 250 }, (_, i) => `(${i % 10}, 'x${i % 3}')`);
    await src.exec(`CREATE TABLE kl (a INT, s VARCHAR(10)); INSERT INTO kl VALUES ${vals.join(',')}`);
    await dst.exec(`CREATE TABLE kl (a INT, s VARCHAR(10)); INSERT INTO kl VALUES (99, 'stale')`);
    const meta = await md.getTableMeta({ db: src.name, tb: 'kl' }, signal);
    assert.equal(meta.keyKind, 'none');
    const chunk: ChunkSpec = { id: 'w', table: meta, kind: 'whole', lower: null, upper: null, estimatedRows: 250 };
    const w = await sinker.openTable({ table: { db: dst.name, tb: 'kl' }, columns: meta.columns, keyColumns: [], source: meta }, signal);
    await assert.rejects(w.write([{ a: 1, s: 'x' }], signal), /replaceAll/);
    const batches = async function* () {
      for await (const b of source.readChunk(meta, chunk, { columns: ['a', 's'], batchSize: 60, signal })) {
        assert.equal(b.lastKey, null);
        yield b.rows;
      }
    };
    assert.equal(await w.replaceAll!(batches(), signal), 250);
    const first = await dst.query('SELECT a, s, COUNT(*) n FROM kl GROUP BY a, s ORDER BY a, s');
    assert.equal(await w.replaceAll!(batches(), signal), 250);
    assert.deepEqual(await dst.query('SELECT a, s, COUNT(*) n FROM kl GROUP BY a, s ORDER BY a, s'), first);
    assert.deepEqual(await dst.query('SELECT a, s, COUNT(*) n FROM kl GROUP BY a, s ORDER BY a, s'), await src.query('SELECT a, s, COUNT(*) n FROM kl GROUP BY a, s ORDER BY a, s'));
    // Two at once converge as well (the second waits for the first one's DELETE lock).
    await Promise.all([w.replaceAll!(batches(), signal), w.replaceAll!(batches(), signal)]);
    assert.deepEqual(await dst.query('SELECT a, s, COUNT(*) n FROM kl GROUP BY a, s ORDER BY a, s'), first);
  });

  it('readChunk stops with RT001 when aborted, also mid-stream', async () => {
    const meta = await md.getTableMeta({ db: src.name, tb: 'comp' }, signal);
    const ac = new AbortController();
    const chunk: ChunkSpec = { id: 'all', table: meta, kind: 'range', lower: null, upper: null, estimatedRows: 0 };
    let pages = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of source.readChunk(meta, chunk, { columns: ['a', 's'], batchSize: 10, signal: ac.signal })) if (++pages === 2) ac.abort(new Error('deadline'));
      })(),
      (e: Error & { code?: string }) => e.code === 'RT001',
    );
    assert.equal(pages, 2);
    const kl = await md.getTableMeta({ db: src.name, tb: 'kl' }, signal);
    const ac2 = new AbortController();
    const whole: ChunkSpec = { id: 'w', table: kl, kind: 'whole', lower: null, upper: null, estimatedRows: 0 };
    await assert.rejects(
      (async () => {
        for await (const _ of source.readChunk(kl, whole, { columns: ['a'], batchSize: 10, signal: ac2.signal })) ac2.abort(new Error('stop'));
      })(),
      (e: Error & { code?: string }) => e.code === 'RT001',
    );
    // The pool still works afterwards.
    assert.ok(await md.keyMinMax(meta, undefined, signal));
  });
});
