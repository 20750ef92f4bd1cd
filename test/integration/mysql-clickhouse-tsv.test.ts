/**
 * MySQL pages as TabSeparated (`mysql-text-tsv`) on the real test servers (MariaDB; ClickHouse 18.16 over HTTP):
 * - the MySQL source's raw pages hold exactly the rows its decoded pages hold (NULLs, bytes to escape, values of
 *   1-, 3- and 4-byte lengths, binary bytes, UTF-8, dates), page after page across socket chunks, with the same
 *   resume keys and the dates' bounds;
 * - a page holding a zero date is sent decoded;
 * - `ferry run` into ClickHouse takes the raw path (the writer lists the format) with pages merged up to
 *   sinker.batch_size, and the target's FINAL rows equal the source row by row.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../lib/core/logger.ts';
import type { MetadataAccessor, RowBatch, SnapshotSource, TableMeta } from '../../lib/core/index.ts';
import { MYSQL_TEXT_TSV, forEachTsvLine } from '../../lib/core/tsv.ts';
import { createMysqlMetadata, createMysqlSnapshotSource } from '../../lib/connectors/mysql/index.ts';
import { createClickhouseSinker } from '../../lib/connectors/clickhouse/index.ts';
import { freshMysqlDb, mysqlEndpoint, type TestDb } from '../support/mysql.ts';
import { testUrls, uniqueName } from '../support/services.ts';
import { runFerry } from '../support/cli.ts';
import { assertSameRows, chTask, clickhouseClient, clickhouseEndpoint } from '../support/clickhouse.ts';

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

  before(async () => {
    src = await freshMysqlDb('my_tsv');
    await src.exec(SOURCE_SQL);
    meta = await createMysqlMetadata(mysqlEndpoint(), ctx);
    source = await createMysqlSnapshotSource(mysqlEndpoint(), ctx);
    work = await mkdtemp(join(tmpdir(), 'ferry-tsv-'));
  });
  after(async () => {
    await ch.command(`DROP DATABASE IF EXISTS \`${dst}\``, undefined, 'cleanup').catch(() => undefined);
    await ch.close();
    await meta.close();
    await source.close();
    await src.drop();
    await rm(work, { recursive: true, force: true });
  });

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

  it('`ferry run` into ClickHouse: the writer takes the pages as they came, merged into inserts of sinker.batch_size rows', async () => {
    const task = (kind: 'struct' | 'snapshot', id: string, extra: Record<string, Record<string, string | number>> = {}) =>
      chTask(work, id, {
        kind,
        extractor: { db_type: 'mysql', url: testUrls.mysql, ...extra.extractor },
        filter: { do_tbs: `${src.name}.t` },
        router: { db_map: `${src.name}:${dst}` },
        sinker: extra.sinker,
      });
    const s = await runFerry(['run', await task('struct', 'tsv_struct')]);
    assert.equal(s.code, 0, s.stderr.slice(-2000));
    const m = await meta.getTableMeta({ db: src.name, tb: 't' }, never);
    const sinker = await createClickhouseSinker(clickhouseEndpoint({ batchSize: 1000 }), ctx);
    try {
      const w = await sinker.openTable({ table: { db: dst, tb: 't' }, source: m, columns: m.columns, keyColumns: m.keyColumns }, never);
      assert.deepEqual(w.rawFormats, [MYSQL_TEXT_TSV], 'every column of t reads MySQL text exactly');
      assert.equal(w.batchRows, 1000);
    } finally {
      await sinker.close();
    }
    const r = await runFerry(['run', await task('snapshot', 'tsv_snap', { extractor: { batch_size: 250 }, sinker: { batch_size: 1000 } })]);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.equal(await assertSameRows(source, m, ch, { db: dst, tb: 't' }), 3000);
    // Pages of 250 merged up to 1,000 rows: at most 3 (3,000 rows) + one per chunk boundary inserts, not 12.
    const [parts] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM system.parts WHERE database = '${dst}' AND table = 't' AND level = 0`, undefined, 'parts');
    assert.ok(Number(parts.n) <= 6, `${parts.n} inserts`);
  });
});
