/**
 * The PostgreSQL ChangeApplier: one transaction per apply with one-by-one semantics (multi-row statements
 * included), idempotent replays, key changes, partial (TOAST) updates, mixed tables, MySQL-family canonical
 * values, keyless and arbiter-less targets, and IN001 rolling the whole transaction back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FerryError } from '../../lib/core/errors.ts';
import type { ChangeApplier, Sinker, TargetChange, WriteTarget } from '../../lib/core/sinker.ts';
import type { ColumnMeta } from '../../lib/core/table.ts';
import type { Row } from '../../lib/core/values.ts';
import { pgConnector } from '../../lib/connectors/pg/index.ts';
import { freshSchema, pgEndpoint, testContext, type PgTestSchema } from '../support/pg.ts';
import { never } from './pg-cdc-support.ts';

let s: PgTestSchema;
let sinker: Sinker;
let applier: ChangeApplier;

const col = (name: string, family: ColumnMeta['family'] = 'int'): ColumnMeta => ({ name, nativeType: family, family, nullable: true });
const target = (tb: string, columns: ColumnMeta[], keyColumns = ['id']): WriteTarget => ({ table: { db: s.name, tb }, columns, keyColumns, source: { db: 'src', tb } });
const ins = (t: WriteTarget, after: Row): TargetChange => ({ op: 'insert', target: t, beforeKey: null, after });
const upd = (t: WriteTarget, beforeKey: Row, after: Row): TargetChange => ({ op: 'update', target: t, beforeKey, after });
const del = (t: WriteTarget, beforeKey: Row): TargetChange => ({ op: 'delete', target: t, beforeKey, after: null });

async function dump(tb: string, order = 'id'): Promise<string[]> {
  const rows = await s.exec<{ r: string }>(`SELECT t::text r FROM ${s.q}.${tb} t ORDER BY ${order}`);
  return rows.map((r) => r.r);
}

describe('pg cdc applier', () => {
  let kv: WriteTarget;
  before(async () => {
    s = await freshSchema('ferry_cdc_apply');
    await s.exec(`CREATE TABLE ${s.q}.kv (id int PRIMARY KEY, v text, u int UNIQUE, big text)`);
    sinker = await pgConnector.createSinker!(pgEndpoint(), testContext());
    applier = await sinker.openApplier!(never);
    kv = target('kv', [col('id'), col('v', 'string'), col('u'), col('big', 'string')]);
  });
  after(async () => {
    await applier?.close();
    await sinker?.close();
    await s?.drop();
  });

  it('applying the same transaction twice leaves an identical target', async () => {
    await s.exec(`TRUNCATE ${s.q}.kv`);
    const tx = [
      ins(kv, { id: 1, v: 'a', u: 1, big: 'x' }),
      ins(kv, { id: 2, v: 'b', u: 2, big: 'y' }),
      ins(kv, { id: 3, v: 'c', u: 3, big: 'z' }),
      upd(kv, { id: 2 }, { id: 2, v: 'b2', u: 20, big: 'y' }),
      del(kv, { id: 3 }),
      upd(kv, { id: 1 }, { id: 4, v: 'a4', u: 40, big: 'x' }), // key change
      del(kv, { id: 99 }), // absent: no-op
    ];
    await applier.apply(tx, never);
    const once = await dump('kv');
    assert.deepEqual(once, ['(2,b2,20,y)', '(4,a4,40,x)']);
    await applier.apply(tx, never);
    assert.deepEqual(await dump('kv'), once);
  });

  it('repeated keys keep one-by-one semantics (also against another unique key)', async () => {
    await s.exec(`TRUNCATE ${s.q}.kv; INSERT INTO ${s.q}.kv VALUES (1, 'old', 1, 'b')`);
    await applier.apply(
      [
        upd(kv, { id: 1 }, { id: 1, v: 'v1', u: 5, big: 'b' }),
        upd(kv, { id: 1 }, { id: 1, v: 'v2', u: 5, big: 'b' }), // same row again: replaces in place
        ins(kv, { id: 2, v: 'w', u: 1, big: 'b' }), // takes u=1, freed by the first update
        upd(kv, { id: 1 }, { id: 1, v: 'v3', u: 6, big: 'b' }), // key 1 again after another row: a new statement
        ins(kv, { id: 3, v: 'x', u: 5, big: 'b' }), // takes u=5, freed by the previous change
      ],
      never,
    );
    assert.deepEqual(await dump('kv'), ['(1,v3,6,b)', '(2,w,1,b)', '(3,x,5,b)']);
  });

  it('key-changing updates in chains and swaps', async () => {
    await s.exec(`TRUNCATE ${s.q}.kv; INSERT INTO ${s.q}.kv VALUES (1, 'a', NULL, 'A'), (2, 'b', NULL, 'B')`);
    await applier.apply(
      [
        upd(kv, { id: 1 }, { id: 10, v: 'a', u: null, big: 'A' }),
        upd(kv, { id: 10 }, { id: 11, v: 'a', u: null, big: 'A' }),
        // swap 2 <-> 11 through a temporary key
        upd(kv, { id: 2 }, { id: -1, v: 'b', u: null, big: 'B' }),
        upd(kv, { id: 11 }, { id: 2, v: 'a', u: null, big: 'A' }),
        upd(kv, { id: -1 }, { id: 11, v: 'b', u: null, big: 'B' }),
      ],
      never,
    );
    assert.deepEqual(await dump('kv'), ['(2,a,,A)', '(11,b,,B)']);
  });

  it('an update without some columns (unchanged TOAST) keeps their target values, also when the key changes', async () => {
    const big = 'L'.repeat(100_000);
    await s.exec(`TRUNCATE ${s.q}.kv`);
    await s.exec(`INSERT INTO ${s.q}.kv VALUES (1, 'a', 1, $1), (2, 'b', 2, $1)`, [big]);
    const tx = [upd(kv, { id: 1 }, { id: 1, v: 'a2', u: 11 }), upd(kv, { id: 2 }, { id: 3, v: 'b3', u: 12 })];
    await applier.apply(tx, never);
    await applier.apply(tx, never); // a replay finds key 2 gone and key 3 already right
    const rows = await s.exec<{ id: number; v: string; u: number; big: string }>(`SELECT id, v, u, big FROM ${s.q}.kv ORDER BY id`);
    assert.deepEqual(rows.map((r) => [r.id, r.v, r.u, r.big === big]), [[1, 'a2', 11, true], [3, 'b3', 12, true]]);
  });

  it('mixed-table transactions apply in order', async () => {
    await s.exec(`CREATE TABLE ${s.q}.p (id int PRIMARY KEY, n int); CREATE TABLE ${s.q}.c (pid int, k text, v text, PRIMARY KEY (pid, k))`);
    const p = target('p', [col('id'), col('n')]);
    const c = target('c', [col('pid'), col('k', 'string'), col('v', 'string')], ['pid', 'k']);
    await applier.apply(
      [
        ins(p, { id: 1, n: 0 }),
        ins(c, { pid: 1, k: 'a', v: 'x' }),
        ins(c, { pid: 1, k: 'b', v: 'y' }),
        upd(p, { id: 1 }, { id: 1, n: 2 }),
        del(c, { pid: 1, k: 'a' }),
        ins(c, { pid: 1, k: 'a', v: 'again' }),
        upd(c, { pid: 1, k: 'b' }, { pid: 2, k: 'b', v: 'moved' }),
        del(p, { id: 1 }),
        ins(p, { id: 1, n: 3 }),
      ],
      never,
    );
    assert.deepEqual(await dump('p'), ['(1,3)']);
    assert.deepEqual(await dump('c', 'pid, k'), ['(1,a,again)', '(2,b,moved)']);
  });

  it('an IN001 names table and key, and rolls the whole transaction back', async () => {
    await s.exec(`CREATE TABLE ${s.q}.narrow (id int PRIMARY KEY, v varchar(3)); INSERT INTO ${s.q}.narrow VALUES (1, 'one')`);
    const n = target('narrow', [col('id'), col('v', 'string')]);
    const before = await dump('narrow');
    await assert.rejects(
      applier.apply([upd(n, { id: 1 }, { id: 1, v: 'uno' }), ins(n, { id: 2, v: 'two' }), ins(n, { id: 3, v: 'three' }), ins(n, { id: 4, v: 'fou' })], never),
      (e: FerryError) => {
        assert.equal(e.code, 'IN001');
        assert.match(e.message, new RegExp(`target ${s.name}.narrow: .*too long.*\\(column v\\) at key id=3`));
        assert.equal(e.details.column, 'v');
        return true;
      },
    );
    assert.deepEqual(await dump('narrow'), before);
    // The connection went back clean: the next apply works.
    await applier.apply([ins(n, { id: 5, v: 'ok' })], never);
    assert.deepEqual(await dump('narrow'), ['(1,one)', '(5,ok)']);
  });

  it('MySQL-family canonical values land in PostgreSQL types', async () => {
    await s.exec(`CREATE TABLE ${s.q}.my (id numeric(20) PRIMARY KEY, dt timestamp(6), tz timestamptz, d numeric(10,3), b bytea, bits bit(3),
      e text, st text[], j jsonb, y smallint, f double precision, flag boolean)`);
    const my = target('my', [
      col('id', 'uint'), col('dt', 'datetime'), col('tz', 'timestamptz'), col('d', 'decimal'), col('b', 'binary'), col('bits', 'bit'),
      col('e', 'enum'), col('st', 'set'), col('j', 'json'), col('y', 'year'), col('f', 'float'), col('flag', 'int'),
    ]);
    const row: Row = {
      id: 18446744073709551615n, dt: '2024-02-29 12:34:56.123456', tz: '2024-01-02 03:04:05.500000+02:00', d: '-12.340', b: Buffer.from([0, 255]),
      bits: Buffer.from([5]), e: 'small', st: 'a,b', j: '{"k": [1, 2.50]}', y: 2024, f: 1.5e300, flag: 1,
    };
    await applier.apply([ins(my, row), upd(my, { id: 18446744073709551615n }, { ...row, d: '0.001' })], never);
    assert.deepEqual(await dump('my'), [
      '(18446744073709551615,"2024-02-29 12:34:56.123456","2024-01-02 01:04:05.5+00",0.001,"\\\\x00ff",101,small,"{a,b}","{""k"": [1, 2.50]}",2024,1.5e+300,t)',
    ]);
  });

  it('keyless targets: plain inserts, one matching row per update/delete; targets without an arbiter index', async () => {
    await s.exec(`CREATE TABLE ${s.q}.nokey (a int, j json); CREATE TABLE ${s.q}.noidx (id int, v text)`);
    const nk = target('nokey', [col('a'), col('j', 'json')], []);
    await applier.apply([ins(nk, { a: 1, j: '{"x":1}' }), ins(nk, { a: 1, j: '{"x":1}' }), ins(nk, { a: 2, j: null })], never);
    await applier.apply([del(nk, { a: 1, j: '{"x":1}' }), upd(nk, { a: 2, j: null }, { a: 3, j: '[]' })], never);
    assert.deepEqual(await dump('nokey', 'a'), ['(1,"{""x"":1}")', '(3,[])']);
    const ni = target('noidx', [col('id'), col('v', 'string')]);
    const tx = [ins(ni, { id: 1, v: 'a' }), upd(ni, { id: 1 }, { id: 1, v: 'b' }), ins(ni, { id: 2, v: 'c' })];
    await applier.apply(tx, never);
    await applier.apply(tx, never);
    assert.deepEqual(await dump('noidx'), ['(1,b)', '(2,c)']);
  });

  it('truncate and DDL (unqualified names resolve in the given schema)', async () => {
    await s.exec(`CREATE TABLE ${s.q}.tr (id int PRIMARY KEY); INSERT INTO ${s.q}.tr VALUES (1), (2)`);
    await applier.truncate!({ db: s.name, tb: 'tr' }, never);
    assert.deepEqual(await dump('tr'), []);
    await applier.applyDdl!({ db: s.name, sql: 'ALTER TABLE tr ADD COLUMN extra text' }, never);
    const tr = target('tr', [col('id'), col('extra', 'string')]);
    await applier.apply([ins(tr, { id: 1, extra: 'new column' })], never);
    assert.deepEqual(await dump('tr'), ['(1,"new column")']);
    await assert.rejects(applier.apply([ins(target('tr', [col('id'), col('nope', 'string')]), { id: 2, nope: 'x' })], never), (e: FerryError) => e.code === 'MD001');
  });

  it('large transactions split into statements under the parameter limit', async () => {
    await s.exec(`CREATE TABLE ${s.q}.many (id int PRIMARY KEY, v text)`);
    const m = target('many', [col('id'), col('v', 'string')]);
    const tx: TargetChange[] = [];
    for (let i = 0; i < 40_000; i++) tx.push(ins(m, { id: i, v: `v${i}` }));
    for (let i = 0; i < 40_000; i += 2) tx.push(del(m, { id: i }));
    await applier.apply(tx, never);
    const [{ n }] = await s.exec<{ n: string }>(`SELECT count(*) n FROM ${s.q}.many`);
    assert.equal(n, '20000');
  });
});
