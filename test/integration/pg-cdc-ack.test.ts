/**
 * PostgreSQL CDC positions and safety: acknowledgements move confirmed_flush_lsn exactly to the acked LSN and
 * never further (keepalives answered while idle included), unacknowledged transactions come again after a
 * crash, a dropped connection is a retryable CN001, abort closes cleanly, the heartbeat table keeps positions
 * moving, and the slot / config / privilege errors say what to fix.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChangeEvent, Position } from '../../lib/core/change.ts';
import { FerryError } from '../../lib/core/errors.ts';
import { createPgCdcSource, PgCdcSource } from '../../lib/connectors/pg/index.ts';
import { heartbeatTableDdl } from '../../lib/connectors/pg/heartbeat.ts';
import { lsnOfPosition } from '../../lib/connectors/pg/position.ts';
import { pgExec, testContext } from '../support/pg.ts';
import { uniqueName } from '../support/services.ts';
import { cdcDatabase, collect, commitCount, commitsOf, eventually, never, rowsOf, slotState, type CdcDb } from './pg-cdc-support.ts';

let db: CdcDb;

/** A stream consumed in the background, events in an array, errors kept. */
function background(source: PgCdcSource, from: Position) {
  const ctrl = new AbortController();
  const events: ChangeEvent[] = [];
  let error: unknown = null;
  const done = (async () => {
    try {
      for await (const b of source.stream(from, ctrl.signal)) events.push(...b);
    } catch (e) {
      error = e;
    }
  })();
  return {
    events,
    error: () => error,
    stop: async () => {
      ctrl.abort(new Error('test done'));
      await done;
    },
    done,
  };
}

const until = (check: () => boolean, ms = 10_000, what = 'events') => eventually(async () => check(), ms, what);

describe('pg cdc acknowledgements and recovery', () => {
  before(async () => {
    db = await cdcDatabase('ferry_cdc_ack');
    await db.exec(`CREATE TABLE t (id int PRIMARY KEY, v text); ${heartbeatTableDdl({ db: 'public', tb: 'ape_dts_heartbeat' })}`);
  });
  after(async () => {
    await db?.cleanup();
  });

  it('ack confirms exactly the acked LSN, and idle keepalive replies never confirm more', async () => {
    const slot = db.slot();
    const source = await db.source({ keepalive_interval_secs: '1' });
    try {
      const start = await source.currentPosition(never);
      const bg = background(source, start);
      await db.exec(`INSERT INTO t VALUES (1, 'one')`);
      await db.exec(`INSERT INTO t VALUES (2, 'two')`);
      await until(() => commitsOf(bg.events).length >= 2);
      const [c1, c2] = commitsOf(bg.events);
      assert.equal((await slotState(slot))!.confirmed, start.data.lsn, 'nothing confirmed before ack');
      await source.ack(c1.position, never);
      await eventually(async () => (await slotState(slot))!.confirmed === c1.position.data.lsn, 5000, 'confirmed_flush_lsn = ack');
      // WAL moves on (logical messages pgoutput does not publish): keepalives report it, heartbeats follow.
      const seen = bg.events.length;
      for (let i = 0; i < 6; i++) {
        await pgExec(`SELECT pg_logical_emit_message(false, 'ferry-test', 'x')`, [], db.url);
        await new Promise((r) => setTimeout(r, 400));
      }
      await until(() => bg.events.slice(seen).some((e) => e.kind === 'heartbeat'), 10_000, 'a heartbeat');
      assert.equal((await slotState(slot))!.confirmed, c1.position.data.lsn, 'keepalive replies confirm only what was acked');
      const hb = bg.events.filter((e) => e.kind === 'heartbeat').at(-1)!;
      assert.ok(hb.position.order > c2.position.order, 'heartbeat after the last commit');
      assert.equal(hb.sourceTs !== undefined, true);
      await source.ack(hb.position, never);
      await eventually(async () => (await slotState(slot))!.confirmed === hb.position.data.lsn, 5000, 'confirmed = heartbeat');
      // An older ack never moves it back.
      await source.ack(c1.position, never);
      assert.equal((await slotState(slot))!.confirmed, hb.position.data.lsn);
      await bg.stop();
      assert.equal(bg.error(), null);
    } finally {
      await source.close();
    }
  });

  it('crash before ack: streaming again from the last acked position (same or new source) gets the transaction again', async () => {
    const slot = db.slot();
    const first = await db.source();
    const start = await first.currentPosition(never);
    await db.exec(`INSERT INTO t VALUES (10, 'acked')`);
    const bg = background(first, start);
    await until(() => commitsOf(bg.events).length >= 1);
    const acked = commitsOf(bg.events)[0].position;
    await first.ack(acked, never);
    await db.exec(`INSERT INTO t VALUES (11, 'received, never acked')`);
    await until(() => commitsOf(bg.events).length >= 2);
    // The connection dies under the source (walsender terminated): a retryable CN001.
    const pid = (await slotState(slot))!.pid;
    await pgExec(`SELECT pg_terminate_backend($1)`, [pid]);
    await bg.done;
    const err = bg.error() as FerryError;
    assert.ok(err instanceof FerryError, String(err));
    assert.equal(err.code, 'CN001');
    assert.equal(err.retryable, true);
    assert.equal((await slotState(slot))!.confirmed, acked.data.lsn);
    // The runner's reconnect: the same source streams again from its last committed position.
    const again = await collect(first, JSON.parse(JSON.stringify(acked)) as Position, commitCount(1));
    assert.deepEqual(rowsOf(again.events).map((r) => r.after), [{ id: 11, v: 'received, never acked' }]);
    await first.close();

    const second = await db.source();
    try {
      const { events } = await collect(second, acked, commitCount(1));
      assert.deepEqual(rowsOf(events).map((r) => r.after), [{ id: 11, v: 'received, never acked' }]);
    } finally {
      await second.close();
    }
  });

  it('abort ends the stream without an error and closes the replication connection', async () => {
    const slot = db.slot();
    const source = await db.source();
    try {
      const start = await source.currentPosition(never);
      const bg = background(source, start);
      await eventually(async () => (await slotState(slot))!.active, 5000, 'slot active');
      await bg.stop();
      assert.equal(bg.error(), null);
      await eventually(async () => !(await slotState(slot))!.active, 5000, 'slot released');
    } finally {
      await source.close();
    }
  });

  it('ack with no stream open confirms through the slot (pg_replication_slot_advance)', async () => {
    const slot = db.slot();
    const source = await db.source();
    try {
      const start = await source.currentPosition(never);
      await db.exec(`INSERT INTO t VALUES (20, 'x')`);
      const { events } = await collect(source, start, commitCount(1));
      const c = commitsOf(events)[0].position;
      assert.equal((await slotState(slot))!.confirmed, start.data.lsn);
      await source.ack(c, never);
      assert.equal((await slotState(slot))!.confirmed, c.data.lsn);
    } finally {
      await source.close();
    }
  });

  it('the heartbeat table makes an idle source commit every heartbeat_interval_secs (its rows are not emitted)', async () => {
    const slot = db.slot();
    const source = await db.source({ heartbeat_tb: 'public.ape_dts_heartbeat', heartbeat_interval_secs: '1' });
    try {
      const start = await source.currentPosition(never);
      const { events } = await collect(source, start, commitCount(3), { ack: true, timeoutMs: 15_000 });
      assert.equal(rowsOf(events).length, 0);
      const orders = commitsOf(events).map((c) => c.position.order);
      assert.deepEqual([...orders].sort(), orders);
      assert.equal(new Set(orders).size, orders.length);
      const [row] = await db.exec<{ slot_name: string; flushed_lsn: string }>(`SELECT slot_name, flushed_lsn FROM ape_dts_heartbeat WHERE slot_name = $1`, [slot]);
      assert.equal(row.slot_name, slot);
      assert.ok(lsnOfPosition(commitsOf(events).at(-1)!.position) > lsnOfPosition(start));
    } finally {
      await source.close();
    }
  });

  it('recreate_slot_if_exists and start_lsn choose the start as ape-dts does', async () => {
    const slot = db.slot();
    const a = await db.source();
    const p1 = await a.currentPosition(never);
    await a.close();
    await db.exec(`INSERT INTO t VALUES (30, 'moves wal')`);
    const ahead = `${(lsnOfPosition(p1) >> 32n).toString(16)}/${((lsnOfPosition(p1) & 0xffffffffn) + 8n).toString(16)}`;
    for (const [raw, expect] of [
      [{ start_lsn: '0/10' }, p1.data.lsn], // behind the slot: its confirmed_flush_lsn
      [{ start_lsn: ahead }, ahead.toUpperCase()],
    ] as const) {
      const s = await db.source(raw);
      assert.equal((await s.currentPosition(never)).data.lsn, expect);
      await s.close();
    }
    const b = await db.source({ recreate_slot_if_exists: 'true' });
    const p2 = await b.currentPosition(never);
    await b.close();
    assert.ok(lsnOfPosition(p2) > lsnOfPosition(p1), 'a recreated slot starts now');
    assert.equal((await slotState(slot))!.confirmed, p2.data.lsn);
  });

  it('a slot held by another consumer: START_REPLICATION is retried, then a retryable ST001', async () => {
    const slot = db.slot();
    const a = await db.source();
    const b = await db.source({}, { inUseWaitMs: 600 });
    try {
      const start = await a.currentPosition(never);
      const bg = background(a, start);
      await eventually(async () => (await slotState(slot))!.active, 5000, 'slot active');
      await assert.rejects(
        collect(b, start, () => true),
        (e: FerryError) => e.code === 'ST001' && e.retryable && /is active for PID/.test(e.message),
      );
      await bg.stop();
      // Once released, the other consumer streams (its retry window covers a session still closing).
      await db.exec(`INSERT INTO t VALUES (40, 'after the handover')`);
      const { events } = await collect(b, start, (ev) => rowsOf(ev).some((r) => r.after?.id === 40));
      assert.ok(rowsOf(events).some((r) => r.after?.id === 40));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('streaming from a slot that does not exist is PR001 (changes would be lost), not a silent new slot', async () => {
    db.slot();
    const s = await db.source();
    try {
      await assert.rejects(
        (async () => {
          for await (const _ of s.stream({ kind: 'pg', order: '', data: { lsn: '0/1' } }, never));
        })(),
        (e: FerryError) => e.code === 'PR001' && /does not exist/.test(e.message),
      );
    } finally {
      await s.close();
    }
  });

  it('config keys are validated with ape-dts names (CF002 / CF001)', async () => {
    const make = (raw: Record<string, string>) => createPgCdcSource(db.endpoint(raw), testContext());
    await assert.rejects(make({ slot_name: '' }), (e: FerryError) => e.code === 'CF002' && e.message.startsWith('extractor.slot_name'));
    for (const [key, value] of [
      ['slot_name', 'Bad-Name'],
      ['pub_name', 'no spaces'],
      ['start_lsn', 'abc'],
      ['heartbeat_tb', 'no_schema'],
      ['keepalive_interval_secs', '0'],
      ['recreate_slot_if_exists', 'maybe'],
    ]) {
      await assert.rejects(make({ [key]: value }), (e: FerryError) => e.code === 'CF001' && e.message.startsWith(`extractor.${key}`), key);
    }
  });

  it('a role without REPLICATION gets PR001 saying so', async () => {
    const role = uniqueName('ferry_norepl');
    await pgExec(`CREATE ROLE ${role} LOGIN; GRANT ALL ON DATABASE ${db.name} TO ${role}`);
    try {
      db.slot();
      const s = await createPgCdcSource(db.endpoint({}, { username: role }), testContext());
      try {
        await assert.rejects(s.currentPosition(never), (e: FerryError) => e.code === 'PR001' && /REPLICATION/.test(e.message));
      } finally {
        await s.close();
      }
    } finally {
      await pgExec(`REVOKE ALL ON DATABASE ${db.name} FROM ${role}; DROP ROLE ${role}`);
    }
  });
});
