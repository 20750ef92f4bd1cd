/**
 * Sinker behaviour: idempotent and concurrent writes, errors (MD001 / IN001 / CN001 / RT001) and where they
 * point, for both write modes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EndpointConfig } from '../../lib/config/types.ts';
import { FerryError } from '../../lib/core/errors.ts';
import type { Sinker, WriteTarget } from '../../lib/core/sinker.ts';
import type { ColumnMeta } from '../../lib/core/table.ts';
import type { Row } from '../../lib/core/values.ts';
import { pgConnector } from '../../lib/connectors/pg/index.ts';
import { freshSchema, pgEndpoint, pgExec, testContext, type PgTestSchema } from '../support/pg.ts';

const ctx = testContext();
const signal = ctx.signal;
let s: PgTestSchema;

const col = (name: string, family: ColumnMeta['family'] = 'int'): ColumnMeta => ({ name, nativeType: family, family, nullable: true });
const target = (tb: string, columns: ColumnMeta[], keyColumns: string[] = ['id']): WriteTarget => ({
  table: { db: s.name, tb },
  columns,
  keyColumns,
  source: { db: 'src', tb },
});
const sbRows = (from: number, to: number, tag = 'c'): Row[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i, k: (from + i) % 100, c: `${tag}-${from + i}`, pad: 'p'.repeat(10) }));
const SB_COLS = [col('id'), col('k'), col('c', 'string'), col('pad', 'string')];

async function count(tb: string): Promise<number> {
  const [r] = await s.exec<{ n: string }>(`SELECT count(*) n FROM ${s.q}."${tb}"`);
  return Number(r.n);
}

async function withSinker<T>(mode: string, fn: (sk: Sinker) => Promise<T>, extra: Partial<EndpointConfig> = {}): Promise<T> {
  const sk = await pgConnector.createSinker!(pgEndpoint({ raw: { pg_write_mode: mode }, ...extra }), ctx);
  try {
    return await fn(sk);
  } finally {
    await sk.close();
  }
}

describe('pg sinker', () => {
  before(async () => {
    s = await freshSchema('ferry_pgsink');
  });
  after(async () => {
    await s?.drop();
  });

  for (const mode of ['auto', 'copy', 'insert'] as const) {
    describe(`write mode ${mode}`, () => {
      it('same batch twice and concurrently gives the identical target', async () => {
        const tb = `sb_${mode}`;
        await s.exec(`CREATE TABLE ${s.q}.${tb} (id int PRIMARY KEY, k int, c char(20), pad char(10));
          CREATE TABLE ${s.q}.${tb}_expect AS SELECT g id, g % 100 k, ('c-' || g)::char(20) c, repeat('p', 10)::char(10) pad FROM generate_series(1, 3000) g;`);
        await withSinker(mode, async (sk) => {
          const w = await sk.openTable(target(tb, SB_COLS), signal);
          const rows = sbRows(1, 3000);
          await w.write(rows, signal);
          await w.write(rows, signal);
          // Overlapping batches in different orders and sizes, all at once: no deadlock, same result.
          const rev = [...rows].reverse();
          await Promise.all([w.write(rows, signal), w.write(rev, signal), w.write(rows.slice(500, 2500), signal), w.write(rev.slice(0, 1500), signal)]);
          // Duplicate keys inside one batch: the last one wins, as if written one after another.
          await w.write([{ id: 7, k: 0, c: 'old', pad: 'x' }, ...rows.slice(6, 7)], signal);
        });
        const diff = await s.exec(`(SELECT * FROM ${s.q}.${tb} EXCEPT SELECT * FROM ${s.q}.${tb}_expect) UNION ALL (SELECT * FROM ${s.q}.${tb}_expect EXCEPT SELECT * FROM ${s.q}.${tb})`);
        assert.deepEqual(diff, []);
        assert.equal(await count(tb), 3000);
      });

      it('targets without a unique index on the key still upsert (delete + insert), also concurrently', async () => {
        const tb = `noidx_${mode}`;
        await s.exec(`CREATE TABLE ${s.q}.${tb} (id int, k int, c text, pad text)`);
        await withSinker(mode, async (sk) => {
          const w = await sk.openTable(target(tb, SB_COLS), signal);
          await Promise.all([w.write(sbRows(1, 200), signal), w.write(sbRows(100, 300), signal), w.write(sbRows(1, 300, 'z'), signal)]);
          await w.write(sbRows(1, 300, 'final'), signal);
        });
        const [r] = await s.exec<{ n: string; d: string; bad: string }>(
          `SELECT count(*) n, count(DISTINCT id) d, count(*) FILTER (WHERE c NOT LIKE 'final-%') bad FROM ${s.q}.${tb}`,
        );
        assert.deepEqual(r, { n: '300', d: '300', bad: '0' });
      });

      it('NULL-key rows written concurrently converge', async () => {
        const tb = `nk_${mode}`;
        await s.exec(`CREATE TABLE ${s.q}.${tb} (u int UNIQUE, v text)`);
        const rows: Row[] = [{ u: null, v: 'a' }, { u: null, v: 'a' }, { u: null, v: 'b' }, { u: 1, v: 'x' }];
        await withSinker(mode, async (sk) => {
          const w = await sk.openTable(target(tb, [col('u'), col('v', 'string')], ['u']), signal);
          await Promise.all([w.write(rows, signal), w.write(rows, signal), w.write(rows, signal)]);
          await w.write(rows, signal);
        });
        const got = await s.exec<{ u: number | null; v: string }>(`SELECT u, v FROM ${s.q}.${tb} ORDER BY v, u`);
        assert.deepEqual(got, [{ u: null, v: 'a' }, { u: null, v: 'a' }, { u: null, v: 'b' }, { u: 1, v: 'x' }]);
      });

      it('value too long: IN001 naming table, column and key; earlier batches stay committed', async () => {
        const tb = `toolong_${mode}`;
        await s.exec(`CREATE TABLE ${s.q}.${tb} (id int PRIMARY KEY, c varchar(5))`);
        await withSinker(mode, async (sk) => {
          const w = await sk.openTable(target(tb, [col('id'), col('c', 'string')]), signal);
          await w.write(Array.from({ length: 10 }, (_, i) => ({ id: i + 1, c: 'ok' })), signal);
          const bad = Array.from({ length: 100 }, (_, i) => ({ id: i + 11, c: i + 11 === 42 ? 'abcdef' : 'fine' }));
          await assert.rejects(w.write(bad, signal), (e: FerryError) => {
            assert.equal(e.code, 'IN001');
            assert.equal(e.message, `target ${s.name}.${tb}: value too long for type character varying(5) (column c) at key id=42`);
            assert.equal(e.retryable, false);
            assert.deepEqual([e.details.column, e.details.key], ['c', 'id=42']);
            return true;
          });
        });
        assert.equal(await count(tb), 10);
      });

      it('NOT NULL and CHECK violations name the row; zero dates and NUL text are refused before sending', async () => {
        const tb = `cons_${mode}`;
        await s.exec(`CREATE TABLE ${s.q}.${tb} (a int, b text, n int NOT NULL, ts timestamp, tx text, PRIMARY KEY (a, b), CHECK (n < 1000))`);
        const cols = [col('a'), col('b', 'string'), col('n'), col('ts', 'datetime'), col('tx', 'string')];
        await withSinker(mode, async (sk) => {
          const w = await sk.openTable(target(tb, cols, ['a', 'b']), signal);
          const rows = (over: Partial<Row>) => [{ a: 1, b: 'x', n: 1, ts: null, tx: null }, { a: 2, b: 'y z', n: 2, ts: null, tx: null, ...over }];
          await assert.rejects(w.write(rows({ n: null }), signal), (e: FerryError) =>
            e.code === 'IN001' && e.message.includes('(column n) at key a=2, b=y z') && e.message.includes('not-null'),
          );
          await assert.rejects(w.write(rows({ n: 5000 }), signal), (e: FerryError) => e.code === 'IN001' && /check constraint.* at key a=2, b=y z$/.test(e.message));
          await assert.rejects(w.write(rows({ ts: '0000-00-00 00:00:00' }), signal), (e: FerryError) =>
            e.code === 'IN001' && e.message.includes('zero date') && e.message.includes('(column ts) at key a=2, b=y z') && e.message.includes(`${s.name}.${tb}`),
          );
          await assert.rejects(w.write(rows({ tx: 'nul\u0000here' }), signal), (e: FerryError) =>
            e.code === 'IN001' && e.message.includes('NUL') && e.message.includes('(column tx) at key a=2, b=y z'),
          );
          // A zero date into a text column is just text.
          await w.write(rows({ tx: '0000-00-00' }), signal);
        });
        assert.deepEqual(await s.exec(`SELECT tx FROM ${s.q}.${tb} WHERE a = 2`), [{ tx: '0000-00-00' }]);
      });

      it('replaceAll with a bad row: IN001 naming the row, old content kept', async () => {
        const tb = `repl_${mode}`;
        await s.exec(`CREATE TABLE ${s.q}.${tb} (v varchar(3)); INSERT INTO ${s.q}.${tb} VALUES ('old')`);
        await withSinker(mode, async (sk) => {
          const w = await sk.openTable(target(tb, [col('v', 'string')], []), signal);
          async function* batches() {
            yield [{ v: 'a' }, { v: 'b' }];
            yield [{ v: 'c' }, { v: 'toolong' }];
          }
          await assert.rejects(w.replaceAll!(batches(), signal), (e: FerryError) => e.code === 'IN001' && e.message.endsWith('(column v) at key row #4'));
        });
        assert.deepEqual(await s.exec(`SELECT v FROM ${s.q}.${tb}`), [{ v: 'old' }]);
      });
    });
  }

  it('insert mode splits wide batches under the 65535 parameter limit', async () => {
    const names = Array.from({ length: 80 }, (_, i) => `c${i}`);
    await s.exec(`CREATE TABLE ${s.q}.wide (id int PRIMARY KEY, ${names.map((n) => `${n} int`).join(', ')})`);
    const rows = Array.from({ length: 2000 }, (_, r) => Object.fromEntries([['id', r], ...names.map((n, i) => [n, r * i])]));
    await withSinker('insert', async (sk) => {
      const w = await sk.openTable(target('wide', [col('id'), ...names.map((n) => col(n))]), signal);
      await w.write(rows, signal); // 81 columns x 2000 rows = 162000 parameters
    });
    const [r] = await s.exec<{ n: string; sum: string }>(`SELECT count(*) n, sum(c79)::text sum FROM ${s.q}.wide`);
    assert.deepEqual(r, { n: '2000', sum: String((79 * 1999 * 2000) / 2) });
  });

  it('concurrent replaceAll runs of the same content converge', async () => {
    await s.exec(`CREATE TABLE ${s.q}.rall (a int, b text)`);
    const rows = Array.from({ length: 500 }, (_, i) => ({ a: i % 10, b: `v${i % 7}` }));
    for (const mode of ['auto', 'copy', 'insert']) {
      await withSinker(mode, async (sk) => {
        const w = await sk.openTable(target('rall', [col('a'), col('b', 'string')], []), signal);
        async function* batches() {
          for (let i = 0; i < rows.length; i += 100) {
            await new Promise((r) => setTimeout(r, 5));
            yield rows.slice(i, i + 100);
          }
        }
        const counts = await Promise.all([w.replaceAll!(batches(), signal), w.replaceAll!(batches(), signal), w.replaceAll!(batches(), signal)]);
        assert.deepEqual(counts, [500, 500, 500]);
      });
      assert.equal(await count('rall'), 500);
    }
  });

  it('disable_foreign_key_checks: children may arrive before parents (session_replication_role)', async () => {
    await s.exec(`CREATE TABLE ${s.q}.parent (id int PRIMARY KEY); CREATE TABLE ${s.q}.child (id int PRIMARY KEY, p int REFERENCES ${s.q}.parent)`);
    const t = target('child', [col('id'), col('p')]);
    await withSinker('insert', async (sk) => {
      const w = await sk.openTable(t, signal);
      await assert.rejects(w.write([{ id: 1, p: 7 }], signal), (e: FerryError) => e.code === 'IN001' && e.message.includes('at key id=1'));
    });
    await withSinker('insert', async (sk) => {
      const w = await sk.openTable(t, signal);
      await w.write([{ id: 1, p: 7 }], signal);
    }, { disableForeignKeyChecks: true } as Partial<EndpointConfig>);
    assert.equal(await count('child'), 1);
  });

  for (const mode of ['auto', 'copy', 'insert']) {
    it(`sinker.replace=false keeps existing rows (ON CONFLICT DO NOTHING), mode ${mode}`, async () => {
      const tb = `keep_${mode}`;
      await s.exec(`CREATE TABLE ${s.q}.${tb} (id int PRIMARY KEY, c text); INSERT INTO ${s.q}.${tb} VALUES (1, 'orig')`);
      await withSinker(mode, async (sk) => {
        const w = await sk.openTable(target(tb, [col('id'), col('c', 'string')]), signal);
        await w.write([{ id: 1, c: 'new' }, { id: 2, c: 'new' }], signal);
        await w.write([{ id: 3, c: 'new' }], signal);
      }, { replace: false } as Partial<EndpointConfig>);
      assert.deepEqual(await s.exec(`SELECT * FROM ${s.q}.${tb} ORDER BY id`), [{ id: 1, c: 'orig' }, { id: 2, c: 'new' }, { id: 3, c: 'new' }]);
    });
  }

  it('auto mode: a resumed chunk (first batch overlaps, later ones new) and a full rerun converge with overwrite', async () => {
    await s.exec(`CREATE TABLE ${s.q}.resume (id int PRIMARY KEY, k int, c char(20), pad char(10))`);
    await withSinker('auto', async (sk) => {
      const w = await sk.openTable(target('resume', SB_COLS), signal);
      await w.write(sbRows(1, 1000), signal);
      // The rows are changed at the source, then re-read from a checkpoint inside the first batch.
      const changed = (rows: Row[]) => rows.map((r) => ({ ...r, k: -1 }));
      for (let from = 501; from <= 3000; from += 500) await w.write(changed(sbRows(from, from + 499)), signal);
      // A full rerun over the whole table: every batch conflicts.
      for (let from = 1; from <= 3000; from += 250) await w.write(changed(sbRows(from, from + 249)), signal);
    });
    assert.equal(await count('resume'), 3000);
    assert.deepEqual(await s.exec(`SELECT count(*)::int n FROM ${s.q}.resume WHERE k <> -1`), [{ n: 0 }]);
  });

  it('missing table and missing column are MD001 naming them', async () => {
    await s.exec(`CREATE TABLE ${s.q}.has (id int PRIMARY KEY, "Name" text)`);
    await withSinker('copy', async (sk) => {
      await assert.rejects(sk.openTable(target('nope', [col('id')]), signal), (e: FerryError) => e.code === 'MD001' && e.message.includes(`${s.name}.nope`));
      await assert.rejects(sk.openTable(target('has', [col('id'), col('name', 'string')]), signal), (e: FerryError) =>
        e.code === 'MD001' && e.message.includes(`target ${s.name}.has has no column "name"`) && e.message.includes('"Name"'),
      );
    });
  });

  it('unreachable port: CN001 after retries, naming host:port and never the password', async () => {
    const started = Date.now();
    process.env.FERRY_CONNECT_RETRIES = '3';
    const sk = await pgConnector.createSinker!(pgEndpoint({ url: 'postgres://postgres:sekret-pw@127.0.0.1:1/postgres' }), ctx);
    delete process.env.FERRY_CONNECT_RETRIES;
    await assert.rejects(sk.openTable(target('x', [col('id')]), signal), (e: FerryError) => {
      assert.equal(e.code, 'CN001');
      assert.equal(e.retryable, true);
      assert.match(e.message, /127\.0\.0\.1:1/);
      assert.ok(!e.message.includes('sekret') && !JSON.stringify(e.toJSON()).includes('sekret'));
      return true;
    });
    assert.ok(Date.now() - started > 400, 'retried with backoff');
    await sk.close();
  });

  it('unknown database is MD001', async () => {
    const u = new URL(pgEndpoint().url);
    u.pathname = '/no_such_db_ferry';
    const md = await pgConnector.createMetadata!(pgEndpoint({ url: u.toString() }), ctx);
    const t0 = Date.now();
    await assert.rejects(md.listDatabases(signal), (e: FerryError) => e.code === 'MD001' && e.message.includes('no_such_db_ferry'));
    assert.ok(Date.now() - t0 < 400, 'not retried');
    await md.close();
  });

  it('abort cancels a running write on the server', async () => {
    await s.exec(`CREATE TABLE ${s.q}.slow (id int PRIMARY KEY);
      CREATE FUNCTION ${s.q}.slow_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$;
      CREATE TRIGGER slow BEFORE INSERT ON ${s.q}.slow FOR EACH STATEMENT EXECUTE FUNCTION ${s.q}.slow_fn();`);
    for (const mode of ['auto', 'copy', 'insert']) {
      await withSinker(mode, async (sk) => {
        const w = await sk.openTable(target('slow', [col('id')]), signal);
        const ac = new AbortController();
        setTimeout(() => ac.abort(new Error('deadline')), 300);
        const started = Date.now();
        await assert.rejects(w.write([{ id: 1 }], ac.signal), (e: FerryError) => e.code === 'RT001');
        assert.ok(Date.now() - started < 5000);
      });
    }
    await new Promise((r) => setTimeout(r, 200));
    const busy = await pgExec(`SELECT pid FROM pg_stat_activity WHERE application_name = 'ferry' AND query LIKE '%slow%' AND state = 'active'`);
    assert.deepEqual(busy, []);
    assert.equal(await count('slow'), 0);
  });
});
