/**
 * MySQL pages as TabSeparated (`mysql-text-tsv`) on the real test servers (MariaDB; ClickHouse 18.16 over HTTP):
 * - the MySQL source's raw pages hold exactly the rows its decoded pages hold (NULLs, bytes to escape, values of
 *   1-, 3- and 4-byte lengths, binary bytes, UTF-8, dates), page after page across socket chunks, with the same
 *   resume keys and the dates' bounds;
 * - a page holding a zero date is sent decoded;
 * - `ferry run` into ClickHouse takes the raw path (the writer lists the format) with pages streamed into inserts
 *   of sinker.batch_size rows, and the target's FINAL rows equal the source row by row;
 * - a streamed INSERT writes its rows only when ended: abandoned or malformed, it writes nothing, and a failure
 *   surfaces at the next write or at the end, never as a hang; a request cut in the middle of a line writes nothing
 *   even on a server that inserts what a cut request delivered (18.16), thanks to each line's guard field;
 * - a page that cannot go raw (a date outside the target type) ends the stream first: the rows before it are kept
 *   and saved as progress, the page fails with IN001 naming the row, and the rerun after the fix resumes there;
 * - a chunk stopped by its deadline mid-stream ends the open stream, saves exactly the acknowledged rows, and the
 *   next run completes it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../lib/core/logger.ts';
import type { MetadataAccessor, RowBatch, SnapshotSource, TableMeta } from '../../lib/core/index.ts';
import { MYSQL_TEXT_TSV, forEachTsvLine } from '../../lib/core/tsv.ts';
import { createClickhouseSinker } from '../../lib/connectors/clickhouse/index.ts';
import type { TestDb } from '../support/mysql.ts';
import { testUrls, uniqueName } from '../support/services.ts';
import { runFerry } from '../support/cli.ts';
import { assertSameRows, closeMysqlSource, openMysqlSource, chTask, clickhouseClient, clickhouseEndpoint } from '../support/clickhouse.ts';
import { isFerryError } from '../../lib/core/errors.ts';

const ctx = { logger: silentLogger, signal: new AbortController().signal };
const never = new AbortController().signal;

// 3,000 rows: every 7th has NULLs, every 11th bytes to escape in text and binary, every 13th a 300-character value
// (3-byte length), row 1500 a 70,000-character one (4-byte length); UTF-8 throughout.
const SOURCE_SQL = `
CREATE TABLE t (id INT PRIMARY KEY, u BIGINT UNSIGNED, i SMALLINT NOT NULL, d DECIMAL(12,3), s VARCHAR(400), b VARBINARY(300),
  tx MEDIUMTEXT, en ENUM('a','b c'), st SET('x','y'), dt DATE, dtm DATETIME, yr YEAR, j JSON);
INSERT INTO t SELECT seq,
  IF(seq % 7 = 0, NULL, 18446744073709551615 - seq), CAST(seq % 32000 AS SIGNED) - 16000, IF(seq % 7 = 0, NULL, seq * 1.125 - 2000),
  CASE WHEN seq % 7 = 0 THEN NULL WHEN seq % 11 = 0 THEN CONCAT('tab\\there', CHAR(10), 'nl\\\\bs', CHAR(13), 'cr ✓ ', seq)
       WHEN seq % 13 = 0 THEN REPEAT('é', 300) ELSE CONCAT('row ', seq) END,
  IF(seq % 11 = 0, UNHEX(CONCAT('00090A0D5CFF', HEX(CAST(seq AS CHAR)))), IF(seq % 7 = 0, NULL, UNHEX(HEX(seq)))),
  IF(seq = 1500, REPEAT('x', 70000), IF(seq % 7 = 0, NULL, '')),
  IF(seq % 2 = 0, 'a', 'b c'), IF(seq % 3 = 0, 'x,y', ''),
  IF(seq % 7 = 0, NULL, DATE_ADD('1999-12-31', INTERVAL seq DAY)), IF(seq % 7 = 0, NULL, DATE_ADD('2020-02-28 23:59:58', INTERVAL seq SECOND)),
  1901 + seq % 255, IF(seq % 5 = 0, '{"a": [1, "\\\\t"]}', NULL)
FROM seq_1_to_3000;
CREATE TABLE zero (id INT PRIMARY KEY, dt DATE);
`;

async function readAll(source: SnapshotSource, meta: TableMeta, raw: boolean, batchSize: number): Promise<RowBatch[]> {
  const spec = { id: 'c', table: meta, kind: 'range' as const, lower: null, upper: null, estimatedRows: 0 };
  const out: RowBatch[] = [];
  const opts = { columns: meta.columns.map((c) => c.name), batchSize, signal: never, ...(raw ? { raw: [MYSQL_TEXT_TSV] } : {}) };
  for await (const b of source.readChunk(meta, spec, opts)) out.push(b);
  return out;
}

describe('MySQL pages as TabSeparated (mysql-text-tsv)', () => {
  let src: TestDb;
  let meta: MetadataAccessor;
  let source: SnapshotSource;
  let work: string;
  const dst = uniqueName('ch_tsv');
  const ch = clickhouseClient();
  const task = (kind: 'struct' | 'snapshot', id: string, extra: Record<string, Record<string, string | number>> = {}, tb = 't') =>
    chTask(work, id, {
      kind,
      extractor: { db_type: 'mysql', url: testUrls.mysql, ...extra.extractor },
      filter: { do_tbs: `${src.name}.${tb}` },
      router: { db_map: `${src.name}:${dst}` },
      sinker: extra.sinker,
    });
  const countRows = async (tb: string) => Number((await ch.rows<{ n: string }>(`SELECT count() AS n FROM \`${dst}\`.${tb}`, undefined, 'count'))[0].n);

  before(async () => {
    ({ src, meta, source, work } = await openMysqlSource('my_tsv', SOURCE_SQL));
  });
  after(() => closeMysqlSource({ src, meta, source, work }, ch, dst));

  it('raw pages hold exactly the decoded pages\' rows, resume keys and date bounds', async () => {
    const m = await meta.getTableMeta({ db: src.name, tb: 't' }, never);
    const raw = await readAll(source, m, true, 700);
    const plain = await readAll(source, m, false, 700);
    assert.deepEqual(raw.map((b) => b.lastKey), plain.map((b) => b.lastKey));
    assert.deepEqual(raw.map((b) => b.lastKey), [[700], [1400], [2100], [2800], [3000]]);
    for (const [k, b] of raw.entries()) {
      assert.equal(b.raw?.format, MYSQL_TEXT_TSV, `page ${k} is raw`);
      let lines = 0;
      forEachTsvLine(b.raw!.chunks, () => lines++);
      assert.equal(lines, b.raw!.count);
      assert.equal(b.raw!.count, plain[k].rows.length);
      assert.deepEqual(b.rows, plain[k].rows, `page ${k}: rows decoded from the lines equal the decoded page`);
      const dates = (col: string) => plain[k].rows.map((r) => r[col]).filter((v): v is string => typeof v === 'string').sort();
      const at = (col: string) => m.columns.findIndex((c) => c.name === col);
      for (const col of ['dt', 'dtm']) {
        const ds = dates(col);
        assert.deepEqual(b.raw!.bounds![at(col)], [ds[0], ds[ds.length - 1]], `page ${k}: bounds of ${col}`);
      }
      assert.equal(b.raw!.bounds![at('s')], null);
    }
    const all = raw.flatMap((b) => b.rows);
    assert.equal(all.length, 3000);
    assert.equal((all[1499].tx as string).length, 70000, 'a 4-byte length value');
    assert.deepEqual(all[10].b, Buffer.from('00090a0d5cff3131', 'hex'), 'binary bytes to escape');
    assert.match(all[10].s as string, /^tab\there\nnl\\bs\rcr ✓ 11$/);
    assert.equal(all[6].s, null);
  });

  it('a page holding a zero date is sent decoded, with the same rows', async () => {
    await src.exec(`SET SESSION sql_mode = ''; INSERT INTO zero VALUES (1, '2024-01-01'), (2, '0000-00-00'), (3, '2024-00-10'), (4, NULL)`);
    const m = await meta.getTableMeta({ db: src.name, tb: 'zero' }, never);
    const raw = await readAll(source, m, true, 2);
    const plain = await readAll(source, m, false, 2);
    assert.equal(raw.length, 2);
    assert.equal(raw[0].raw, undefined, 'a zero date: decoded');
    assert.equal(raw[1].raw, undefined, 'a zero month: decoded');
    assert.deepEqual(raw.map((b) => b.rows), plain.map((b) => b.rows));
    assert.deepEqual(raw.map((b) => b.lastKey), [[2], [4]]);
  });

  it('`ferry run` into ClickHouse: the writer takes the pages as they came, streamed into inserts of sinker.batch_size rows', async () => {
    const s = await runFerry(['run', await task('struct', 'tsv_struct')]);
    assert.equal(s.code, 0, s.stderr.slice(-2000));
    const m = await meta.getTableMeta({ db: src.name, tb: 't' }, never);
    const sinker = await createClickhouseSinker(clickhouseEndpoint({ batchSize: 1000 }), ctx);
    try {
      const w = await sinker.openTable({ table: { db: dst, tb: 't' }, source: m, columns: m.columns, keyColumns: m.keyColumns }, never);
      assert.deepEqual(w.rawFormats, [MYSQL_TEXT_TSV], 'every column of t reads MySQL text exactly');
      assert.equal(w.batchRows, 1000);
      assert.equal(typeof w.openRawStream, 'function', 'over HTTP the pages are streamed');
    } finally {
      await sinker.close();
    }
    const r = await runFerry(['run', await task('snapshot', 'tsv_snap', { extractor: { batch_size: 250 }, sinker: { batch_size: 1000 } })]);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.equal(await assertSameRows(source, m, ch, { db: dst, tb: 't' }), 3000);
    // Pages of 250 streamed up to 1,000 rows: at most 3 (3,000 rows) + one per chunk boundary inserts, not 12.
    const [parts] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM system.parts WHERE database = '${dst}' AND table = 't' AND level = 0`, undefined, 'parts');
    assert.ok(Number(parts.n) <= 6, `${parts.n} inserts`);
  });
  it('a streamed INSERT writes its rows when ended, nothing when abandoned or malformed, and fails without hanging', async () => {
    await ch.command(`CREATE DATABASE IF NOT EXISTS \`${dst}\``, undefined, 'db');
    await ch.command(`CREATE TABLE \`${dst}\`.s (id Int32, v String) ENGINE = MergeTree ORDER BY id`, undefined, 'create');
    const lines = (from: number, to: number) => Buffer.from(Array.from({ length: to - from + 1 }, (_, i) => `${from + i}\tv${from + i}\n`).join(''));
    const table = `\`${dst}\`.s`;
    // Ended: every chunk of every write arrives, as one part.
    const ok = ch.insertStream(table, 'id, v', 'TabSeparated', never, 'stream ok');
    await ok.write([lines(1, 1000), lines(1001, 2000)]);
    await ok.write([lines(2001, 60000)]);
    assert.equal(await countRows('s'), 0, 'nothing is visible before the end');
    await ok.end();
    assert.equal(await countRows('s'), 60000);
    const [sum] = await ch.rows<{ s: string }>(`SELECT sum(id) AS s FROM ${table}`, undefined, 'sum');
    assert.equal(sum.s, String((60000 * 60001) / 2));
    // Abandoned after a write: nothing of it is written.
    const cut = ch.insertStream(table, 'id, v', 'TabSeparated', never, 'stream cut');
    await cut.write([lines(100001, 120000)]);
    cut.abort();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await countRows('s'), 60000, 'an abandoned stream writes nothing');
    // Malformed (a line with a text id): the end rejects with a FerryError naming the context; nothing written.
    const bad = ch.insertStream(table, 'id, v', 'TabSeparated', never, 'stream bad');
    await bad.write([lines(200001, 201000), Buffer.from('oops\tv\n')]);
    await assert.rejects(bad.end(), (e: unknown) => isFerryError(e) && /stream bad/.test(e.message));
    assert.equal(await countRows('s'), 60000, 'a malformed stream writes nothing');
    // A missing table: the failure reaches the writer (no hang on a body nobody reads).
    const missing = ch.insertStream(`\`${dst}\`.nope`, 'id, v', 'TabSeparated', never, 'stream missing');
    const big = lines(1, 200000);
    await assert.rejects(
      (async () => {
        for (let i = 0; i < 20; i++) await missing.write([big]);
        await missing.end();
      })(),
      (e: unknown) => isFerryError(e) && e.code === 'MD001' && /stream missing/.test(e.message),
    );
  });

  it('a request cut in the middle of a line writes nothing: the guard field makes the cut line unparsable', async () => {
    const m = await meta.getTableMeta({ db: src.name, tb: 't' }, never);
    const [page] = await readAll(source, m, true, 3000);
    const body = Buffer.concat(page.raw!.chunks);
    const lastLine = body.lastIndexOf(0x0a, body.length - 2) + 1;
    const cut = body.subarray(lastLine, lastLine + Math.floor((body.length - lastLine) / 2));
    assert.ok(!cut.includes(0x0a) && cut.length > 4, 'the cut falls inside the last line');
    const sinker = await createClickhouseSinker(clickhouseEndpoint({ batchSize: 1000 }), ctx);
    try {
      await ch.command(`CREATE TABLE IF NOT EXISTS \`${dst}\`.cut AS \`${dst}\`.t`, undefined, 'create');
      await ch.command(`TRUNCATE TABLE \`${dst}\`.cut`, undefined, 'truncate');
      const w = await sinker.openTable({ table: { db: dst, tb: 'cut' }, source: m, columns: m.columns, keyColumns: m.keyColumns }, never);
      const cols = [...m.columns.map((c) => `\`${c.name}\``), '_ape_dts_is_deleted'].join(', ');
      // What the writer sends: every line whole, then half a line; the server reads it all before the cut.
      const s1 = ch.insertStream(`\`${dst}\`.cut`, cols, 'TabSeparated', never, 'cut stream');
      await s1.write([...page.raw!.chunks, cut]);
      await new Promise((r) => setTimeout(r, 300));
      s1.abort();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await countRows('cut'), 0, 'nothing of a request cut mid-line is written');
      // The same cut through the writer's own stream, then a whole run: FINAL equals the source.
      const s2 = w.openRawStream!(MYSQL_TEXT_TSV, never);
      assert.equal(await s2.push(page.raw!), true);
      await s2.end();
      assert.equal(await assertSameRows(source, m, ch, { db: dst, tb: 'cut' }), 3000);
    } finally {
      await sinker.close();
    }
  });

  it('a page with a date outside the target type ends the stream first: earlier rows kept and saved, IN001 names the row, the rerun resumes', async () => {
    await src.exec(`CREATE TABLE late (id INT PRIMARY KEY, d DATE, f VARCHAR(40));
      INSERT INTO late SELECT seq, DATE_ADD('2000-01-01', INTERVAL seq DAY), CONCAT('row ', seq) FROM seq_1_to_1000;
      INSERT INTO late VALUES (1001, '1900-01-01', 'too early for Date'), (1002, '2001-01-01', 'after');`);
    const extra = { extractor: { batch_size: 100 }, sinker: { batch_size: 1000 } };
    const s = await runFerry(['run', await task('struct', 'late_struct', { sinker: { conflict_policy: 'ignore' } }, 'late')]);
    assert.equal(s.code, 0, s.stderr.slice(-2000));
    const cfg = await task('snapshot', 'late_snap', extra, 'late');
    const r = await runFerry(['run', cfg, '--no-progress']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`IN001.*${dst}\\.late: value does not fit column d .*id=1001`));
    assert.equal(await countRows('late'), 1000, 'the 10 pages before the bad one were streamed and kept');
    await src.exec(`UPDATE late SET d = '1990-01-01' WHERE id = 1001`);
    const again = await runFerry(['run', cfg, '--no-progress', '--json']);
    assert.equal(again.code, 0, again.stderr.slice(-2000));
    assert.equal(JSON.parse(again.stdout.trim().split('\n').pop()!).rows, 2, 'progress was saved at row 1000: the rerun copies the last 2 rows only');
    const m = await meta.getTableMeta({ db: src.name, tb: 'late' }, never);
    assert.equal(await assertSameRows(source, m, ch, { db: dst, tb: 'late' }), 1002);
  });

  it('a chunk stopped by its deadline mid-stream ends the open stream and saves exactly its rows; the next run completes it', async () => {
    await src.exec(`CREATE TABLE big (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL);
      INSERT INTO big SELECT seq, seq % 1000, REPEAT(CHAR(48 + seq % 10), 120) FROM seq_1_to_60000;`);
    const s = await runFerry(['run', await task('struct', 'big_struct', { sinker: { conflict_policy: 'ignore' } }, 'big')]);
    assert.equal(s.code, 0, s.stderr.slice(-2000));
    const cfg = await task('snapshot', 'big_snap', { extractor: { batch_size: 100, chunk_rows: 1000000 }, sinker: { batch_size: 2000 } }, 'big');
    const plan = JSON.parse((await runFerry(['plan', cfg])).stdout);
    assert.equal(plan.chunks.length, 1);
    const r1 = JSON.parse((await runFerry(['chunk', cfg, plan.chunks[0], '--deadline-ms', '400'])).stdout);
    assert.equal(r1.status, 'partial', JSON.stringify(r1));
    // On the stop the open stream is ended, not dropped: its whole pages are acknowledged and count.
    assert.ok(r1.rows > 0 && r1.rows < 60000 && r1.rows % 100 === 0, `the partial run reports whole pages: ${r1.rows}`);
    assert.equal(await countRows('big'), r1.rows, 'the target holds exactly the rows saved as progress');
    const r2 = JSON.parse((await runFerry(['chunk', cfg, plan.chunks[0]])).stdout);
    assert.equal(r2.status, 'done');
    assert.equal(r2.totalRows, 60000);
    assert.equal(r2.rows, 60000 - r1.rows, 'the second run started after the saved key');
    const m = await meta.getTableMeta({ db: src.name, tb: 'big' }, never);
    assert.equal(await assertSameRows(source, m, ch, { db: dst, tb: 'big' }), 60000);
  });
});
