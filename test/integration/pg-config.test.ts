/**
 * Endpoint URL handling (ape-dts URL form, credentials merge, session settings) and read-side aborts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FerryError } from '../../lib/core/errors.ts';
import { memoryLogger } from '../../lib/core/logger.ts';
import type { ChunkSpec } from '../../lib/core/source.ts';
import { parsePgUrl, PgPool, pgConnector } from '../../lib/connectors/pg/index.ts';
import { freshSchema, pgEndpoint, pgExec, pgUrl, testContext, type PgTestSchema } from '../support/pg.ts';

const ctx = testContext();
const signal = ctx.signal;
const ep = (url: string, extra: Record<string, unknown> = {}) => ({ url, maxConnections: 3, ...extra });

describe('pg endpoint URL', () => {
  it('reads the ape-dts URL form', () => {
    const { pool, target } = parsePgUrl(ep('postgres://postgres:p%40ss@127.0.0.1:5433/mydb?options[statement_timeout]=10s&sslmode=disable'));
    assert.deepEqual([pool.host, pool.port, pool.database, pool.user, pool.password, pool.max, pool.ssl], ['127.0.0.1', 5433, 'mydb', 'postgres', 'p@ss', 3, false]);
    assert.match(pool.options!, /-c statement_timeout=10s/);
    assert.match(pool.options!, /-c TimeZone=UTC/);
    assert.equal(target.label, '127.0.0.1:5433/mydb');
  });

  it('accepts postgresql://, IPv6, sslmode=require, default port and database', () => {
    const a = parsePgUrl(ep('postgresql://u@[::1]/?sslmode=require'));
    assert.deepEqual([a.pool.host, a.pool.port, a.pool.database, a.pool.ssl], ['::1', 5432, 'u', { rejectUnauthorized: false }]);
  });

  it('endpoint username/password win over the URL', () => {
    const { pool } = parsePgUrl(ep('postgres://urluser:urlpw@h:1/d', { username: 'cfg', password: 'cfgpw' }));
    assert.deepEqual([pool.user, pool.password], ['cfg', 'cfgpw']);
  });

  it('a bad URL or sslmode is CF001 naming the key, never echoing the password', () => {
    assert.throws(() => parsePgUrl(ep('mysql://u:pw@h/d'), 'sinker.url'), (e: FerryError) => e.code === 'CF001' && e.message.startsWith('sinker.url'));
    assert.throws(() => parsePgUrl(ep('postgres://u:topsecret@h/d?sslmode=bogus'), 'extractor.url'), (e: FerryError) =>
      e.code === 'CF001' && !e.message.includes('topsecret'),
    );
    assert.throws(() => parsePgUrl(ep('not a url :topsecret@')), (e: FerryError) => e.code === 'CF001' && !e.message.includes('topsecret'));
  });

  it('sessions run in UTC with URL options applied', async () => {
    const u = new URL(pgUrl);
    u.searchParams.set('options[statement_timeout]', '7s');
    const pool = new PgPool(parsePgUrl(ep(u.toString())), memoryLogger());
    try {
      const rows = await pool.query<string[]>({ text: "SELECT current_setting('TimeZone'), current_setting('statement_timeout'), now()::text, 12345678901234567::int8, 1.10::numeric" }, signal, 't');
      const [tz, st, now, big, num] = rows[0];
      assert.deepEqual([tz, st, big, num], ['UTC', '7s', '12345678901234567', '1.10']);
      assert.match(now, /\+00$/);
    } finally {
      await pool.end();
    }
  });

  it('unknown write/read mode option is CF001 naming sinker.pg_write_mode', async () => {
    await assert.rejects(pgConnector.createSinker!(pgEndpoint({ raw: { pg_write_mode: 'fast' } }), ctx), (e: FerryError) =>
      e.code === 'CF001' && e.message.includes('sinker.pg_write_mode'),
    );
  });

  it('logs no password while retrying a connection', async () => {
    const logger = memoryLogger();
    const pool = new PgPool(parsePgUrl(ep('postgres://postgres:hunter2@127.0.0.1:1/postgres')), logger, { connectAttempts: 3, connectBaseMs: 10 });
    await assert.rejects(pool.query({ text: 'SELECT 1' }, signal, 't'), (e: FerryError) => e.code === 'CN001' && !e.message.includes('hunter2'));
    assert.equal(logger.lines.length, 2);
    assert.ok(!JSON.stringify(logger.lines).includes('hunter2'));
    await pool.end();
  });
});

describe('pg reads on abort', () => {
  let s: PgTestSchema;
  before(async () => {
    s = await freshSchema('ferry_pgabort');
    await s.exec(`CREATE TABLE ${s.q}.k (id int PRIMARY KEY); INSERT INTO ${s.q}.k SELECT generate_series(1, 5);
      CREATE TABLE ${s.q}.nk (v int); INSERT INTO ${s.q}.nk SELECT generate_series(1, 200000);`);
  });
  after(async () => {
    await s?.drop();
  });

  for (const mode of ['select', 'copy'] as const) {
    it(`cancels a running keyset page on the server (read ${mode})`, async () => {
      const md = await pgConnector.createMetadata!(pgEndpoint(), ctx);
      const src = await pgConnector.createSnapshotSource!(pgEndpoint({ raw: { pg_read_mode: mode } }), ctx);
      try {
        const meta = await md.getTableMeta({ db: s.name, tb: 'k' }, signal);
        const ac = new AbortController();
        setTimeout(() => ac.abort(new Error('deadline')), 300);
        const chunk: ChunkSpec = { id: 'a', table: meta, kind: 'range', lower: null, upper: null, estimatedRows: 5 };
        const started = Date.now();
        await assert.rejects(
          (async () => {
            for await (const _ of src.readChunk(meta, chunk, { columns: ['id'], batchSize: 10, signal: ac.signal, where: '(SELECT pg_sleep(30)) IS NOT NULL' }));
          })(),
          (e: FerryError) => e.code === 'RT001',
        );
        assert.ok(Date.now() - started < 5000);
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(await pgExec(`SELECT pid FROM pg_stat_activity WHERE application_name = 'ferry' AND query LIKE '%pg_sleep(30)%' AND state = 'active'`), []);
      } finally {
        await md.close();
        await src.close();
      }
    });
  }

  it('stops a keyless stream when the consumer stops or aborts, leaving no busy session', async () => {
    const md = await pgConnector.createMetadata!(pgEndpoint(), ctx);
    const src = await pgConnector.createSnapshotSource!(pgEndpoint(), ctx);
    try {
      const meta = await md.getTableMeta({ db: s.name, tb: 'nk' }, signal);
      const chunk: ChunkSpec = { id: 'w', table: meta, kind: 'whole', lower: null, upper: null, estimatedRows: 0 };
      let batches = 0;
      for await (const b of src.readChunk(meta, chunk, { columns: ['v'], batchSize: 1000, signal })) {
        assert.equal(b.rows.length, 1000);
        if (++batches === 3) break;
      }
      const ac = new AbortController();
      await assert.rejects(
        (async () => {
          for await (const _ of src.readChunk(meta, chunk, { columns: ['v'], batchSize: 1000, signal: ac.signal })) ac.abort(new Error('stop'));
        })(),
        (e: FerryError) => e.code === 'RT001',
      );
      let total = 0;
      for await (const b of src.readChunk(meta, chunk, { columns: ['v'], batchSize: 7777, signal })) total += b.rows.length;
      assert.equal(total, 200000);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(await pgExec(`SELECT pid FROM pg_stat_activity WHERE application_name = 'ferry' AND query LIKE 'COPY%' AND state = 'active'`), []);
    } finally {
      await md.close();
      await src.close();
    }
  });
});
