/**
 * The wire-level COPY page reader and writer (lib/connectors/pg/copy-wire.ts) against a real server: pages equal
 * what pg-copy-streams reads, messages split across socket reads, notices interleaved, errors in the middle of a
 * page, and the connection usable afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { forEachPayload, readCopyPage, writeCopyPage } from '../../lib/connectors/pg/copy-wire.ts';
import { freshSchema, pgUrl, type PgTestSchema } from '../support/pg.ts';

let s: PgTestSchema;
let client: pg.Client;

const payloads = (chunks: Buffer[]): Buffer => {
  const out: Buffer[] = [];
  forEachPayload(chunks, (p) => out.push(p));
  return Buffer.concat(out);
};

async function viaCopyStreams(sql: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of client.query(copyTo(sql))) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('pg COPY pages on the wire', () => {
  before(async () => {
    s = await freshSchema('ferry_pgwire');
    client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    await client.query(`CREATE TABLE ${s.q}.big AS SELECT g id, repeat(md5(g::text), 1 + g % 7) v, E'tab\\there\\nnewline' w FROM generate_series(1, 60000) g`);
    await client.query(`CREATE FUNCTION ${s.q}.noisy(i int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN IF i % 10 = 0 THEN RAISE NOTICE 'row %', i; END IF; RETURN i; END $$`);
    await client.query(`CREATE TABLE ${s.q}.dst (id int PRIMARY KEY, v text, w text)`);
  });
  after(async () => {
    await client?.end();
    await s?.drop();
  });

  it('reads a page of many socket reads exactly as pg-copy-streams does, counting rows and keeping the last', async () => {
    const sql = `COPY (SELECT * FROM ${s.q}.big ORDER BY id) TO STDOUT`;
    const page = await readCopyPage(client as never, sql);
    assert.equal(page.rows, 60000);
    assert.ok(page.bytes > 1 << 20, 'large enough to span many socket reads');
    assert.ok(payloads(page.chunks).equals(await viaCopyStreams(sql)));
    assert.match(page.last.toString(), /^60000\t[0-9a-f]+\ttab\\there\\nnewline\n$/);
  });

  it('an empty page has no rows and no last row', async () => {
    const page = await readCopyPage(client as never, `COPY (SELECT * FROM ${s.q}.big WHERE id < 0) TO STDOUT`);
    assert.deepEqual([page.rows, page.bytes, page.chunks.length, page.last.length], [0, 0, 0, 0]);
  });

  it('skips notices the server interleaves with the rows', async () => {
    const notices: string[] = [];
    const onNotice = (n: { message?: string }) => notices.push(n.message ?? '');
    client.on('notice', onNotice);
    try {
      const sql = `COPY (SELECT ${s.q}.noisy(g), 'x' FROM generate_series(1, 500) g) TO STDOUT`;
      const page = await readCopyPage(client as never, sql);
      assert.equal(page.rows, 500);
      const lines = payloads(page.chunks).toString().split('\n');
      assert.equal(lines.length, 501);
      assert.equal(lines[499], '500\tx');
    } finally {
      client.off('notice', onNotice);
    }
  });

  it('an error in the middle of a page rejects with the server error, and the connection stays usable', async () => {
    await assert.rejects(readCopyPage(client as never, `COPY (SELECT 1 / (g - 30000) FROM generate_series(1, 60000) g) TO STDOUT`), (e: { code?: string }) => e.code === '22012');
    const r = await client.query('SELECT 42 AS x');
    assert.equal(r.rows[0].x, 42);
  });

  it('writes a page as it came; a page meeting existing keys fails whole (23505) and the connection stays usable', async () => {
    const page = await readCopyPage(client as never, `COPY (SELECT * FROM ${s.q}.big WHERE id <= 5000 ORDER BY id) TO STDOUT`);
    await writeCopyPage(client as never, `COPY ${s.q}.dst (id, v, w) FROM STDIN`, page.chunks);
    const diff = await client.query(`SELECT count(*)::int n FROM (SELECT * FROM ${s.q}.big WHERE id <= 5000 EXCEPT SELECT * FROM ${s.q}.dst) d`);
    assert.equal(diff.rows[0].n, 0);
    await assert.rejects(writeCopyPage(client as never, `COPY ${s.q}.dst (id, v, w) FROM STDIN`, page.chunks), (e: { code?: string }) => e.code === '23505');
    const n = await client.query(`SELECT count(*)::int n FROM ${s.q}.dst`);
    assert.equal(n.rows[0].n, 5000);
  });
});
