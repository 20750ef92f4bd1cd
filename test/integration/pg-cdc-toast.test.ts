/**
 * Unchanged TOAST values and replica identities, end to end: a large out-of-line value not touched by an
 * update is absent from `after` (never null), and applying that change keeps the target's large value;
 * REPLICA IDENTITY FULL gives full before/after rows, DEFAULT and USING INDEX the key, NOTHING a clear error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Position, RowChange } from '../../lib/core/change.ts';
import { FerryError } from '../../lib/core/errors.ts';
import type { ChangeApplier, Sinker, TargetChange, WriteTarget } from '../../lib/core/sinker.ts';
import { pgConnector, type PgCdcSource } from '../../lib/connectors/pg/index.ts';
import { PgoutputDecoder } from '../../lib/connectors/pg/cdc-decoder.ts';
import type { PgTypeResolver } from '../../lib/connectors/pg/cdc-types.ts';
import type { ReplItem } from '../../lib/connectors/pg/replication.ts';
import { freshSchema, pgEndpoint, testContext, type PgTestSchema } from '../support/pg.ts';
import { cdcDatabase, collect, commitCount, commitsOf, never, rowsOf, type CdcDb } from './pg-cdc-support.ts';

let db: CdcDb;
let dst: PgTestSchema;
let source: PgCdcSource;
let sinker: Sinker;
let applier: ChangeApplier;
let pos: Position;
let target: WriteTarget;

/** ~200 KB that compresses poorly, so PostgreSQL stores it out of line (TOAST). */
const BIG = `(SELECT string_agg(md5(g::text || random()::text), '') FROM generate_series(1, 6000) g)`;

async function next(n = 1): Promise<RowChange[]> {
  const { events } = await collect(source, pos, commitCount(n), { ack: true });
  pos = commitsOf(events).at(-1)!.position;
  return rowsOf(events);
}

/** Applies row changes as the runner would (same column names, key `id`). */
const toTarget = (r: RowChange): TargetChange => ({
  op: r.op,
  target,
  beforeKey: r.op === 'insert' ? null : { id: r.before!.id },
  after: r.after,
});

async function sameAsSource(): Promise<void> {
  const q = `SELECT id, small, md5(big) big, length(big) len FROM %s ORDER BY id`;
  const src = await db.exec(q.replace('%s', 'public.t'));
  const out = await dst.exec(q.replace('%s', `${dst.q}.t`));
  assert.deepEqual(out, src);
}

describe('pg cdc TOAST and replica identity', () => {
  before(async () => {
    db = await cdcDatabase('ferry_cdc_toast');
    dst = await freshSchema('ferry_cdc_toast_dst');
    await db.exec(`CREATE TABLE t (id int PRIMARY KEY, big text, small int, u int NOT NULL UNIQUE)`);
    await dst.exec(`CREATE TABLE ${dst.q}.t (id int PRIMARY KEY, big text, small int, u int NOT NULL UNIQUE)`);
    source = await db.source();
    pos = await source.currentPosition(never);
    sinker = await pgConnector.createSinker!(pgEndpoint(), testContext());
    applier = await sinker.openApplier!(never);
    const md = await pgConnector.createMetadata!(pgEndpoint({ url: db.url }), testContext());
    const meta = await md.getTableMeta({ db: 'public', tb: 't' }, never);
    await md.close();
    target = { table: { db: dst.name, tb: 't' }, columns: meta.columns, keyColumns: ['id'], source: meta };
  });
  after(async () => {
    await applier?.close();
    await sinker?.close();
    await source?.close();
    await db?.cleanup();
    await dst?.drop();
  });

  it('an unchanged TOAST value is absent from after, and the applied update keeps the target value', async () => {
    await db.exec(`INSERT INTO t VALUES (1, ${BIG}, 1, 1), (2, ${BIG}, 2, 2)`);
    const inserted = await next();
    assert.ok((inserted[0].after!.big as string).length > 100_000, 'inserts carry the whole value');
    await applier.apply(inserted.map(toTarget), never);

    await db.exec(`UPDATE t SET small = small + 10`);
    await db.exec(`UPDATE t SET id = 3, small = 30 WHERE id = 2`); // key change, big still unchanged
    const updates = await next(2);
    assert.equal(updates.length, 3);
    for (const u of updates) {
      assert.equal('big' in u.after!, false, 'unchanged TOAST column omitted');
      assert.ok(Object.values(u.after!).every((v) => v !== undefined));
    }
    assert.deepEqual(updates[2].before, { id: 2 });
    assert.deepEqual(updates[2].after, { id: 3, small: 30, u: 2 });
    await applier.apply(updates.map(toTarget), never);
    await sameAsSource();
    await applier.apply(updates.map(toTarget), never); // replay: still the same
    await sameAsSource();
  });

  it('REPLICA IDENTITY FULL: before is the whole old row and after the whole new one (TOAST value included)', async () => {
    await db.exec(`ALTER TABLE t REPLICA IDENTITY FULL; UPDATE t SET small = 99 WHERE id = 1`);
    const [u] = await next();
    const [src] = await db.exec<{ big: string }>(`SELECT big FROM t WHERE id = 1`);
    assert.deepEqual(Object.keys(u.before!).sort(), ['big', 'id', 'small', 'u']);
    assert.equal(u.before!.small, 11);
    assert.equal(u.after!.big, src.big);
    assert.equal(u.after!.small, 99);
    await applier.apply([toTarget(u)], never);
    await sameAsSource();
  });

  it('REPLICA IDENTITY USING INDEX: before holds the index columns', async () => {
    await db.exec(`ALTER TABLE t REPLICA IDENTITY USING INDEX t_u_key; UPDATE t SET u = 5 WHERE id = 1; DELETE FROM t WHERE id = 3`);
    const [u, d] = await next(); // one multi-statement query: one transaction
    assert.deepEqual(u.before, { u: 1 });
    assert.deepEqual(d.before, { u: 2 });
    await dst.exec(`DELETE FROM ${dst.q}.t WHERE id = 3`); // the target is keyed by id; these carry u only
  });

  it('REPLICA IDENTITY NOTHING: PostgreSQL refuses the UPDATE at the source, and ferry names the fix if one arrives', async () => {
    await db.exec(`ALTER TABLE t REPLICA IDENTITY NOTHING`);
    await assert.rejects(db.exec(`UPDATE t SET small = 1`), /does not have a replica identity and publishes updates/);
    await db.exec(`ALTER TABLE t REPLICA IDENTITY DEFAULT`);

    // A publication that publishes updates of such a table cannot exist, but the decoder must not guess keys.
    const types = { resolve: async () => undefined, columnMeta: (name: string) => ({ name, nativeType: 'int4', family: 'int', nullable: true, udtName: 'int4' }) };
    const dec = new PgoutputDecoder(types as unknown as PgTypeResolver, 0n, undefined);
    const relation = { tag: 'relation', relationOid: 7, schema: 'public', name: 'nokey', replicaIdentity: 'nothing', keyColumns: [], columns: [{ name: 'a', flags: 0, typeOid: 23, typeMod: -1 }] } as const;
    await dec.relation(relation as never, never);
    const item = (msg: object): ReplItem => ({ kind: 'xlog', lsn: '0/10', msg: msg as never, bytes: 10 });
    dec.decode(item({ tag: 'begin', commitLsn: '00000000/00000020', commitTime: 946684800000000n, xid: 5 }));
    assert.throws(
      () => dec.decode(item({ tag: 'update', relation, key: null, old: null, new: { a: '1' } })),
      (e: FerryError) => e.code === 'PR001' && /public\.nokey/.test(e.message) && /REPLICA IDENTITY/.test(e.message),
    );
  });

  it('the source keeps unchanged TOAST values out of before/after through many updates (no placeholders)', async () => {
    await db.exec(`INSERT INTO t VALUES (4, ${BIG}, 4, 4)`);
    await db.exec(`UPDATE t SET small = small + 1; UPDATE t SET small = small + 1`);
    const rows = (await next(2)).filter((r) => r.op === 'update');
    assert.equal(rows.length, 4);
    assert.ok(rows.every((r) => !('big' in r.after!) && !('big' in r.before!)));
    await applier.apply([{ op: 'insert', target, beforeKey: null, after: (await db.exec<Record<string, never>>(`SELECT * FROM t WHERE id = 4`))[0] }], never);
    await applier.apply(rows.map(toTarget), never);
    await sameAsSource();
  });
});
