/**
 * The MySQL ChangeApplier: binlog changes applied to a second database leave it identical to the source
 * (every type, key changes), applying a transaction twice changes nothing, changes of several tables keep
 * their order, a refused value rolls the whole transaction back with IN001 naming table and key, PostgreSQL
 * canonical values land, partial updates keep absent columns, keyless tables, TRUNCATE and DDL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChangeEvent, RowChange } from '../../lib/core/change.ts';
import { FerryError } from '../../lib/core/errors.ts';
import type { ChangeApplier, TargetChange, WriteTarget } from '../../lib/core/sinker.ts';
import type { TableMeta } from '../../lib/core/table.ts';
import type { Row } from '../../lib/core/values.ts';
import { createMysqlMetadata, createMysqlSinker, type MysqlSinker } from '../../lib/connectors/mysql/index.ts';
import { exactSelect, freshMysqlDb, mysqlEndpoint, type TestDb } from '../support/mysql.ts';
import { cdcSource, collect, dataCommits, never, testCtx } from './mysql-cdc-support.ts';

const TYPES = `CREATE TABLE t (
  id INT NOT NULL PRIMARY KEY, biu BIGINT UNSIGNED, dec65 DECIMAL(65,30), fl FLOAT, db DOUBLE, b10 BIT(10),
  vc VARCHAR(100), bn BINARY(4), bl BLOB, t TIME(6), dt DATETIME(6), ts TIMESTAMP(6) NULL, y YEAR,
  e ENUM('a','b'), st SET('x','y'), j JSON, g GEOMETRY, u UUID
) CHARACTER SET utf8mb4`;

const pick = (row: Row, keys: string[]): Row => Object.fromEntries(keys.map((k) => [k, row[k]]));

describe('mysql cdc applier', () => {
  let src: TestDb;
  let dst: TestDb;
  let sinker: MysqlSinker;
  let applier: ChangeApplier;
  const metas = new Map<string, TableMeta>();

  /** The WriteTarget the router would build for `tb` (same name in the target database). */
  async function target(tb: string, db = src.name): Promise<WriteTarget> {
    const md = await createMysqlMetadata(mysqlEndpoint(), testCtx);
    const meta = metas.get(`${db}.${tb}`) ?? (await md.getTableMeta({ db, tb }, never));
    await md.close();
    metas.set(`${db}.${tb}`, meta);
    return { table: { db: dst.name, tb }, source: { db, tb }, columns: meta.columns, keyColumns: meta.keyColumns };
  }
  const toTarget = (c: RowChange, w: WriteTarget): TargetChange => ({
    op: c.op,
    target: w,
    beforeKey: c.op === 'insert' ? null : w.keyColumns.length ? pick(c.before!, w.keyColumns) : c.before,
    after: c.after,
  });
  /** The transactions of `events` (changes up to each CommitMark), as TargetChanges. */
  function transactions(events: ChangeEvent[], w: WriteTarget): TargetChange[][] {
    const out: TargetChange[][] = [];
    let open: TargetChange[] = [];
    for (const e of events) {
      if (e.kind === 'row') open.push(toTarget(e, w));
      else if (e.kind === 'commit' && open.length) {
        out.push(open);
        open = [];
      }
    }
    return out;
  }
  const snapshot = async (db: TestDb, tb: string, order = ['id']) => db.query(exactSelect(db.name, tb, metas.get(`${src.name}.${tb}`)!.columns, order));

  before(async () => {
    src = await freshMysqlDb('mysql_cdc_apply_src');
    dst = await freshMysqlDb('mysql_cdc_apply_dst');
    for (const d of [src, dst]) {
      await d.exec(`${TYPES}; CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(5) NOT NULL); CREATE TABLE b (k1 INT, k2 VARCHAR(10), v INT, PRIMARY KEY (k1, k2));
        CREATE TABLE nokey (x INT, y VARCHAR(10)); CREATE TABLE pgv (id BIGINT PRIMARY KEY, dt DATETIME(6), flag TINYINT, bits BIT(4), amount DECIMAL(20,4), raw BLOB, doc JSON, big BIGINT UNSIGNED, txt TEXT)`);
    }
    sinker = await createMysqlSinker(mysqlEndpoint(), testCtx);
    applier = await sinker.openApplier(never);
  });
  after(async () => {
    await applier?.close();
    await sinker?.close();
    await src?.drop();
    await dst?.drop();
  });

  it('binlog changes of every type applied to a second database leave it identical; applying them again changes nothing', async () => {
    const source = await cdcSource([{ db: src.name, tb: 't' }]);
    const from = await source.currentPosition(never);
    await src.exec(`INSERT INTO t VALUES
      (1, 18446744073709551615, -99999999999999999999999999999999999.999999999999999999999999999999, 123456789, 0.30000000000000004, b'1010101010',
       'emoji 😀 ünï', X'61', X'00FF00', '-838:59:59.000000', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', 0,
       'b', 'x,y', '{"a": [1, 2.50]}', ST_GeomFromText('POINT(1 2)'), 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6'),
      (2, 0, 0.000000000000000000000000000001, -1.5, 1e300, b'0', NULL, X'00000000', X'', '00:00:00.000001', '2000-01-01 00:00:00.000001', NULL, 2155,
       'a', '', '[]', NULL, NULL)`);
    await src.exec(`UPDATE t SET id = id + 10, vc = CONCAT('x', COALESCE(vc, '')) WHERE id = 1; UPDATE t SET fl = 2.5 WHERE id = 2`);
    await src.exec(`BEGIN; DELETE FROM t WHERE id = 2; INSERT INTO t (id, vc) VALUES (2, 'again'); COMMIT`);
    const { events } = await collect(source, from, (ev) => dataCommits(ev).length >= 4);
    await source.close();
    const w = await target('t');
    const txs = transactions(events, w);
    assert.equal(txs.length, 4);
    for (const tx of txs) await applier.apply(tx, never);
    assert.deepEqual(await snapshot(dst, 't'), await snapshot(src, 't'));
    for (const tx of txs) await applier.apply(tx, never);
    assert.deepEqual(await snapshot(dst, 't'), await snapshot(src, 't'));
  });

  it('keeps the order of changes across tables, key changes and repeated keys inside one transaction', async () => {
    const a = await target('a');
    const b = await target('b');
    const changes: TargetChange[] = [
      { op: 'insert', target: a, beforeKey: null, after: { id: 1, v: 'one' } },
      { op: 'insert', target: b, beforeKey: null, after: { k1: 1, k2: 'x', v: 1 } },
      { op: 'insert', target: a, beforeKey: null, after: { id: 2, v: 'two' } },
      { op: 'update', target: a, beforeKey: { id: 1 }, after: { id: 3, v: 'three' } },
      { op: 'update', target: b, beforeKey: { k1: 1, k2: 'x' }, after: { k1: 1, k2: 'y', v: 2 } },
      { op: 'delete', target: a, beforeKey: { id: 2 }, after: null },
      { op: 'insert', target: a, beforeKey: null, after: { id: 2, v: 'deux' } },
      { op: 'insert', target: a, beforeKey: null, after: { id: 4, v: 'a' } },
      { op: 'update', target: a, beforeKey: { id: 4 }, after: { id: 4, v: 'b' } },
      { op: 'delete', target: b, beforeKey: { k1: 9, k2: 'absent' }, after: null },
    ];
    for (let round = 0; round < 2; round++) {
      await applier.apply(changes, never);
      assert.deepEqual(await dst.query('SELECT id, v FROM a ORDER BY id'), [{ id: 2, v: 'deux' }, { id: 3, v: 'three' }, { id: 4, v: 'b' }]);
      assert.deepEqual(await dst.query('SELECT k1, k2, v FROM b ORDER BY k1, k2'), [{ k1: 1, k2: 'y', v: 2 }]);
    }
  });

  it('a value the target refuses rolls the whole transaction back: IN001 naming table and key', async () => {
    const a = await target('a');
    const before = await dst.query('SELECT id, v FROM a ORDER BY id');
    await assert.rejects(
      applier.apply(
        [
          { op: 'insert', target: a, beforeKey: null, after: { id: 50, v: 'fine' } },
          { op: 'delete', target: a, beforeKey: { id: 2 }, after: null },
          { op: 'insert', target: a, beforeKey: null, after: { id: 51, v: 'far too long' } },
        ],
        never,
      ),
      (e: unknown) => e instanceof FerryError && e.code === 'IN001' && e.message.includes(`${dst.name}.a`) && /id=51/.test(e.message) && /\bv\b/.test(e.message),
    );
    assert.deepEqual(await dst.query('SELECT id, v FROM a ORDER BY id'), before);
  });

  it('takes PostgreSQL canonical values (timestamptz, boolean, bit string, bigint, decimal text, bytes, JSON)', async () => {
    const w: WriteTarget = {
      table: { db: dst.name, tb: 'pgv' },
      source: { db: 'public', tb: 'pgv' },
      keyColumns: ['id'],
      columns: [
        { name: 'id', nativeType: 'bigint', family: 'int', nullable: false },
        { name: 'dt', nativeType: 'timestamp with time zone', family: 'timestamptz', nullable: true },
        { name: 'flag', nativeType: 'boolean', family: 'bool', nullable: true },
        { name: 'bits', nativeType: 'bit(4)', family: 'bit', nullable: true, length: 4 },
        { name: 'amount', nativeType: 'numeric(20,4)', family: 'decimal', nullable: true },
        { name: 'raw', nativeType: 'bytea', family: 'binary', nullable: true },
        { name: 'doc', nativeType: 'jsonb', family: 'json', nullable: true },
        { name: 'big', nativeType: 'numeric', family: 'decimal', nullable: true },
        { name: 'txt', nativeType: 'text', family: 'string', nullable: true },
      ],
    };
    await applier.apply(
      [
        {
          op: 'insert',
          target: w,
          beforeKey: null,
          after: { id: 9007199254740993n, dt: '2024-01-02 03:04:05.123456+05:30', flag: true, bits: '1010', amount: '-12.3400', raw: Buffer.from([0, 1, 2]), doc: '{"k": [1, "é"]}', big: '18446744073709551615', txt: "it's" },
        },
        // A PostgreSQL update whose unchanged TOAST column (txt) is absent: it keeps its value.
        { op: 'update', target: w, beforeKey: { id: 9007199254740993n }, after: { id: 9007199254740993n, flag: false, amount: '1.5' } },
      ],
      never,
    );
    const [r] = await dst.query<Record<string, unknown>>('SELECT CAST(id AS CHAR) id, dt, flag, BIN(bits) bits, amount, HEX(raw) raw, doc, CAST(big AS CHAR) big, txt FROM pgv');
    assert.deepEqual(r, { id: '9007199254740993', dt: '2024-01-01 21:34:05.123456', flag: 0, bits: '1010', amount: '1.5000', raw: '000102', doc: '{"k": [1, "é"]}', big: '18446744073709551615', txt: "it's" });
  });

  it('keyless tables: plain inserts; update and delete touch one row equal to the old row', async () => {
    const w = await target('nokey');
    const row = { x: 1, y: 'dup' };
    await applier.apply(
      [
        { op: 'insert', target: w, beforeKey: null, after: row },
        { op: 'insert', target: w, beforeKey: null, after: row },
        { op: 'insert', target: w, beforeKey: null, after: { x: 2, y: null } },
        { op: 'update', target: w, beforeKey: row, after: { x: 1, y: 'changed' } },
        { op: 'delete', target: w, beforeKey: { x: 2, y: null }, after: null },
      ],
      never,
    );
    assert.deepEqual(await dst.query('SELECT x, y FROM nokey ORDER BY y'), [{ x: 1, y: 'changed' }, { x: 1, y: 'dup' }]);
  });

  it('truncates, and applies DDL with the source database as default (also CREATE DATABASE)', async () => {
    await applier.truncate!({ db: dst.name, tb: 'nokey' }, never);
    assert.deepEqual(await dst.query('SELECT * FROM nokey'), []);
    await applier.applyDdl!({ db: dst.name, sql: 'ALTER TABLE a ADD COLUMN extra INT DEFAULT 5' }, never);
    assert.deepEqual((await dst.query<{ extra: number }>('SELECT extra FROM a LIMIT 1'))[0], { extra: 5 });
    const name = `${dst.name}_new`;
    await applier.applyDdl!({ db: name, sql: `CREATE DATABASE \`${name}\`` }, never);
    await applier.applyDdl!({ db: name, sql: 'CREATE TABLE z (id INT PRIMARY KEY)' }, never);
    assert.equal(Number((await dst.query(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${name}'`))[0].n), 1);
    await applier.applyDdl!({ db: name, sql: `DROP DATABASE \`${name}\`` }, never);
    await assert.rejects(applier.applyDdl!({ db: dst.name, sql: 'ALTER TABLE missing ADD c INT' }, never), (e: unknown) => e instanceof FerryError && e.code === 'MD001');
  });

  it('with sinker.replace=false upserts with ON DUPLICATE KEY UPDATE, same result', async () => {
    const upsert = await createMysqlSinker(mysqlEndpoint({ replace: false }), testCtx);
    const ap = await upsert.openApplier(never);
    const a = await target('a');
    try {
      const changes: TargetChange[] = [
        { op: 'insert', target: a, beforeKey: null, after: { id: 70, v: 'p' } },
        { op: 'insert', target: a, beforeKey: null, after: { id: 70, v: 'q' } },
        { op: 'update', target: a, beforeKey: { id: 70 }, after: { id: 71, v: 'r' } },
      ];
      await ap.apply(changes, never);
      await ap.apply(changes, never);
      assert.deepEqual(await dst.query('SELECT id, v FROM a WHERE id >= 70 ORDER BY id'), [{ id: 71, v: 'r' }]);
    } finally {
      await ap.close();
      await upsert.close();
    }
  });
});
