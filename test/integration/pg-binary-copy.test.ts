/**
 * The binary COPY pass-through of PG -> PG snapshot pages (`pg-copy-binary`) against the real server: how the
 * server frames binary pages, which tables get the format, exact round trips of every type it is offered for,
 * resume keys equal to the text path's, a rerun and a concurrent duplicate converging through the staging
 * upsert, and IN001 for a value the target rejects.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { FerryError } from '../../lib/core/errors.ts';
import { memoryLogger } from '../../lib/core/logger.ts';
import type { ChunkSpec, MetadataAccessor, RowBatch, SnapshotSource } from '../../lib/core/source.ts';
import type { Sinker, TableWriter } from '../../lib/core/sinker.ts';
import type { TableMeta } from '../../lib/core/table.ts';
import { pgConnector } from '../../lib/connectors/pg/index.ts';
import { readCopyPage, writeCopyPage } from '../../lib/connectors/pg/copy-wire.ts';
import { afterHeader, binaryPage, lastTuple, pageStream, splitTuples } from '../../lib/connectors/pg/copy-binary.ts';
import { closePgPair, ensureExtensions, openPgPair, pgEndpoint, pgUrl, testContext, type PgPairFixture, type PgTestSchema } from '../support/pg.ts';

const ctx = testContext();
const signal = ctx.signal;
const BINARY = 'pg-copy-binary';
const TEXT = 'pg-copy-data';
const STAGED = 'binary COPY page takes the staging upsert';

let src: PgTestSchema;
let dst: PgTestSchema;
let md: MetadataAccessor;
let source: SnapshotSource;
let sinker: Sinker;
const log = memoryLogger();
const pair: Partial<PgPairFixture> = {};

/** Every type binary pages are offered for, a domain over one of them included. */
const TYPES_COLS = `
  id int PRIMARY KEY,
  c_i2 smallint, c_i4 int, c_i8 bigint,
  c_num numeric, c_num65 numeric(65,30), c_num_s numeric(10,2),
  c_f4 real, c_f8 double precision, c_bool boolean,
  c_char char(10), c_varchar varchar(50), c_text text, c_bytea bytea,
  c_date date, c_time time, c_time0 time(0), c_timetz timetz, c_ts timestamp(6), c_ts3 timestamp(3), c_tstz timestamptz,
  c_interval interval, c_uuid uuid, c_json json, c_jsonb jsonb,
  c_inet inet, c_cidr cidr, c_macaddr macaddr, c_bit1 bit(1), c_bit8 bit(8), c_varbit varbit,
  c_dom posint`;

const TYPES_ROWS = `
INSERT INTO types VALUES
 (1, -32768, -2147483648, -9223372036854775808,
  '-123456789012345678901234567890123456789012345678901234567890.123456789012345678901234567890', '-99999999999999999999999999999999999.999999999999999999999999999999', -12345678.90,
  -3.4028235e+38, -1.7976931348623157e+308, false,
  'a', '', E'tab\\there "quoted" back\\\\slash', '\\x00',
  '4713-01-01 BC', '00:00:00', '00:00:00', '00:00:00+14', '4713-01-01 00:00:00 BC', '1900-01-01 00:00:00.001', '0001-01-01 00:00:00+00',
  '-178000000 years', '00000000-0000-0000-0000-000000000000', '[]', '{}',
  '0.0.0.0', '::/0', '00:00:00:00:00:00', B'0', B'00000000', B'', 1),
 (2, 32767, 2147483647, 9223372036854775807,
  '0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001', '99999999999999999999999999999999999.999999999999999999999999999999', 99999999.99,
  3.4028235e+38, 1.7976931348623157e+308, true,
  'ten chars!', 'emoji 😀 ünïcödé ✓', E'multi\\nline\\r\\nwith\\\\\\\\backslashes and\\ttabs', '\\x000102fffe00',
  '5874897-12-31', '24:00:00', '23:59:59', '23:59:59.999999-15:59', '294276-12-31 23:59:59.999999', '2024-02-29 12:34:56.789', '2024-06-30 23:59:59.999999+00',
  '178000000 years 11 mons 30 days 23:59:59.999999', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '{"b": [1, 2.50, "x\\u0000y"], "a" : null}', '{"z": {"deep": [true, false, null]}, "n": 1.230}',
  '2001:db8::ff00:42:8329/64', '192.168.100.128/25', 'ff:ff:ff:ff:ff:ff', B'1', B'11111111', B'1010101010101010101', 2147483647),
 (3, 0, 0, 9007199254740993, 'NaN', 0, 0, 'NaN', 'NaN', NULL, NULL, NULL, NULL, '\\x',
  'infinity', NULL, NULL, NULL, 'infinity', '-infinity', 'infinity', '0', NULL, 'null', 'null', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 1, -1, -9007199254740993, 'Infinity', '-0.000000000000000000000000000001', -0.01, 'Infinity', '-Infinity', true,
  'x', 'x', '', NULL, '-infinity', '12:00:00.5', '12:00:01', '12:00:00.000001+05:30', '-infinity', '2000-01-01 00:00:00', '-infinity',
  '-1 days +02:03:04.5', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '"just a string"', '"\\ud83d\\ude00"',
  '::1', '10.0.0.0/8', '08:00:2b:01:02:03', B'1', B'10000001', B'0', 42),
 (5, NULL, NULL, NULL, '-Infinity', NULL, NULL, '-0', '-0', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`;

const metaOf = (tb: string) => md.getTableMeta({ db: src.name, tb }, signal);

async function openWriter(meta: TableMeta, tb = meta.tb, on: Sinker = sinker): Promise<TableWriter> {
  return on.openTable({ table: { db: dst.name, tb }, columns: meta.columns, keyColumns: meta.keyColumns, source: meta }, signal);
}

/** Every page of `chunks` (default: the whole key range) read with `raw` formats. */
async function pages(meta: TableMeta, raw: readonly string[] | undefined, batchSize: number, chunks?: ChunkSpec[]): Promise<RowBatch[]> {
  const out: RowBatch[] = [];
  for (const chunk of chunks ?? [{ id: 'all', table: meta, kind: 'range', lower: null, upper: null, estimatedRows: 0 }]) {
    for await (const b of source.readChunk(meta, chunk, { columns: meta.columns.map((c) => c.name), batchSize, raw, signal })) out.push(b);
  }
  return out;
}

/** Rows of source `s` missing from target `d` and extra in it, compared as row text (json has no equality). */
async function diff(s: string, d = s): Promise<string[]> {
  const rows = await src.exec<{ r: string }>(`(SELECT 'missing ' || t::text r FROM ${src.q}.${s} t EXCEPT ALL SELECT 'missing ' || t::text FROM ${dst.q}.${d} t)
    UNION ALL (SELECT 'extra ' || t::text FROM ${dst.q}.${d} t EXCEPT ALL SELECT 'extra ' || t::text FROM ${src.q}.${s} t)`);
  return rows.map((r) => r.r);
}

const staged = () => log.lines.filter((l) => l.msg === STAGED);
const count = async (tb: string) => Number((await dst.exec<{ n: string }>(`SELECT count(*) n FROM ${dst.q}.${tb}`))[0].n);
const shape = (bs: RowBatch[]) => bs.map((b) => [b.raw?.format, b.raw?.count ?? b.rows.length, b.lastKey]);

describe('pg binary COPY pass-through', () => {
  before(async () => {
    await ensureExtensions('hstore');
    ({ src, dst, md, source, sinker } = await openPgPair(pair, 'ferry_pgbin', ctx, log));
    for (const s of [src, dst]) {
      await s.exec(`SET search_path = ${s.q}; CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE DOMAIN posint AS int CHECK (VALUE > 0);
        CREATE TYPE inet AS (a int); CREATE TABLE types (${TYPES_COLS})`);
    }
    await src.exec(`SET search_path = ${src.q}; ${TYPES_ROWS}`);
  });
  after(() => closePgPair(pair));

  describe('on the wire', () => {
    let client: pg.Client;
    before(async () => {
      client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
    });
    after(() => client?.end());

    it('PostgreSQL sends the header with the first row, one message per row, the trailer alone; rows come from COPY n', async () => {
      const read = (n: number) => readCopyPage(client as never, `COPY (SELECT g, 'x' || g FROM generate_series(1, ${n}) g) TO STDOUT (FORMAT binary)`);
      const empty = await read(0);
      assert.deepEqual([empty.rows, empty.messages], [0, 1]);
      assert.equal(afterHeader(empty.last), 19, 'header and trailer in one message');
      assert.ok(empty.last.subarray(19).equals(Buffer.from([0xff, 0xff])));
      assert.equal(lastTuple(empty, 2), null);
      const one = await read(1);
      assert.deepEqual([one.rows, one.messages], [1, 2]);
      assert.equal(afterHeader(one.beforeLast), 19);
      assert.deepEqual(lastTuple(one, 2)?.map((f) => f?.toString('hex')), ['00000001', Buffer.from('x1').toString('hex')]);
      const many = await read(5000);
      assert.deepEqual([many.rows, many.messages], [5000, 5001]);
      assert.deepEqual(lastTuple(many, 2)?.map((f) => f?.toString('hex')), ['00001388', Buffer.from('x5000').toString('hex')]);
      assert.equal(splitTuples(pageStream(many.chunks)).length, 5000);
    });

    it('any other framing is walked tuple by tuple; pages rebuilt from tuples go back in, an empty one too', async () => {
      await client.query(`CREATE TABLE ${dst.q}.wire (id int PRIMARY KEY, v text)`);
      const page = await readCopyPage(client as never, `COPY (SELECT g, 'x' || g FROM generate_series(1, 300) g) TO STDOUT (FORMAT binary)`);
      const tuples = splitTuples(pageStream(page.chunks));
      const whole = binaryPage(tuples);
      // One message for the whole page: the last tuple cannot be picked from the message before the trailer.
      const repacked = { chunks: whole, rows: 300, messages: 1, bytes: 0, last: Buffer.alloc(0), beforeLast: Buffer.alloc(0) };
      assert.deepEqual(lastTuple(repacked, 2), lastTuple(page, 2));
      await writeCopyPage(client as never, `COPY ${dst.q}.wire (id, v) FROM STDIN (FORMAT binary)`, binaryPage([]));
      await writeCopyPage(client as never, `COPY ${dst.q}.wire (id, v) FROM STDIN (FORMAT binary)`, binaryPage(tuples.slice(0, 1)));
      await writeCopyPage(client as never, `COPY ${dst.q}.wire (id, v) FROM STDIN (FORMAT binary)`, binaryPage(tuples.slice(1)));
      const r = await client.query(`SELECT count(*)::int n, max(v) m FROM ${dst.q}.wire`);
      assert.deepEqual(r.rows[0], { n: 300, m: 'x99' });
    });
  });

  it('is offered for tables of built-in types only, before COPY text; never for arrays, enums, extension types or other modes', async () => {
    const cases: Array<[string, string, string, string[]]> = [
      // [table, source columns, target columns, expected formats]
      ['same_types', TYPES_COLS, TYPES_COLS, [BINARY, TEXT]],
      ['text_key', 'k text PRIMARY KEY, v varchar(5), n numeric', 'k text PRIMARY KEY, v varchar(3), n numeric(4,1)', [BINARY, TEXT]],
      ['comp_key', 'a bigint, b varchar(9), v jsonb, PRIMARY KEY (a, b)', 'a bigint, b varchar(9), v jsonb, PRIMARY KEY (a, b)', [BINARY, TEXT]],
      ['with_enum', 'id int PRIMARY KEY, m mood', 'id int PRIMARY KEY, m mood', [TEXT]],
      ['with_array', 'id int PRIMARY KEY, xs int[]', 'id int PRIMARY KEY, xs int[]', [TEXT]],
      ['with_hstore', 'id int PRIMARY KEY, h public.hstore', 'id int PRIMARY KEY, h public.hstore', [TEXT]],
      // A user type named like a built-in one is told apart by its oid.
      ['fake_inet', 'id int PRIMARY KEY, i SCHEMA.inet', 'id int PRIMARY KEY, i SCHEMA.inet', [TEXT]],
      ['with_money', 'id int PRIMARY KEY, m money', 'id int PRIMARY KEY, m money', [TEXT]],
      // Keys the source cannot read back from binary.
      ['uuid_key', 'id uuid PRIMARY KEY, v text', 'id uuid PRIMARY KEY, v text', [TEXT]],
      ['numeric_key', 'id numeric PRIMARY KEY, v text', 'id numeric PRIMARY KEY, v text', [TEXT]],
      ['char_key', 'id char(4) PRIMARY KEY, v text', 'id char(4) PRIMARY KEY, v text', [TEXT]],
      // Different types: neither format means the same values.
      ['int_vs_bigint', 'id int PRIMARY KEY, v int', 'id int PRIMARY KEY, v bigint', []],
      ['bigint_key_vs_int', 'id bigint PRIMARY KEY, v text', 'id int PRIMARY KEY, v text', []],
      ['no_key', 'id int, v text', 'id int, v text', []],
    ];
    for (const [tb, s, d] of cases) {
      if (tb !== 'same_types') {
        await src.exec(`SET search_path = ${src.q}; CREATE TABLE f_${tb} (${s.replace('SCHEMA', src.q)})`);
        await dst.exec(`SET search_path = ${dst.q}; CREATE TABLE f_${tb} (${d.replace('SCHEMA', dst.q)})`);
      }
    }
    for (const [tb, , , want] of cases) {
      const name = tb === 'same_types' ? 'types' : `f_${tb}`;
      assert.deepEqual((await openWriter(await metaOf(name))).rawFormats, want, tb);
    }
    for (const mode of ['insert', 'copy']) {
      const other = await pgConnector.createSinker!(pgEndpoint({ raw: { pg_write_mode: mode } }), ctx);
      try {
        assert.deepEqual((await openWriter(await metaOf('types'), 'types', other)).rawFormats, [], `pg_write_mode=${mode}`);
      } finally {
        await other.close();
      }
    }
  });

  it('the source sends the first listed format it can produce', async () => {
    const types = await metaOf('types');
    assert.deepEqual(new Set((await pages(types, [BINARY, TEXT], 4)).map((b) => b.raw?.format)), new Set([BINARY]));
    assert.deepEqual(new Set((await pages(types, [TEXT, BINARY], 4)).map((b) => b.raw?.format)), new Set([TEXT]));
    // A uuid key cannot be read back from binary: the next format, or decoded rows.
    await src.exec(`INSERT INTO ${src.q}.f_uuid_key SELECT gen_random_uuid(), g::text FROM generate_series(1, 5) g`);
    const uuid = await metaOf('f_uuid_key');
    assert.deepEqual((await pages(uuid, [BINARY, TEXT], 2)).map((b) => b.raw?.format), [TEXT, TEXT, TEXT]);
    const rows = await pages(uuid, [BINARY], 2);
    assert.deepEqual(rows.map((b) => [b.raw, b.rows.length]), [[undefined, 2], [undefined, 2], [undefined, 1]]);
    // Select mode reads no COPY pages at all.
    const select = await pgConnector.createSnapshotSource!(pgEndpoint({ raw: { pg_read_mode: 'select' } }), ctx);
    try {
      const chunk: ChunkSpec = { id: 'all', table: types, kind: 'range', lower: null, upper: null, estimatedRows: 0 };
      for await (const b of select.readChunk(types, chunk, { columns: types.columns.map((c) => c.name), batchSize: 4, raw: [BINARY], signal })) assert.equal(b.raw, undefined);
    } finally {
      await select.close();
    }
  });

  it('round-trips every offered type exactly; binary pages count rows, resume like text pages and refuse to decode', async () => {
    const meta = await metaOf('types');
    const w = await openWriter(meta);
    // Two range chunks split at id 3, small pages: bounds, 1-row pages, resume keys.
    const chunks: ChunkSpec[] = [
      { id: 'a', table: meta, kind: 'range', lower: null, upper: [3], estimatedRows: 3 },
      { id: 'b', table: meta, kind: 'range', lower: [3], upper: null, estimatedRows: 3 },
    ];
    const bin = await pages(meta, w.rawFormats, 2, chunks);
    assert.deepEqual(shape(bin), [[BINARY, 2, [2]], [BINARY, 1, [3]], [BINARY, 2, [5]], [BINARY, 1, [6]]]);
    assert.throws(() => bin[0].rows, (e: unknown) => e instanceof FerryError && e.code === 'RT002' && /cannot be decoded/.test(e.message));
    const text = await pages(meta, [TEXT], 2, chunks);
    assert.deepEqual(bin.map((b) => [b.raw!.count, b.lastKey]), text.map((b) => [b.raw!.count, b.lastKey]));
    const before = staged().length;
    for (const b of bin) await w.writeRaw!(b.raw!, () => b.rows, signal);
    assert.equal(staged().length, before, 'an empty target takes every page as one COPY');
    assert.deepEqual(await diff('types'), []);
  });

  it('resume keys equal the text path\'s for int2, int4, int8, text, varchar and composite keys', async () => {
    await src.exec(`SET search_path = ${src.q};
      CREATE TABLE k_i2 (id smallint PRIMARY KEY, v text);
      INSERT INTO k_i2 SELECT g, g::text FROM generate_series(-32768, -32700) g UNION ALL VALUES (0, 'z'), (32767, 'm');
      CREATE TABLE k_i8 (id bigint PRIMARY KEY, v text);
      INSERT INTO k_i8 VALUES (-9223372036854775808, 'a'), (-9007199254740993, 'b'), (-1, 'c'), (0, 'd'), (9007199254740992, 'e'),
        (9007199254740993, 'f'), (9223372036854775807, 'g');
      INSERT INTO k_i8 SELECT g, 'x' FROM generate_series(1000, 1100) g;
      CREATE TABLE k_text (k text PRIMARY KEY, v int);
      INSERT INTO k_text VALUES (E'tab\\there', 1), (E'new\\nline', 2), (E'back\\\\slash', 3), ('emoji 😀', 4), ('', 5), ('\\N', 6), ('NULL', 7), (E'cr\\r', 8);
      INSERT INTO k_text SELECT 'k' || g, g FROM generate_series(1, 50) g;
      CREATE TABLE k_comp (a int, b varchar(20), c text, PRIMARY KEY (a, b));
      INSERT INTO k_comp SELECT g % 7, 'b' || g || E'\\t', 'c' FROM generate_series(1, 80) g`);
    for (const tb of ['k_i2', 'k_i8', 'k_text', 'k_comp']) {
      const meta = await metaOf(tb);
      for (const size of [1, 3, 100]) {
        const bin = await pages(meta, [BINARY], size);
        const text = await pages(meta, [TEXT], size);
        assert.ok(bin.length > 0 && bin.every((b) => b.raw?.format === BINARY), `${tb} pages of ${size} come binary`);
        assert.deepEqual(bin.map((b) => [b.raw!.count, b.lastKey]), text.map((b) => [b.raw!.count, b.lastKey]), `${tb}, pages of ${size}`);
      }
    }
    // Keys beyond 2^53 stay exact (bigint), as the text decoder gives them.
    const keys = (await pages(await metaOf('k_i8'), [BINARY], 1)).map((b) => b.lastKey![0]);
    assert.deepEqual(keys.slice(0, 5), [-9223372036854775808n, -9007199254740993n, -1, 0, 1000]);
    assert.deepEqual(keys.slice(-4), [1100, 9007199254740992n, 9007199254740993n, 9223372036854775807n]);
    // An empty key range reads one empty page and yields nothing.
    const meta = await metaOf('k_i8');
    const none: ChunkSpec = { id: 'none', table: meta, kind: 'range', lower: [1], upper: [999], estimatedRows: 0 };
    assert.deepEqual(await pages(meta, [BINARY], 10, [none]), []);
  });

  it('a rerun and a concurrent duplicate converge through the staging upsert, which also overwrites changed rows', async () => {
    await src.exec(`SET search_path = ${src.q}; CREATE TABLE big (id int PRIMARY KEY, k int, c char(120), pad varchar(60), at timestamptz);
      INSERT INTO big SELECT g, g % 97, md5(g::text), repeat('p', g % 60), now() - g * interval '1 minute' FROM generate_series(1, 1000) g`);
    await dst.exec(`CREATE TABLE ${dst.q}.big (id int PRIMARY KEY, k int, c char(120), pad varchar(60), at timestamptz)`);
    const meta = await metaOf('big');
    const w = await openWriter(meta);
    assert.deepEqual(w.rawFormats, [BINARY, TEXT]);
    const got = await pages(meta, w.rawFormats, 300);
    assert.deepEqual(shape(got).map(([f, n]) => [f, n]), [[BINARY, 300], [BINARY, 300], [BINARY, 300], [BINARY, 100]]);
    const write = (b: RowBatch) => w.writeRaw!(b.raw!, () => b.rows, signal);
    for (const b of got) await write(b);
    assert.deepEqual(await diff('big'), []);
    // Rows changed in the target since are put back, like the row path's upsert (sinker.replace=true).
    await dst.exec(`UPDATE ${dst.q}.big SET k = -1, pad = NULL WHERE id % 10 = 0`);
    const before = staged().length;
    for (const b of got) await write(b);
    assert.ok(staged().slice(before).some((l) => l.sqlstate === '23505'), 'existing keys send the page to the staging upsert');
    assert.deepEqual(await diff('big'), []);
    await Promise.all(got.flatMap((b) => [write(b), write(b)]));
    assert.deepEqual(await diff('big'), []);
    // A fresh writer (CopyFirst back-off reset) against a half-filled target: the conflicting page is staged, the rest COPYed.
    await dst.exec(`DELETE FROM ${dst.q}.big WHERE id > 300`);
    const fresh = await openWriter(meta);
    const mark = staged().length;
    for (const b of got) await fresh.writeRaw!(b.raw!, () => b.rows, signal);
    // Only the page with existing keys failed its direct COPY (CopyFirst then sends one page straight to staging).
    assert.equal(staged().length - mark, 1);
    assert.deepEqual(await diff('big'), []);
  });

  it('narrower typmods on the target give the same table as COPY text does', async () => {
    const cols = (n: string, ts: string, t: string, c: string, v: string) =>
      `id int PRIMARY KEY, n numeric${n}, ts timestamp${ts}, t time${t}, c char${c}, v varchar${v}, i interval`;
    await src.exec(`SET search_path = ${src.q}; CREATE TABLE narrowing (${cols('(12,4)', '(6)', '(6)', '(10)', '(10)')});
      INSERT INTO narrowing VALUES (1, 12345678.4567, '2024-01-01 00:00:00.5', '12:00:00.987654', 'ab', 'abc      ', '1 day 02:03:04.56789'),
        (2, -0.05, '2024-12-31 23:59:59.999999', '23:59:59.999999', 'abcd      ', 'abcd', '-3 mons 1 sec'), (3, NULL, NULL, NULL, NULL, NULL, NULL)`);
    for (const tb of ['narrow_bin', 'narrow_text']) await dst.exec(`CREATE TABLE ${dst.q}.${tb} (${cols('(10,1)', '(0)', '(2)', '(4)', '(4)')})`);
    const meta = await metaOf('narrowing');
    for (const [tb, format] of [['narrow_bin', BINARY], ['narrow_text', TEXT]] as const) {
      const w = await openWriter(meta, tb);
      assert.deepEqual(w.rawFormats, [BINARY, TEXT]);
      for (const b of await pages(meta, [format], 2)) {
        assert.equal(b.raw?.format, format);
        await w.writeRaw!(b.raw!, () => b.rows, signal);
      }
    }
    const rows = await dst.exec<{ r: string }>(`(SELECT t::text r FROM ${dst.q}.narrow_bin t EXCEPT SELECT t::text FROM ${dst.q}.narrow_text t)
      UNION ALL (SELECT t::text r FROM ${dst.q}.narrow_text t EXCEPT SELECT t::text FROM ${dst.q}.narrow_bin t)`);
    assert.deepEqual(rows, []);
    assert.equal(await count('narrow_bin'), 3);
  });

  describe('a value the target rejects', () => {
    let meta: TableMeta;
    let got: RowBatch[];
    const in001 = (key: string, column?: string) => (e: unknown) => {
      assert.ok(e instanceof FerryError, String(e));
      assert.equal(e.code, 'IN001');
      assert.match(e.message, new RegExp(`^target ${dst.name}\\.\\w+: `));
      if (column) assert.match(e.message, new RegExp(`\\(column ${column}\\)`));
      assert.match(e.message, new RegExp(`at key ${key}$`));
      assert.doesNotMatch(e.message, /\bv1\d\b/, 'never the value');
      return true;
    };
    before(async () => {
      await src.exec(`SET search_path = ${src.q}; CREATE TABLE vals (id int PRIMARY KEY, v varchar(10), t text);
        INSERT INTO vals SELECT g, 'v' || g, repeat('t', g) FROM generate_series(1, 40) g`);
      meta = await metaOf('vals');
      // ids 1..9 fit varchar(2) ('v1'..'v9'); 'v10' does not.
      got = await pages(meta, [BINARY], 9);
      assert.ok(got.every((b) => b.raw?.format === BINARY));
    });

    it('fails its page with IN001 naming table, column and key; earlier pages stay, nothing of it is written', async () => {
      await dst.exec(`CREATE TABLE ${dst.q}.narrow (id int PRIMARY KEY, v varchar(2), t text)`);
      const w = await openWriter(meta, 'narrow');
      assert.deepEqual(w.rawFormats, [BINARY, TEXT]);
      await w.writeRaw!(got[0].raw!, () => got[0].rows, signal);
      await assert.rejects(w.writeRaw!(got[1].raw!, () => got[1].rows, signal), in001('id=10', 'v'));
      assert.equal(await count('narrow'), 9);
    });

    it('the same through the staging table (after existing keys, CopyFirst goes straight there)', async () => {
      await dst.exec(`CREATE TABLE ${dst.q}.narrow2 (id int PRIMARY KEY, v varchar(2), t text)`);
      const w = await openWriter(meta, 'narrow2');
      await w.writeRaw!(got[0].raw!, () => got[0].rows, signal);
      const mark = staged().length;
      await w.writeRaw!(got[0].raw!, () => got[0].rows, signal); // existing keys: staged, and the next page skips the direct COPY
      assert.equal(staged().length - mark, 1);
      await assert.rejects(w.writeRaw!(got[1].raw!, () => got[1].rows, signal), in001('id=10', 'v'));
      assert.equal(staged().length - mark, 1, 'the failing page never tried the direct COPY');
      assert.equal(await count('narrow2'), 9);
    });

    it('a constraint only the upsert meets is found by bisecting the page', async () => {
      await dst.exec(`CREATE TABLE ${dst.q}.checked (id int PRIMARY KEY, v varchar(10) CONSTRAINT no_v14 CHECK (v <> 'v14'), t text)`);
      const w = await openWriter(meta, 'checked');
      await w.writeRaw!(got[0].raw!, () => got[0].rows, signal);
      // Direct COPY: the server's COPY context names the row.
      await assert.rejects(w.writeRaw!(got[1].raw!, () => got[1].rows, signal), (e: unknown) => in001('id=14')(e) && /no_v14/.test((e as Error).message));
      await w.writeRaw!(got[0].raw!, () => got[0].rows, signal); // existing keys: the next page goes to staging
      await assert.rejects(w.writeRaw!(got[1].raw!, () => got[1].rows, signal), (e: unknown) => in001('id=14')(e) && (e as FerryError).details.constraint === 'no_v14');
      assert.equal(await count('checked'), 9);
      // The connection pool is still fine and the table takes later pages.
      await w.writeRaw!(got[2].raw!, () => got[2].rows, signal);
      assert.equal(await count('checked'), 18);
    });
  });
});
