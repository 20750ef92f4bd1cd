/**
 * The binlog stream: ordering and transaction boundaries, the captured start position, DDL (with ADD/DROP
 * COLUMN decoded correctly on both sides of it, also when read long after), TRUNCATE, resume from a committed
 * position, table filtering, abort, dropped connections and purged positions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ChangeEvent, DdlChange, Position, TruncateChange } from '../../lib/core/change.ts';
import { FerryError } from '../../lib/core/errors.ts';
import type { MysqlCdcSource } from '../../lib/connectors/mysql/index.ts';
import { mysqlPosition } from '../../lib/connectors/mysql/position.ts';
import { freshMysqlDb, mysqlAdmin, type TestDb } from '../support/mysql.ts';
import { cdcSource, collect, commitsOf, dataCommits, never, rowsOf, uniqueServerId } from './mysql-cdc-support.ts';

const ddlsOf = (ev: ChangeEvent[]) => ev.filter((e): e is DdlChange => e.kind === 'ddl');

describe('mysql cdc stream', () => {
  let db: TestDb;
  const opened: MysqlCdcSource[] = [];
  const open = async (tables: string[] | undefined, raw: Record<string, string> = {}, tuning: { batchEvents?: number } = {}) => {
    const s = await cdcSource(tables?.map((tb) => ({ db: db.name, tb })), raw, tuning);
    opened.push(s);
    return s;
  };

  before(async () => {
    db = await freshMysqlDb('mysql_cdc_stream');
    await db.exec(`CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(20)); CREATE TABLE b (id INT PRIMARY KEY, n BIGINT); CREATE TABLE other (id INT PRIMARY KEY)`);
  });
  after(async () => {
    for (const s of opened) await s.close();
    await db?.drop();
  });

  it('streams exactly the writes after currentPosition, a multi-table transaction in order with one CommitMark', async () => {
    const src = await open(['a', 'b']);
    await db.exec(`INSERT INTO a VALUES (1, 'before')`);
    const from = await src.currentPosition(never);
    await db.exec(`BEGIN; INSERT INTO a VALUES (2, 'x'); INSERT INTO b VALUES (1, 10); UPDATE a SET v = 'y' WHERE id = 2; INSERT INTO other VALUES (1); DELETE FROM b WHERE id = 1; COMMIT`);
    await db.exec(`INSERT INTO a VALUES (3, 'z')`);
    const { events } = await collect(src, from, (ev) => dataCommits(ev).length >= 2);
    const rows = rowsOf(events);
    assert.deepEqual(
      rows.map((r) => `${r.table.tb}:${r.op}:${(r.after ?? r.before)!.id}`),
      ['a:insert:2', 'b:insert:1', 'a:update:2', 'b:delete:1', 'a:insert:3'],
    );
    assert.deepEqual(rows[2].before, { id: 2, v: 'x' });
    assert.deepEqual(rows[2].after, { id: 2, v: 'y' });
    // One CommitMark right after the transaction's four changes; positions only grow.
    const firstCommit = events.findIndex((e, i) => e.kind === 'commit' && i > events.indexOf(rows[3]));
    assert.equal(events.slice(events.indexOf(rows[0]), firstCommit).filter((e) => e.kind === 'commit').length, 0);
    const commits = commitsOf(events);
    for (let i = 1; i < commits.length; i++) assert.ok(commits[i - 1].position.order < commits[i].position.order);
    assert.ok(commits[0].position.order > from.order);
    assert.ok(rows[0].position.order > from.order && rows[0].position.order < events[firstCommit].position.order);
    assert.ok(typeof events[firstCommit].sourceTs === 'number' && Math.abs(events[firstCommit].sourceTs! - Date.now()) < 600_000);
    assert.equal(events[firstCommit].position.kind, 'mysql');
    assert.match(String(events[firstCommit].position.data.gtid), /^\d+-\d+-\d+/);
  });

  it('follows a binlog rotation (FLUSH BINARY LOGS) and resumes in the new file', async () => {
    const src = await open(['a']);
    const from = await src.currentPosition(never);
    await db.exec(`INSERT INTO a VALUES (200, 'old file'); FLUSH BINARY LOGS; INSERT INTO a VALUES (201, 'new file')`);
    const { events } = await collect(src, from, (ev) => dataCommits(ev).length >= 2);
    const [c1, c2] = dataCommits(events);
    assert.notEqual(c1.position.data.file, c2.position.data.file);
    assert.ok(c1.position.order < c2.position.order);
    await db.exec(`INSERT INTO a VALUES (202, 'after')`);
    const again = await collect(src, c1.position, (ev) => rowsOf(ev, 'a').length >= 2);
    assert.deepEqual(rowsOf(again.events, 'a').map((r) => r.after!.id), [201, 202]);
  });

  it('starts from a MariaDB GTID position (gtid_enabled + gtid_set); later positions are file + offset', async () => {
    const probe = await open(['a']);
    const at = await probe.currentPosition(never);
    await db.exec(`INSERT INTO a VALUES (100, 'gtid')`);
    const src = await open(['a'], { gtid_enabled: 'true', gtid_set: String(at.data.gtid) });
    const from = await src.currentPosition(never);
    assert.deepEqual(from.data, { file: '', pos: 0, gtid: at.data.gtid });
    const { events } = await collect(src, from, (ev) => dataCommits(ev).length >= 1);
    assert.deepEqual(rowsOf(events, 'a').map((r) => r.after), [{ id: 100, v: 'gtid' }]);
    const c = dataCommits(events)[0];
    assert.match(String(c.position.data.file), /\.\d+$/);
    assert.ok(c.position.order > at.order);
  });

  it('decodes rows before and after ADD/DROP COLUMN, read live and read back after both DDLs', async () => {
    await db.exec('CREATE TABLE evo (id INT PRIMARY KEY, b VARCHAR(10))');
    const live = await open(['evo']);
    const from = await live.currentPosition(never);
    const done = (ev: ChangeEvent[]) => rowsOf(ev, 'evo').length >= 3;
    const liveRun = collect(live, from, done);
    await db.exec(`INSERT INTO evo VALUES (1, 'one'); ALTER TABLE evo ADD COLUMN c INT DEFAULT 7; INSERT INTO evo VALUES (2, 'two', 2);`);
    await db.exec(`ALTER TABLE evo DROP COLUMN b; INSERT INTO evo VALUES (3, 3)`);
    const expected = [{ id: 1, b: 'one' }, { id: 2, b: 'two', c: 2 }, { id: 3, c: 3 }];
    const { events } = await liveRun;
    assert.deepEqual(rowsOf(events, 'evo').map((r) => r.after), expected);
    const ddls = ddlsOf(events);
    assert.deepEqual(ddls.map((d) => [d.db, d.table, d.sql.replace(/\s+/g, ' ')]), [
      [db.name, { db: db.name, tb: 'evo' }, 'ALTER TABLE evo ADD COLUMN c INT DEFAULT 7'],
      [db.name, { db: db.name, tb: 'evo' }, 'ALTER TABLE evo DROP COLUMN b'],
    ]);
    for (const d of ddls) assert.equal(events[events.indexOf(d) + 1].kind, 'commit', 'a CommitMark follows each DDL');
    // History: the table now has (id, c) only; the binlog's own column names decode the old rows.
    const later = await open(['evo']);
    const again = await collect(later, from, done);
    assert.deepEqual(rowsOf(again.events, 'evo').map((r) => r.after), expected);
  });

  it('TRUNCATE is a TruncateChange; DDL of tables outside the task is not emitted', async () => {
    await db.exec('CREATE TABLE tr (id INT PRIMARY KEY)');
    const src = await open(['tr']);
    const from = await src.currentPosition(never);
    await db.exec(`INSERT INTO tr VALUES (1); ALTER TABLE other ADD COLUMN z INT; TRUNCATE TABLE tr; INSERT INTO tr VALUES (2)`);
    const { events } = await collect(src, from, (ev) => rowsOf(ev, 'tr').length >= 2);
    const kinds = events.filter((e) => e.kind !== 'commit' && e.kind !== 'heartbeat').map((e) => (e.kind === 'row' ? `row:${e.after!.id}` : e.kind));
    assert.deepEqual(kinds, ['row:1', 'truncate', 'row:2']);
    const tr = events.find((e): e is TruncateChange => e.kind === 'truncate')!;
    assert.deepEqual(tr.tables, [{ db: db.name, tb: 'tr' }]);
    assert.equal(ddlsOf(events).length, 0);
  });

  it('resumes from a committed position: nothing lost, at most the uncommitted transaction again', async () => {
    await db.exec('CREATE TABLE res (id INT PRIMARY KEY)');
    // One event per batch, so the consumer can stop inside the 5th transaction.
    const src = await open(['res'], {}, { batchEvents: 1 });
    const from = await src.currentPosition(never);
    for (let i = 1; i <= 10; i++) await db.exec(`INSERT INTO res VALUES (${2 * i - 1}), (${2 * i})`);
    // Stop after 4 data commits, plus the first row of the 5th transaction (received, not committed).
    const first = await collect(src, from, (ev) => {
      const rows = rowsOf(ev, 'res');
      return dataCommits(ev).length >= 4 && rows.length >= 9;
    });
    const committed: Position = dataCommits(first.events)[3].position;
    const seenFirst = rowsOf(first.events, 'res').map((r) => r.after!.id as number);
    const second = await collect(src, committed, (ev) => rowsOf(ev, 'res').length >= 12);
    const seenSecond = rowsOf(second.events, 'res').map((r) => r.after!.id as number);
    assert.deepEqual(seenSecond, [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    assert.deepEqual([...new Set([...seenFirst, ...seenSecond])].sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.ok(seenFirst.filter((id) => seenSecond.includes(id)).every((id) => id >= 9 && id <= 10), 'only the uncommitted transaction repeats');
  });

  it('an abort ends the iteration cleanly; a dropped binlog connection is a retryable CN001', async () => {
    const src = await open(['a']);
    const from = await src.currentPosition(never);
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(new Error('stop')), 300);
    for await (const _b of src.stream(from, ctrl.signal)) {
      // drain until aborted
    }
    const run = (async () => {
      for await (const _b of src.stream(from, never)) {
        // consumed until the connection drops
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    const threadId = (src as unknown as { session: { z: { connection: { threadId: number } } } }).session.z.connection.threadId;
    const admin = await mysqlAdmin();
    await admin.query(`KILL ${threadId}`);
    await admin.end();
    await assert.rejects(run, (e: unknown) => e instanceof FerryError && e.code === 'CN001' && e.retryable);
  });

  it('a second reader with the same server_id ends the first one: CN001 naming extractor.server_id', async () => {
    const id = String(uniqueServerId());
    const first = await open(['a'], { server_id: id });
    const second = await open(['a'], { server_id: id });
    const from = await first.currentPosition(never);
    const run = collect(first, from, () => false, { timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 500));
    const other = collect(second, from, () => false, { timeoutMs: 2_000 }).catch(() => undefined);
    await assert.rejects(run, (e: unknown) => e instanceof FerryError && e.code === 'CN001' && /extractor\.server_id/.test(e.message));
    await other;
  });

  it('a purged or unknown binlog position is PR001 (not retryable) telling to start from a snapshot', async () => {
    const src = await open(['a']);
    const gone = mysqlPosition('binlog.999999', 4);
    await assert.rejects(
      collect(src, gone, () => false, { timeoutMs: 10_000 }),
      (e: unknown) => e instanceof FerryError && e.code === 'PR001' && !e.retryable && /purged/.test(e.message),
    );
  });

  it('start_time_utc skips transactions committed before it; end_time_utc ends the stream before the first after it', async () => {
    await db.exec('CREATE TABLE tf (id INT PRIMARY KEY)');
    const probe = await open(['tf']);
    const from = await probe.currentPosition(never);
    const now = async () => (await db.query<{ t: string }>(`SELECT DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:%i:%s') AS t`))[0].t;
    const pause = () => new Promise((r) => setTimeout(r, 1200));
    await db.exec('INSERT INTO tf VALUES (1)');
    await pause();
    const start = await now();
    await pause();
    await db.exec('INSERT INTO tf VALUES (2)');
    await pause();
    const end = await now();
    await pause();
    await db.exec('INSERT INTO tf VALUES (3)');
    const src = await open(['tf'], { start_time_utc: start, end_time_utc: end });
    const events: ChangeEvent[] = [];
    for await (const batch of src.stream(from, AbortSignal.timeout(20_000))) events.push(...batch);
    assert.deepEqual(rowsOf(events, 'tf').map((r) => r.after!.id), [2]);
    assert.equal(events[events.length - 1].kind, 'commit', 'the stream ends at a commit');
    // Without a stored position, start_time_utc picks the binlog file open at that time.
    const p = await src.currentPosition(never);
    assert.equal(p.data.pos, 4);
    assert.ok(p.order <= from.order);
  });

  it('an idle stream gets binlog heartbeats (binlog_heartbeat_interval_secs) at a position at or past its start', async () => {
    const src = await open(['a'], { binlog_heartbeat_interval_secs: '1' });
    const from = await src.currentPosition(never);
    // Other suites may write meanwhile: their transactions arrive as empty CommitMarks and delay heartbeats.
    const { events } = await collect(src, from, (ev) => ev.some((e) => e.kind === 'heartbeat'), { timeoutMs: 30_000 });
    const hb = events.find((e) => e.kind === 'heartbeat')!;
    assert.ok(hb.position.order >= from.order);
    assert.equal(rowsOf(events).length, 0);
  });

  it('without a table list every table streams; the heartbeat table is written and its commits move the position', async () => {
    await db.exec('CREATE TABLE hb (server_id INT UNSIGNED NOT NULL PRIMARY KEY, update_timestamp TIMESTAMP DEFAULT CURRENT_TIMESTAMP, received_binlog_filename VARCHAR(255), received_next_event_position BIGINT UNSIGNED, received_timestamp VARCHAR(255), flushed_binlog_filename VARCHAR(255), flushed_next_event_position BIGINT UNSIGNED, flushed_timestamp VARCHAR(255))');
    const src = await open(undefined, { heartbeat_tb: `${db.name}.hb`, heartbeat_interval_secs: '1', binlog_heartbeat_interval_secs: '1' });
    const from = await src.currentPosition(never);
    await db.exec(`INSERT INTO other VALUES (42, NULL)`);
    const { events } = await collect(src, from, (ev) => rowsOf(ev, 'hb').length >= 2 && rowsOf(ev, 'other').length >= 1, { timeoutMs: 20_000 });
    assert.deepEqual(rowsOf(events, 'other')[0].after, { id: 42, z: null });
    const [row] = await db.query<{ server_id: number; received_binlog_filename: string }>('SELECT server_id, received_binlog_filename FROM hb');
    assert.ok(row.server_id > 0 && /\.\d+$/.test(row.received_binlog_filename));
  });
});
