/**
 * StarRocks / Doris sinker and CDC applier "up to the wire": every request goes over real HTTP to a local
 * fake FE + BE pair (test/support/fake-stream-load.ts) -- redirect, Basic auth, 100-continue, labels,
 * bodies, answers -- and the table shapes come from an in-memory catalog (the FE's MySQL side). No
 * StarRocks or Doris server runs here; the live tests are olap-live.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../lib/core/logger.ts';
import type { TargetChange, WriteTarget } from '../../lib/core/sinker.ts';
import type { TableRef } from '../../lib/core/table.ts';
import type { Row, TypeFamily } from '../../lib/core/values.ts';
import { resolveOlapConfig } from '../../lib/connectors/olap/config.ts';
import type { OlapDialect } from '../../lib/connectors/olap/dialect.ts';
import type { OlapCatalog, OlapTableInfo } from '../../lib/connectors/olap/fe-client.ts';
import { StreamLoadSinker } from '../../lib/connectors/olap/sinker.ts';
import { DORIS } from '../../lib/connectors/doris/index.ts';
import { STARROCKS } from '../../lib/connectors/starrocks/index.ts';
import { startFakeStreamLoad, type FakeStreamLoad } from '../support/fake-stream-load.ts';

const signal = new AbortController().signal;
const USER = 'loader';
const PASSWORD = 'p@ss:w0rd';

type Rejection = Error & { code?: string; retryable?: boolean };
const rejectsWith = (code: string, pattern: RegExp) => (e: Rejection) => {
  assert.equal(e.code, code, e.message);
  assert.match(e.message, pattern);
  assert.doesNotMatch(e.message, /p@ss/);
  return true;
};

/** The FE's MySQL side, in memory: table shapes, and the statements run. */
class FakeCatalog implements OlapCatalog {
  readonly tables = new Map<string, OlapTableInfo>();
  readonly executed: string[] = [];
  constructor(private readonly fake: FakeStreamLoad) {}
  add(info: OlapTableInfo): void {
    this.tables.set(`${info.table.db}.${info.table.tb}`, info);
    this.fake.defineTable(info.table.db, info.table.tb, info.keyColumns);
  }
  async describe(t: TableRef): Promise<OlapTableInfo | undefined> {
    return this.tables.get(`${t.db}.${t.tb}`);
  }
  async databaseExists(db: string): Promise<boolean> {
    return [...this.tables.values()].some((t) => t.table.db === db);
  }
  async execute(sql: string): Promise<void> {
    this.executed.push(sql);
    const m = /^TRUNCATE TABLE `([^`]+)`\.`([^`]+)`$/.exec(sql);
    if (m) this.fake.tables.get(`${m[1]}.${m[2]}`)?.rows.clear();
  }
  async close(): Promise<void> {}
}

const col = (name: string, family: TypeFamily, nativeType: string = family) => ({ name, family, nativeType, nullable: true });

for (const dialect of [STARROCKS, DORIS] as OlapDialect[]) {
  describe(`${dialect.dbType} stream load over the wire (fake FE/BE)`, () => {
    let fake: FakeStreamLoad;
    let catalog: FakeCatalog;
    const db = 'shop db';
    const orders: TableRef = { db, tb: 'orders`x' };
    const keyless: TableRef = { db, tb: 'events' };
    const columns = [col('id', 'int', 'bigint'), col('amount', 'decimal', 'decimal(30,10)'), col('big', 'uint', 'bigint unsigned'), col('c', 'string', 'varchar(20)'), col('doc', 'json'), col('ts', 'timestamptz')];
    const target: WriteTarget = { table: orders, source: { db: 'src', tb: 'orders' }, columns, keyColumns: ['id'] };
    const sinkerWith = (raw: Record<string, string> = {}, password = PASSWORD) =>
      new StreamLoadSinker(
        dialect,
        resolveOlapConfig({ url: `mysql://${USER}:${encodeURIComponent(password)}@127.0.0.1:9030`, maxConnections: 2, raw: { stream_load_url: fake.feUrl, ...raw } }),
        catalog,
        silentLogger,
        { baseMs: 1, maxMs: 5 },
      );
    const rows = (n: number, tag: string): Row[] =>
      Array.from({ length: n }, (_, i) => ({
        id: i + 1,
        amount: `${i + 1}2345678901234567890.0123456789`,
        big: 18446744073709551615n - BigInt(i),
        c: `${tag}-${i}`,
        doc: `{"k": [${i}, "x"]}`,
        ts: '2024-03-01 10:00:00.123456+02:00',
      }));

    before(async () => {
      fake = await startFakeStreamLoad({ user: USER, password: PASSWORD, opColumn: dialect.opColumn });
      catalog = new FakeCatalog(fake);
      catalog.add({
        table: orders,
        model: dialect.upsertModel,
        keyColumns: ['id'],
        columns: [
          { name: 'id', dataType: 'bigint', nullable: false },
          { name: 'amount', dataType: 'decimal', nullable: true },
          { name: 'big', dataType: 'largeint', nullable: true },
          { name: 'c', dataType: 'varchar', nullable: true },
          { name: 'doc', dataType: 'json', nullable: true },
          { name: 'ts', dataType: 'datetime', nullable: true },
        ],
      });
      catalog.add({ table: keyless, model: 'DUPLICATE', keyColumns: ['n'], columns: [{ name: 'n', dataType: 'int', nullable: true }] });
    });
    after(async () => fake?.close());

    it('snapshot write: FE redirect followed with auth kept, exact headers and values, idempotent labels', async () => {
      fake.loads.length = 0;
      const s = sinkerWith();
      const w = await s.openTable(target, signal);
      await w.write(rows(3, 'a'), signal);
      assert.equal(fake.feHits, 1, 'first hop went to the FE');
      assert.equal(fake.loads.length, 1);
      const l = fake.loads[0];
      assert.equal(l.url, `/api/shop%20db/orders%60x/_stream_load`);
      assert.equal(l.headers.authorization, 'Basic ' + Buffer.from(`${USER}:${PASSWORD}`).toString('base64'), 'Authorization kept across the cross-origin 307');
      assert.equal(l.headers.expect, '100-continue');
      assert.equal(l.headers.format, 'json');
      assert.equal(l.headers.strip_outer_array, 'true');
      assert.equal(l.headers.columns, '`id`,`amount`,`big`,`c`,`doc`,`ts`');
      assert.equal(l.headers.max_filter_ratio, '0');
      assert.equal(l.headers.strict_mode, 'true');
      assert.match(String(l.headers.label), /^ferry_s_[0-9a-f]{48}$/);
      assert.equal(l.status, 'Success');
      // Precision kept on the wire: decimal and LARGEINT as number tokens, JSON embedded, timestamptz in UTC.
      const raw = JSON.stringify(l.rows[0]);
      assert.ok(raw.includes('"ts":"2024-03-01 08:00:00.123456"'), raw);
      assert.deepEqual(l.rows[0].doc, { k: [0, 'x'] });
      assert.equal(fake.rowsOf(db, orders.tb).length, 3);

      // The same batch again (a retry or a rerun): same label, deduplicated by the server, still a success.
      const label = l.headers.label;
      await w.write(rows(3, 'a'), signal);
      assert.equal(fake.loads[1].headers.label, label);
      assert.equal(fake.loads[1].status, 'Label Already Exists');
      // Different content: another label, upserted by key.
      await w.write(rows(3, 'b'), signal);
      assert.notEqual(fake.loads[2].headers.label, label);
      assert.deepEqual(fake.rowsOf(db, orders.tb).map((r) => r.c), ['b-0', 'b-1', 'b-2']);
      await s.close();
    });

    it('decimal and LARGEINT digits reach the body unrounded (body bytes as sent)', async () => {
      const s = sinkerWith();
      const w = (await s.openTable(target, signal)) as unknown as { bodies(r: Row[]): Array<{ body: Buffer }> };
      const text = w.bodies([{ ...rows(1, 'p')[0], amount: '-0012345678901234567890123456.0123456789' }])[0].body.toString();
      assert.ok(text.includes('"amount":-12345678901234567890123456.0123456789,'), text);
      assert.ok(text.includes('"big":18446744073709551615,'), text);
      await s.close();
    });

    it('a lost answer after commit: the retry reuses the label and "Label Already Exists" counts as done', async () => {
      fake.loads.length = 0;
      const s = sinkerWith();
      const w = await s.openTable(target, signal);
      fake.dropNext = 1;
      await w.write(rows(2, 'lost'), signal);
      assert.equal(fake.loads.length, 2);
      assert.equal(fake.loads[0].status, 'Success');
      assert.equal(fake.loads[1].status, 'Label Already Exists');
      assert.equal(fake.loads[0].headers.label, fake.loads[1].headers.label);
      await s.close();
    });

    it('a retryable Fail is retried under the same label', async () => {
      fake.loads.length = 0;
      const s = sinkerWith();
      const w = await s.openTable(target, signal);
      fake.failNext = 1;
      await w.write(rows(2, 'retry'), signal);
      assert.deepEqual(fake.loads.map((l) => l.status), ['Fail', 'Success']);
      assert.equal(fake.loads[0].headers.label, fake.loads[1].headers.label);
      await s.close();
    });

    it('bodies are bounded by stream_load_max_bytes: a batch becomes several loads, every row once', async () => {
      fake.loads.length = 0;
      const s = sinkerWith({ stream_load_max_bytes: '2048' });
      const w = await s.openTable(target, signal);
      await w.write(rows(40, 'many'), signal);
      assert.ok(fake.loads.length > 3, `${fake.loads.length} loads`);
      for (const l of fake.loads) assert.ok(l.bodyBytes <= 2048, `${l.bodyBytes} bytes`);
      assert.deepEqual(fake.loads.flatMap((l) => l.rows.map((r) => r.id)), Array.from({ length: 40 }, (_, i) => i + 1));
      assert.equal(new Set(fake.loads.map((l) => l.headers.label)).size, fake.loads.length);
      await s.close();
    });

    it('CDC: one load per table per batch, folded per key, deletes with the op column', async () => {
      fake.loads.length = 0;
      fake.tables.get(`${db}.${orders.tb}`)!.rows.clear();
      const s = sinkerWith();
      const base = await s.openTable(target, signal);
      await base.write(rows(3, 'cdc'), signal);
      fake.loads.length = 0;
      const a = await s.openApplier(signal);
      const row = (id: number, c: string): Row => ({ ...rows(id, 'x')[id - 1], c });
      const changes: TargetChange[] = [
        { op: 'insert', target, beforeKey: null, after: row(10, 'new') },
        { op: 'update', target, beforeKey: { id: 1 }, after: row(1, 'one-v2') },
        { op: 'update', target, beforeKey: { id: 1 }, after: row(1, 'one-v3') },
        { op: 'delete', target, beforeKey: { id: 2 }, after: null },
        { op: 'update', target, beforeKey: { id: 3 }, after: row(30, 'moved') },
        { op: 'insert', target, beforeKey: null, after: row(11, 'gone') },
        { op: 'delete', target, beforeKey: { id: 11 }, after: null },
      ];
      await a.apply(changes, signal);
      assert.equal(fake.loads.length, 1, 'one Stream Load for the table');
      const l = fake.loads[0];
      assert.equal(l.headers.columns, `\`id\`,\`amount\`,\`big\`,\`c\`,\`doc\`,\`ts\`,\`${dialect.opColumn}\``);
      assert.match(String(l.headers.label), /^ferry_c_[0-9a-f]{48}$/);
      const ops = l.rows.map((r) => [r.id, r[dialect.opColumn], r.c]);
      assert.deepEqual(ops, [
        [10, 0, 'new'],
        [1, 0, 'one-v3'],
        [2, 1, undefined],
        [3, 1, undefined],
        [30, 0, 'moved'],
        [11, 1, undefined],
      ]);
      assert.deepEqual(fake.rowsOf(db, orders.tb).map((r) => [r.id, r.c]).sort((x, y) => Number(x[0]) - Number(y[0])), [
        [1, 'one-v3'],
        [10, 'new'],
        [30, 'moved'],
      ]);
      // The same changes applied again later (a replay after a crash): another label, same end state.
      await a.apply(changes, signal);
      assert.notEqual(fake.loads[1].headers.label, l.headers.label);
      assert.equal(fake.rowsOf(db, orders.tb).length, 3);
      // A row without some columns (PostgreSQL unchanged TOAST) goes in a partial-update load.
      fake.loads.length = 0;
      await a.apply([{ op: 'update', target, beforeKey: { id: 1 }, after: { id: 1, c: 'partial' } }], signal);
      assert.equal(fake.loads[0].headers.columns, '`id`,`c`');
      assert.equal(fake.loads[0].headers[Object.keys(dialect.partialHeaders)[0]], 'true');
      const one = fake.rowsOf(db, orders.tb).find((r) => r.id === 1)!;
      assert.equal(one.c, 'partial');
      assert.deepEqual(one.doc, { k: [0, 'x'] }, 'columns absent from the partial row kept');
      await a.close();
      await s.close();
    });

    it('keyless (DUPLICATE KEY) tables: replaceAll truncates then loads; CDC refuses updates (MD001)', async () => {
      const s = sinkerWith();
      const kt: WriteTarget = { table: keyless, source: keyless, columns: [col('n', 'int')], keyColumns: [] };
      const w = await s.openTable(kt, signal);
      async function* batches() {
        yield [{ n: 1 }, { n: 1 }];
        yield [{ n: 2 }];
      }
      assert.equal(await w.replaceAll!(batches(), signal), 3);
      assert.equal(await w.replaceAll!(batches(), signal), 3);
      assert.equal(fake.rowsOf(db, keyless.tb).length >= 1, true);
      assert.equal(catalog.executed.filter((x) => x.startsWith('TRUNCATE TABLE `shop db`.`events`')).length, 2);
      await assert.rejects(w.write([{ n: 5 }], signal), rejectsWith('RT002', /keyless/));
      const a = await s.openApplier(signal);
      await assert.rejects(a.apply([{ op: 'delete', target: kt, beforeKey: { n: 1 }, after: null }], signal), rejectsWith('MD001', /events has no key/));
      await s.close();
    });

    it('a value the BE rejects: IN001 naming the table and the first line of the ErrorURL', async () => {
      const s = sinkerWith();
      const w = await s.openTable(target, signal);
      fake.rejectValues.add('too-long-value');
      await assert.rejects(w.write([{ ...rows(1, 'z')[0], c: 'too-long-value' }], signal), rejectsWith('IN001', /target shop db\.orders`x: Error: Value too long for column c, value is "too-long-value"/));
      fake.rejectValues.clear();
      await s.close();
    });

    it('a value that cannot travel (NaN, non-UTF-8 bytes): IN001 naming table, column and key before sending', async () => {
      const s = sinkerWith();
      const w = await s.openTable({ ...target, columns: [...columns.slice(0, 3), col('c', 'float')] }, signal);
      const n = fake.loads.length;
      await assert.rejects(w.write([{ id: 7, amount: '1', big: 1n, c: Number.NaN }], signal), rejectsWith('IN001', /value does not fit column c \(NaN .*\) at key id=7/));
      assert.equal(fake.loads.length, n, 'nothing sent');
      await s.close();
    });

    it('wrong password: AU001 (BE answers 401 before the body is sent)', async () => {
      const s = sinkerWith({}, 'wrong-pw');
      const w = await s.openTable(target, signal);
      const n = fake.loads.length;
      await assert.rejects(w.write(rows(1, 'x'), signal), rejectsWith('AU001', /credentials refused \(HTTP 401/));
      assert.equal(fake.loads.length, n, 'the BE never read a body');
      await s.close();
    });

    it('nothing listening: CN001, retryable, naming the address', async () => {
      const s = new StreamLoadSinker(dialect, resolveOlapConfig({ url: `mysql://${USER}:${PASSWORD}@127.0.0.1:9030`, maxConnections: 1, raw: { stream_load_url: 'http://127.0.0.1:9' } }), catalog, silentLogger, { attempts: 2, baseMs: 1, maxMs: 2 });
      const w = await s.openTable(target, signal);
      await assert.rejects(w.write(rows(1, 'x'), signal), (e: Rejection) => rejectsWith('CN001', /http:\/\/127\.0\.0\.1:9\/api\/.* unreachable \(ECONNREFUSED\)/)(e) && e.retryable === true);
      await s.close();
    });

    it('target checks: missing table, missing column, wrong key model (MD001)', async () => {
      const s = sinkerWith();
      await assert.rejects(s.openTable({ ...target, table: { db, tb: 'nope' } }, signal), rejectsWith('MD001', /target table shop db\.nope does not exist/));
      await assert.rejects(s.openTable({ ...target, columns: [...columns, col('extra', 'int')] }, signal), rejectsWith('MD001', /target column shop db\.orders`x\.extra does not exist/));
      await assert.rejects(s.openTable({ ...target, table: keyless, columns: [col('n', 'int')], keyColumns: ['n'] }, signal), rejectsWith('MD001', /DUPLICATE KEY table/));
      await s.close();
    });
  });
}
