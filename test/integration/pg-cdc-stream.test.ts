/**
 * What the PostgreSQL CDC stream delivers and in which order: key-changing updates, multi-table and
 * interleaved transactions, TRUNCATE, Relation changes after DDL, the start point captured by
 * currentPosition, and publications restricted to a table list.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChangeEvent, Position } from '../../lib/core/change.ts';
import { PgCdcSource } from '../../lib/connectors/pg/index.ts';
import { lsnOfPosition } from '../../lib/connectors/pg/position.ts';
import { pgExec } from '../support/pg.ts';
import { cdcDatabase, collect, commitCount, commitsOf, never, rowsOf, type CdcDb } from './pg-cdc-support.ts';
import pg from 'pg';

let db: CdcDb;
let source: PgCdcSource;
let pos: Position;

async function next(n = 1): Promise<ChangeEvent[]> {
  const { events } = await collect(source, pos, commitCount(n), { ack: true });
  pos = commitsOf(events).at(-1)!.position;
  return events.filter((e) => e.kind !== 'heartbeat');
}

const shape = (events: ChangeEvent[]) =>
  events.map((e) => (e.kind === 'row' ? `${e.op} ${e.table.tb} ${JSON.stringify(e.before)} ${JSON.stringify(e.after)}` : e.kind === 'truncate' ? `truncate ${e.tables.map((t) => t.tb).join(',')}` : e.kind));

describe('pg cdc stream', () => {
  before(async () => {
    db = await cdcDatabase('ferry_cdc_stream');
    await db.exec(`CREATE TABLE a (id int PRIMARY KEY, v text); CREATE TABLE b (k1 int, k2 text, v int, PRIMARY KEY (k1, k2))`);
    await db.exec(`INSERT INTO a VALUES (0, 'before the capture')`);
    source = await db.source();
    pos = await source.currentPosition(never);
  });
  after(async () => {
    await source?.close();
    await db?.cleanup();
  });

  it('currentPosition: a new slot at its consistent point; stream(from) delivers exactly what committed after it', async () => {
    const slot = await pgExec<{ c: string }>(`SELECT confirmed_flush_lsn::text c FROM pg_replication_slots WHERE slot_name = $1`, [db.endpoint().raw.slot_name]);
    assert.equal(pos.data.lsn, slot[0].c);
    assert.equal(pos.kind, 'pg');
    assert.equal(pos.order, lsnOfPosition(pos).toString(16).toUpperCase().padStart(16, '0'));
    // Calling it again with the slot in place: its confirmed_flush_lsn, not a new slot.
    assert.deepEqual(await source.currentPosition(never), pos);
    await db.exec(`INSERT INTO a VALUES (1, 'x'); DELETE FROM a WHERE id = 0`);
    const ev = await next();
    assert.deepEqual(shape(ev), ['insert a null {"id":1,"v":"x"}', 'delete a {"id":0} null', 'commit']);
  });

  it('a key-changing update carries the old key in before and the new row in after', async () => {
    await db.exec(`UPDATE a SET id = 2, v = 'y' WHERE id = 1; UPDATE b SET k2 = 'z' WHERE k1 = -1`);
    await db.exec(`INSERT INTO b VALUES (1, 'p', 10); UPDATE b SET k2 = 'q', v = 11 WHERE k1 = 1`);
    const ev = await next(2);
    assert.deepEqual(shape(ev), [
      'update a {"id":1} {"id":2,"v":"y"}',
      'commit',
      'insert b null {"k1":1,"k2":"p","v":10}',
      'update b {"k1":1,"k2":"p"} {"k1":1,"k2":"q","v":11}',
      'commit',
    ]);
  });

  it('a multi-table transaction: its changes in statement order, then one CommitMark; positions ordered', async () => {
    await db.exec(`BEGIN; INSERT INTO a VALUES (10, 'a10'); UPDATE b SET v = 12 WHERE k1 = 1; DELETE FROM a WHERE id = 2;
      INSERT INTO b VALUES (2, 'r', 20); INSERT INTO a VALUES (11, 'a11'); COMMIT`);
    const ev = await next();
    assert.deepEqual(shape(ev), [
      'insert a null {"id":10,"v":"a10"}',
      'update b {"k1":1,"k2":"q"} {"k1":1,"k2":"q","v":12}',
      'delete a {"id":2} null',
      'insert b null {"k1":2,"k2":"r","v":20}',
      'insert a null {"id":11,"v":"a11"}',
      'commit',
    ]);
    const commit = ev.at(-1)!;
    for (let i = 1; i < ev.length; i++) assert.ok(ev[i - 1].position.order < ev[i].position.order, `order ${i}`);
    for (const r of rowsOf(ev)) {
      assert.equal(r.sourceTs, commit.sourceTs);
      assert.ok(r.bytes > 0);
      assert.equal(r.position.data.lsn, commit.position.data.commitLsn); // resuming at a row position replays its transaction
    }
    assert.ok(Math.abs(commit.sourceTs! - Date.now()) < 60_000);
  });

  it('interleaved transactions arrive in commit order, each whole, with increasing positions', async () => {
    const c1 = new pg.Client({ connectionString: db.url });
    const c2 = new pg.Client({ connectionString: db.url });
    await c1.connect();
    await c2.connect();
    try {
      await c1.query(`BEGIN; INSERT INTO a VALUES (20, 'first-begun')`);
      await c2.query(`BEGIN; INSERT INTO a VALUES (30, 'second-begun')`);
      await c1.query(`INSERT INTO a VALUES (21, 'first-begun')`);
      await c2.query(`INSERT INTO a VALUES (31, 'second-begun'); COMMIT`);
      await c1.query(`COMMIT`);
    } finally {
      await c1.end();
      await c2.end();
    }
    const ev = await next(2);
    assert.deepEqual(shape(ev), [
      'insert a null {"id":30,"v":"second-begun"}',
      'insert a null {"id":31,"v":"second-begun"}',
      'commit',
      'insert a null {"id":20,"v":"first-begun"}',
      'insert a null {"id":21,"v":"first-begun"}',
      'commit',
    ]);
    for (let i = 1; i < ev.length; i++) assert.ok(ev[i - 1].position.order < ev[i].position.order, `order ${i}`);
  });

  it('TRUNCATE of several tables is one TruncateChange', async () => {
    await db.exec(`TRUNCATE a, b`);
    const ev = await next();
    assert.deepEqual(shape(ev), ['truncate a,b', 'commit']);
  });

  it('a Relation message after DDL changes the columns of later rows', async () => {
    await db.exec(`INSERT INTO a VALUES (40, 'before ddl')`);
    await db.exec(`ALTER TABLE a ADD COLUMN n numeric(6,2) DEFAULT 1.5, ALTER COLUMN v TYPE varchar(20)`);
    await db.exec(`INSERT INTO a VALUES (41, 'after ddl', 2)`);
    const ev = await next(2);
    assert.deepEqual(shape(ev), ['insert a null {"id":40,"v":"before ddl"}', 'commit', 'insert a null {"id":41,"v":"after ddl","n":"2.00"}', 'commit']);
  });

  it('resuming at an earlier commit re-delivers what followed it (duplicates, never losses)', async () => {
    await db.exec(`INSERT INTO a VALUES (50, 'x')`);
    await db.exec(`INSERT INTO a VALUES (51, 'y')`);
    const first = await collect(source, pos, commitCount(2)); // not acknowledged
    const firstCommit = commitsOf(first.events)[0].position;
    const again = await collect(source, firstCommit, commitCount(1));
    assert.deepEqual(shape(again.events.filter((e) => e.kind !== 'heartbeat')), ['insert a null {"id":51,"v":"y","n":"1.50"}', 'commit']);
    pos = commitsOf(first.events)[1].position;
    await source.ack(pos, never);
  });

  it('a publication for a table list: only those tables (and later additions) are streamed', async () => {
    db.slot();
    const only = await db.source({ pub_name: 'only_a' }, {}, [{ db: 'public', tb: 'a' }]);
    try {
      const start = await only.currentPosition(never);
      const pub = await db.exec<{ tablename: string }>(`SELECT tablename FROM pg_publication_tables WHERE pubname = 'only_a' ORDER BY 1`);
      assert.deepEqual(pub.map((r) => r.tablename), ['a']);
      await db.exec(`INSERT INTO b VALUES (5, 'not published', 1); INSERT INTO a VALUES (60, 'published')`);
      const { events } = await collect(only, start, commitCount(1));
      assert.deepEqual(shape(events.filter((e) => e.kind !== 'heartbeat')), ['insert a null {"id":60,"v":"published","n":"1.50"}', 'commit']);
    } finally {
      await only.close();
    }
    // A source (re)started with more tables (the filter now matches b too) extends the publication when it
    // streams, instead of silently missing b.
    const more = await db.source({ pub_name: 'only_a' }, {}, [{ db: 'public', tb: 'a' }, { db: 'public', tb: 'b' }]);
    try {
      const from = await more.currentPosition(never);
      await db.exec(`INSERT INTO b VALUES (6, 'published now', 1)`);
      const { events } = await collect(more, from, (ev) => rowsOf(ev).some((r) => r.table.tb === 'b'));
      // b's row from before it joined the publication is not there; the new one is (plus a's row again: the
      // slot was never acknowledged).
      assert.deepEqual(rowsOf(events).map((r) => `${r.table.tb}:${r.after!.k2 ?? r.after!.v}`), ['a:published', 'b:published now']);
      const pub = await db.exec<{ tablename: string }>(`SELECT tablename FROM pg_publication_tables WHERE pubname = 'only_a' ORDER BY 1`);
      assert.deepEqual(pub.map((r) => r.tablename), ['a', 'b']);
    } finally {
      await more.close();
    }
    // A filter matching no table yet: an empty publication, never FOR ALL TABLES.
    db.slot();
    const none = await db.source({ pub_name: 'nothing_yet' }, {}, []);
    try {
      await none.currentPosition(never);
      const [p] = await db.exec<{ puballtables: boolean; n: string }>(
        `SELECT puballtables, (SELECT count(*) FROM pg_publication_tables WHERE pubname = 'nothing_yet') n FROM pg_publication WHERE pubname = 'nothing_yet'`,
      );
      assert.deepEqual(p, { puballtables: false, n: '0' });
    } finally {
      await none.close();
    }
  });
});
