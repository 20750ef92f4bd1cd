/**
 * The raw COPY pass-through of PG -> PG snapshot pages (`pg-copy-data`): when a writer takes it, what a rerun,
 * a concurrent duplicate and a value the target rejects do to it, and the chunk runner using it end to end.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FerryError } from '../../lib/core/errors.ts';
import { memoryLogger } from '../../lib/core/logger.ts';
import type { ChunkSpec, MetadataAccessor, RowBatch, SnapshotSource } from '../../lib/core/source.ts';
import type { Sinker, TableWriter } from '../../lib/core/sinker.ts';
import type { TableMeta } from '../../lib/core/table.ts';
import { pgConnector } from '../../lib/connectors/pg/index.ts';
import { closePgPair, openPgPair, pgEndpoint, testContext, type PgPairFixture, type PgTestSchema } from '../support/pg.ts';

const ctx = testContext();
const signal = ctx.signal;
const FALLBACK = 'raw COPY batch takes the row path';
let src: PgTestSchema;
let dst: PgTestSchema;
let md: MetadataAccessor;
let source: SnapshotSource;
let sinker: Sinker;
const log = memoryLogger();
const pair: Partial<PgPairFixture> = {};

const SRC_COLS = `id int PRIMARY KEY, v varchar(10), t text, m mood`;
const N = 250;

async function openWriter(tb: string, meta: TableMeta): Promise<TableWriter> {
  return sinker.openTable({ table: { db: dst.name, tb }, columns: meta.columns, keyColumns: meta.keyColumns, source: meta }, signal);
}

/** Every page of the whole key range, read raw for `writer`. */
async function pages(meta: TableMeta, writer: TableWriter, batchSize = 100): Promise<RowBatch[]> {
  const chunk: ChunkSpec = { id: 'all', table: meta, kind: 'range', lower: null, upper: null, estimatedRows: N };
  const out: RowBatch[] = [];
  for await (const b of source.readChunk(meta, chunk, { columns: meta.columns.map((c) => c.name), batchSize, raw: writer.rawFormats, signal })) out.push(b);
  return out;
}

async function diff(tb: string): Promise<string[]> {
  const rows = await src.exec<{ r: string }>(`(SELECT 'missing ' || t::text r FROM ${src.q}.s t EXCEPT ALL SELECT 'missing ' || t::text FROM ${dst.q}.${tb} t)
    UNION ALL (SELECT 'extra ' || t::text FROM ${dst.q}.${tb} t EXCEPT ALL SELECT 'extra ' || t::text FROM ${src.q}.s t)`);
  return rows.map((r) => r.r);
}

const fallbacks = () => log.lines.filter((l) => l.msg === FALLBACK);

describe('pg raw COPY pass-through', () => {
  let meta: TableMeta;
  before(async () => {
    ({ src, dst, md, source, sinker } = await openPgPair(pair, 'ferry_pgraw', ctx, log));
    for (const s of [src, dst]) await s.exec(`SET search_path = ${s.q}; CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`);
    // Values COPY must escape (tab, newline, backslash, CR), NULLs and multi-byte text.
    await src.exec(`SET search_path = ${src.q}; CREATE TABLE s (${SRC_COLS});
      INSERT INTO s SELECT g, 'v' || g, CASE g % 4 WHEN 0 THEN E'a\\tb\\nc\\\\d\\re' WHEN 1 THEN NULL WHEN 2 THEN 'emoji 😀 ü' ELSE '' END,
        (ARRAY['sad','ok','happy'])[1 + g % 3]::mood FROM generate_series(1, ${N}) g`);
    meta = await md.getTableMeta({ db: src.name, tb: 's' }, signal);
  });
  after(() => closePgPair(pair));

  it('is offered only where the source text means the same value to the target', async () => {
    // An enum column: never binary (see pg-binary-copy.test.ts), COPY text when the labels match.
    const cases: Array<[string, string, string[]]> = [
      ['same', SRC_COLS, ['pg-copy-data']],
      // Tighter limits of the same type are fine: the target applies them to raw text as to encoded text.
      ['narrower', `id int PRIMARY KEY, v varchar(3), t text, m mood`, ['pg-copy-data']],
      ['wider_int', `id bigint PRIMARY KEY, v varchar(10), t text, m mood`, []],
      ['other_type', `id int PRIMARY KEY, v text, t text, m mood`, []],
      ['other_enum', `id int PRIMARY KEY, v varchar(10), t text, m mood2`, []],
      ['no_key', `id int, v varchar(10), t text, m mood`, []],
    ];
    await dst.exec(`SET search_path = ${dst.q}; CREATE TYPE mood2 AS ENUM ('sad', 'ok', 'happy', 'meh')`);
    for (const [tb, cols] of cases) await dst.exec(`SET search_path = ${dst.q}; CREATE TABLE ${tb} (${cols})`);
    for (const [tb, , want] of cases) assert.deepEqual((await openWriter(tb, meta)).rawFormats, want, tb);
    for (const mode of ['insert', 'copy']) {
      const other = await pgConnector.createSinker!(pgEndpoint({ raw: { pg_write_mode: mode } }), ctx);
      try {
        const w = await other.openTable({ table: { db: dst.name, tb: 'same' }, columns: meta.columns, keyColumns: meta.keyColumns, source: meta }, signal);
        assert.deepEqual(w.rawFormats, [], `pg_write_mode=${mode}`);
      } finally {
        await other.close();
      }
    }
  });

  it('pages count rows and carry the resume key without decoding; a rerun and a concurrent duplicate converge', async () => {
    await dst.exec(`SET search_path = ${dst.q}; CREATE TABLE rerun (${SRC_COLS})`);
    const w = await openWriter('rerun', meta);
    const got = await pages(meta, w);
    assert.deepEqual(got.map((b) => b.raw?.count), [100, 100, 50]);
    assert.deepEqual(got.map((b) => b.lastKey), [[100], [200], [250]]);
    const before = fallbacks().length;
    for (const b of got) await w.writeRaw!(b.raw!, () => b.rows, signal);
    assert.equal(fallbacks().length, before, 'an empty target takes every page as COPY');
    assert.deepEqual(await diff('rerun'), []);
    // Again, and twice at once: the pages meet existing keys, roll back and are upserted.
    for (const b of got) await w.writeRaw!(b.raw!, () => b.rows, signal);
    await Promise.all(got.flatMap((b) => [w.writeRaw!(b.raw!, () => b.rows, signal), w.writeRaw!(b.raw!, () => b.rows, signal)]));
    assert.ok(fallbacks().some((l) => l.sqlstate === '23505'), 'existing keys send the page down the row path');
    assert.deepEqual(await diff('rerun'), []);
  });

  it('a value the target rejects fails its page with IN001 naming table, column and key; earlier pages stay', async () => {
    await dst.exec(`SET search_path = ${dst.q}; CREATE TABLE narrow (id int PRIMARY KEY, v varchar(2), t text, m mood)`);
    const w = await openWriter('narrow', meta);
    assert.deepEqual(w.rawFormats, ['pg-copy-data']);
    // ids 1..9 fit varchar(2) ('v1'..'v9'); 'v10' does not.
    const got = await pages(meta, w, 9);
    await w.writeRaw!(got[0].raw!, () => got[0].rows, signal);
    await assert.rejects(
      w.writeRaw!(got[1].raw!, () => got[1].rows, signal),
      (e: unknown) => e instanceof FerryError && e.code === 'IN001' && /ferry_pgraw_dst_\w+\.narrow/.test(e.message) && /\bv\b/.test(e.message) && /id=10\b/.test(e.message),
    );
    const [{ n }] = await dst.exec<{ n: string }>(`SELECT count(*) n FROM ${dst.q}.narrow`);
    assert.equal(n, '9');
  });
});
