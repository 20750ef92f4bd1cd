/**
 * MySQL endpoints: URL parsing as ape-dts writes it, ssl-mode, session settings, connection failures
 * (CN001 after retries, AU001), and that no password reaches messages or logs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { memoryLogger, silentLogger } from '../../lib/core/logger.ts';
import { acquireClient, createMysqlMetadata, createMysqlSnapshotSource, resolveMysqlConfig } from '../../lib/connectors/mysql/index.ts';
import { mysqlAdmin, mysqlEndpoint } from '../support/mysql.ts';
import { testUrls, uniqueName } from '../support/services.ts';
import type { Connection } from 'mysql2/promise';

const signal = new AbortController().signal;
const ctx = { logger: silentLogger, signal };
const ep = (url: string, over: Record<string, unknown> = {}) => ({ ...mysqlEndpoint(), url, ...over });
const server = new URL(testUrls.mysql);

type Rejection = Error & { code?: string };

describe('mysql endpoint config', () => {
  it('parses ape-dts URLs; username/password override the URL; escaped passwords decode', () => {
    const c = resolveMysqlConfig(ep('mysql://root:p%40ss%3Aw%2Frd@127.0.0.1:3307?ssl-mode=disabled'));
    assert.equal(c.address, '127.0.0.1:3307');
    assert.equal(c.sslMode, 'disabled');
    assert.equal(c.pool.user, 'root');
    assert.equal(c.pool.password, 'p@ss:w/rd');
    assert.equal(c.pool.ssl, undefined);
    assert.equal(c.database, undefined);
    assert.equal(c.pool.connectionLimit, 4);
    const o = resolveMysqlConfig(ep('mysql://root:pw@db.example:3306/app', { username: 'ferry', password: 'other' }));
    assert.deepEqual([o.pool.user, o.pool.password, o.database, o.sslMode], ['ferry', 'other', 'app', 'preferred']);
    assert.deepEqual(resolveMysqlConfig(ep('mysql://u@[::1]:3310?ssl_mode=REQUIRED')).address, '[::1]:3310');
    assert.deepEqual(resolveMysqlConfig(ep('mysql://u@h?ssl-mode=required')).pool.ssl, { ca: undefined, cert: undefined, key: undefined, rejectUnauthorized: false });
    assert.equal((resolveMysqlConfig(ep('mysql://u@h?ssl-mode=verify_identity')).pool.ssl as { verifyIdentity?: boolean }).verifyIdentity, true);
  });

  it('rejects bad URLs with CF001 without echoing the password', () => {
    for (const url of ['postgres://u:secretpw@h/db', 'not a url secretpw', 'mysql://u:secretpw@h?ssl-mode=sometimes']) {
      assert.throws(
        () => resolveMysqlConfig(ep(url)),
        (e: Rejection) => e.code === 'CF001' && /^url: /.test(e.message) && !e.message.includes('secretpw'),
      );
    }
  });
});

describe('mysql connections', () => {
  let admin: Connection;
  const user = uniqueName('ferry_u');

  before(async () => {
    admin = await mysqlAdmin();
    await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'right-pw'; GRANT SELECT ON *.* TO '${user}'@'%'`);
  });
  after(async () => {
    await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
    await admin.end();
  });

  it('sessions read TIMESTAMP in UTC; sink sessions are strict but accept zero dates', async () => {
    const src = acquireClient(mysqlEndpoint(), 'source', ctx);
    const sink = acquireClient(mysqlEndpoint(), 'sink', ctx, { disableForeignKeyChecks: true });
    try {
      const [s] = await src.client.query<Record<string, unknown>>('SELECT @@session.time_zone tz', signal);
      assert.equal(s.tz, '+00:00');
      const [k] = await sink.client.query<Record<string, unknown>>('SELECT @@session.time_zone tz, @@session.sql_mode m, @@session.foreign_key_checks fk', signal);
      assert.equal(k.tz, '+00:00');
      assert.match(String(k.m), /STRICT_ALL_TABLES/);
      assert.match(String(k.m), /NO_AUTO_VALUE_ON_ZERO/);
      assert.doesNotMatch(String(k.m), /NO_ZERO_DATE/);
      assert.equal(Number(k.fk), 0);
    } finally {
      await src.release();
      await sink.release();
    }
  });

  it('ssl-mode=preferred falls back to plain text on a server without TLS; required fails with PR001', { timeout: 60_000 }, async () => {
    const base = `mysql://root@${server.host}`;
    // Several first connections at once (a worker pool starting): all of them must fall back.
    for (const url of [`${base}?ssl-mode=preferred`, base]) {
      const md = await createMysqlMetadata(ep(url, { maxConnections: 4 }), ctx);
      try {
        const all = await Promise.all(Array.from({ length: 8 }, () => md.listDatabases(signal)));
        for (const dbs of all) assert.ok(!dbs.includes('mysql'));
      } finally {
        await md.close();
      }
    }
    const req = await createMysqlMetadata(ep(`${base}?ssl-mode=required`), ctx);
    try {
      await assert.rejects(req.listDatabases(signal), (e: Rejection) => e.code === 'PR001');
    } finally {
      await req.close();
    }
  });

  it('wrong password -> AU001, no password in the message', async () => {
    const md = await createMysqlMetadata(ep(`mysql://${user}:wrong-secret@${server.host}?ssl-mode=disabled`), ctx);
    try {
      await assert.rejects(md.listDatabases(signal), (e: Rejection) => e.code === 'AU001' && !e.message.includes('wrong-secret'));
    } finally {
      await md.close();
    }
    const ok = await createMysqlMetadata(ep(`mysql://${user}:wrong-secret@${server.host}?ssl-mode=disabled`, { password: 'right-pw' }), ctx);
    try {
      assert.ok(Array.isArray(await ok.listDatabases(signal)));
    } finally {
      await ok.close();
    }
  });

  it('unreachable port -> CN001 naming host:port after the retries; the password is never logged', async () => {
    const logger = memoryLogger();
    const md = await createMysqlMetadata(ep('mysql://root:very-secret@127.0.0.1:1?ssl-mode=disabled'), { logger, signal }, {
      connectRetry: { attempts: 3, baseMs: 5, maxMs: 20 },
    });
    const t0 = Date.now();
    try {
      await assert.rejects(md.listDatabases(signal), (e: Rejection & { retryable?: boolean }) => {
        assert.equal(e.code, 'CN001');
        assert.equal(e.retryable, true);
        assert.match(e.message, /127\.0\.0\.1:1 after 3 attempt/);
        assert.ok(!e.message.includes('very-secret'));
        return true;
      });
    } finally {
      await md.close();
    }
    assert.ok(Date.now() - t0 < 5_000);
    assert.equal(logger.lines.filter((l) => l.msg === 'mysql connect failed, retrying').length, 2);
    assert.ok(!JSON.stringify(logger.lines).includes('very-secret'));
  });

  it('roles of one endpoint share a lazily created pool until the last one closes', async () => {
    const md = await createMysqlMetadata(mysqlEndpoint(), ctx);
    const src = await createMysqlSnapshotSource(mysqlEndpoint(), ctx);
    await md.listDatabases(signal);
    await md.close();
    const meta = await createMysqlMetadata(mysqlEndpoint(), ctx);
    assert.ok((await meta.listDatabases(signal)).length > 0);
    await meta.close();
    await src.close();
  });
});
