/**
 * Slab reads (lib/connectors/mysql/socket.ts) against the test MariaDB: a 12 MB result read through a paused
 * connection arrives in reads larger than Node's 64 KiB, every chunk a consumer kept still holds the bytes it
 * was given once later reads filled the slab, and the rows equal what a plain mysql2 connection reads.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Socket } from 'node:net';
import { createConnection, type Connection } from 'mysql2/promise';
import { SLAB_BYTES, slabSocket } from '../../lib/connectors/mysql/socket.ts';
import { freshMysqlDb, mysqlAdmin, type TestDb } from '../support/mysql.ts';
import { testUrls } from '../support/services.ts';

const ROWS = 12_000;

describe('mysql slab socket', () => {
  let db: TestDb;
  let plain: Connection;

  before(async () => {
    db = await freshMysqlDb('mysql_socket');
    await db.exec('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(1200) NOT NULL)');
    // 12,000 rows of about 1 KB, each different: about 3 slabs.
    await db.exec(`SET SESSION max_recursive_iterations = ${ROWS + 1}; INSERT INTO t WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${ROWS})
      SELECT n, CONCAT(n, ':', REPEAT(SHA2(n, 256), 15)) FROM s`);
    plain = await mysqlAdmin();
  });
  after(async () => {
    await plain?.end();
    await db?.drop();
  });

  it('reads a paused result in large reads, keeps every chunk intact, and returns the same rows as a plain socket', async () => {
    const u = new URL(testUrls.mysql);
    let socket: Socket | undefined;
    const conn = await createConnection({
      host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username) || 'root', password: decodeURIComponent(u.password) || undefined,
      database: db.name,
      stream: () => (socket = slabSocket(u.hostname, Number(u.port))),
    });
    try {
      const kept: Array<{ view: Buffer; copy: Buffer }> = [];
      socket!.on('data', (d: Buffer) => kept.push({ view: d, copy: Buffer.from(d) }));
      // The server fills the socket buffers while the connection is paused; the first read after resume takes
      // what the kernel holds, not 64 KiB of it.
      const core = (conn as unknown as { connection: { pause(): void; resume(): void } }).connection;
      const rows = new Promise<unknown[]>((resolve, reject) => {
        const out: unknown[] = [];
        const q = (conn as unknown as { connection: { query(sql: string): NodeJS.EventEmitter } }).connection.query('SELECT id, v FROM t ORDER BY id');
        q.on('result', (r: unknown) => out.push(r));
        q.on('error', reject);
        q.on('end', () => resolve(out));
      });
      core.pause();
      await new Promise((r) => setTimeout(r, 300));
      core.resume();
      const got = (await rows) as Array<{ id: number; v: string }>;
      const [want] = (await plain.query(`SELECT id, v FROM ${db.name}.t ORDER BY id`)) as unknown as [Array<{ id: number; v: string }>];
      assert.equal(got.length, ROWS);
      assert.deepEqual(got.map((r) => [r.id, r.v]), want.map((r) => [r.id, r.v]));

      const bytes = kept.reduce((n, k) => n + k.view.length, 0);
      assert.ok(bytes > 2 * SLAB_BYTES, `the result spans several slabs (${bytes} bytes)`);
      const largest = Math.max(...kept.map((k) => k.view.length));
      assert.ok(largest > 64 * 1024, `a read after the pause takes more than 64 KiB (largest ${largest})`);
      const overwritten = kept.filter((k) => !k.view.equals(k.copy)).length;
      assert.equal(overwritten, 0, 'no later read overwrote a chunk a consumer kept');
    } finally {
      await conn.end();
    }
  });
});
