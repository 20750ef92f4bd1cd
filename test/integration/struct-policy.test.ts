/**
 * Structure migration edge cases against the real servers: an unsupported source type (MD002 naming
 * db.tb.column and the type), conflict_policy interrupt (MD003) vs ignore (existing objects skipped),
 * `ferry struct --dry-run` (prints DDL and flags, creates nothing), and the structure check's ape-dts logs.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isFerryError } from '../../lib/core/errors.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import { runStruct } from '../../lib/struct/struct-task.ts';
import { runStructCheck } from '../../lib/struct/struct-check.ts';
import { runFerry, writeIni } from '../support/cli.ts';
import { query } from '../support/sql.ts';
import { uniqueName } from '../support/services.ts';
import { dropDb, freshDb, inDb, prepareSource, taskConfig, urlOf } from './struct-support.ts';

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanup) await c().catch(() => undefined);
});

function names(src: 'mysql' | 'pg', dst: 'mysql' | 'pg'): [string, string] {
  const s = uniqueName(`stp_${src}_src`);
  const d = uniqueName(`stp_${dst}_dst`);
  cleanup.push(() => dropDb(src, s), () => dropDb(dst, d));
  return [s, d];
}

describe('struct: unsupported types', () => {
  it('MySQL POINT -> PostgreSQL is MD002 naming db.tb.column and the type (interrupt), creating nothing', async () => {
    const [s, d] = names('mysql', 'pg');
    await freshDb('mysql', s, 'CREATE TABLE ok_tb (id INT PRIMARY KEY); CREATE TABLE geo (id INT PRIMARY KEY, `where` POINT);');
    await assert.rejects(runStruct(taskConfig('mysql', 'pg', s, d, 'struct'), { logger: silentLogger }), (e: unknown) => {
      assert.ok(isFerryError(e));
      assert.equal(e.code, 'MD002');
      assert.match(e.message, new RegExp(`^source ${s}\\.geo\\.where -> ${d}\\.geo\\.where: source type point cannot be created on PostgreSQL`));
      return true;
    });
    const schemas = await query(urlOf('pg'), 'SELECT 1 FROM pg_namespace WHERE nspname = $1', [d]);
    assert.equal(schemas.length, 0, 'planning failed before anything ran');
  });

  it('under conflict_policy=ignore the impossible table is reported and the others are created', async () => {
    const [s, d] = names('mysql', 'pg');
    await freshDb('mysql', s, 'CREATE TABLE ok_tb (id INT PRIMARY KEY); CREATE TABLE geo (id INT PRIMARY KEY, g POINT);');
    const r = await runStruct(taskConfig('mysql', 'pg', s, d, 'struct', { sinker: { conflict_policy: 'ignore' } }), { logger: silentLogger });
    assert.deepEqual(r.failed.map((f) => [f.object, f.code]), [[`${d}.geo`, 'MD002']]);
    const tables = await query<{ t: string }>(urlOf('pg'), 'SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1', [d]);
    assert.deepEqual(tables.map((x) => x.t), ['ok_tb']);
  });
});

describe('struct: conflict_policy', () => {
  it('interrupt stops at an existing object with MD003; ignore skips every existing object', async () => {
    const [s, d] = names('pg', 'pg');
    await prepareSource('pg', s);
    const first = await runStruct(taskConfig('pg', 'pg', s, d, 'struct'), { logger: silentLogger });
    assert.ok(first.executed > 5);
    await assert.rejects(runStruct(taskConfig('pg', 'pg', s, d, 'struct'), { logger: silentLogger }), (e: unknown) => {
      assert.ok(isFerryError(e));
      assert.equal(e.code, 'MD003');
      assert.match(e.message, new RegExp(`^${d}: database already exists`));
      return true;
    });
    // One object missing: ignore creates just that one.
    await inDb('pg', d, 'DROP INDEX idx_multi');
    const again = await runStruct(taskConfig('pg', 'pg', s, d, 'struct', { sinker: { conflict_policy: 'ignore' } }), { logger: silentLogger });
    assert.equal(again.executed, 1);
    assert.equal(again.skipped.length, first.executed - 1);
    assert.deepEqual(again.failed, []);
  });
});

describe('ferry struct --dry-run', () => {
  it('prints the DDL and the flagged conversions and touches nothing', async () => {
    const [s, d] = names('mysql', 'pg');
    await prepareSource('mysql', s);
    const dir = await mkdtemp(join(tmpdir(), 'ferry-struct-cli-'));
    const ini = await writeIni(dir, {
      extractor: { db_type: 'mysql', extract_type: 'struct', url: urlOf('mysql') },
      sinker: { db_type: 'pg', sink_type: 'struct', url: urlOf('pg') },
      filter: { do_dbs: s },
      router: { db_map: `${s}:${d}` },
    });
    const r = await runFerry(['struct', '--dry-run', ini]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`CREATE TABLE "${d}"."all types"`));
    assert.match(r.stdout, /"t_big_u" numeric\(20,0\)/);
    assert.match(r.stdout, /-- FLAG .*t_set: set\('a','b','c'\) -> text/);
    assert.match(r.stdout, /-- FLAG .*ft_varchar: FULLTEXT index -> \(not created\)/);
    const schemas = await query(urlOf('pg'), 'SELECT 1 FROM pg_namespace WHERE nspname = $1', [d]);
    assert.equal(schemas.length, 0, 'nothing was created');
  });
});

describe('structure check (extract_type=struct, sink_type=check)', () => {
  it('finds a missing table and a differing column and writes ape-dts miss.log / diff.log lines', async () => {
    const [s, d] = names('mysql', 'mysql');
    await prepareSource('mysql', s);
    await runStruct(taskConfig('mysql', 'mysql', s, d, 'struct'), { logger: silentLogger });
    const dir = await mkdtemp(join(tmpdir(), 'ferry-struct-check-'));
    const clean = await runStructCheck(taskConfig('mysql', 'mysql', s, d, 'check'), { logger: silentLogger, dir });
    assert.equal(clean.is_consistent, true, JSON.stringify([clean.miss, clean.diff], null, 1));
    assert.equal(existsSync(join(dir, 'miss.log')), false);

    await inDb('mysql', d, 'DROP TABLE nokey; ALTER TABLE parent MODIFY code VARCHAR(40) NOT NULL');
    const r = await runStructCheck(taskConfig('mysql', 'mysql', s, d, 'check'), { logger: silentLogger, dir });
    assert.equal(r.is_consistent, false);
    const miss = (await readFile(join(dir, 'miss.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const diff = (await readFile(join(dir, 'diff.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(miss.map((m) => [m.key, m.schema, m.tb, m.target_schema, m.target_tb]), [[`table.${s}.nokey`, s, 'nokey', d, 'nokey']]);
    assert.match(miss[0].src_sql, /^CREATE TABLE `[^`]+`\.`nokey`/);
    assert.equal(miss[0].dst_sql, undefined);
    assert.deepEqual(diff.map((x) => x.key), [`table.${s}.parent`]);
    assert.match(diff[0].src_sql, /`code` varchar\(20\)/);
    assert.match(diff[0].dst_sql, /`code` varchar\(40\)/);
    const summary = JSON.parse(await readFile(join(dir, 'summary.log'), 'utf8'));
    assert.deepEqual([summary.is_consistent, summary.miss_count, summary.diff_count], [false, 1, 1]);
  });

  it('ferry run on a check task exits 1 when the structures differ', async () => {
    const [s, d] = names('pg', 'pg');
    await prepareSource('pg', s);
    await runStruct(taskConfig('pg', 'pg', s, d, 'struct'), { logger: silentLogger });
    await inDb('pg', d, 'DROP INDEX idx_partial');
    const dir = await mkdtemp(join(tmpdir(), 'ferry-struct-check-cli-'));
    const ini = await writeIni(dir, {
      extractor: { db_type: 'pg', extract_type: 'struct', url: urlOf('pg') },
      sinker: { db_type: 'pg', sink_type: 'check', url: urlOf('pg') },
      filter: { do_dbs: s },
      router: { db_map: `${s}:${d}` },
      runtime: { log_dir: dir },
    });
    const r = await runFerry(['run', ini]);
    assert.equal(r.code, 1, r.stderr);
    const miss = (await readFile(join(dir, 'check', 'miss.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(miss.map((m) => m.key), [`index.${s}.All Types.idx_partial`]);
    assert.match(miss[0].src_sql, /WHERE t_int > 0/);
  });
});

describe('ferry run with several task configs', () => {
  it('struct, snapshot, struct indexes in one process; the first failing task stops the rest with its exit code', async () => {
    const [s, d] = names('pg', 'pg');
    await freshDb('pg', s, `CREATE TABLE t (id int PRIMARY KEY, k int NOT NULL, v text);
      INSERT INTO t SELECT g, g % 10, 'v' || g FROM generate_series(1, 3000) g; CREATE INDEX t_k ON t (k);`);
    const dir = await mkdtemp(join(tmpdir(), 'ferry-multi-run-'));
    const base = (taskId: string, extractor: Record<string, string>, sinker: Record<string, string>, filter: Record<string, string> = {}) =>
      writeIni(dir, {
        extractor: { db_type: 'pg', url: urlOf('pg'), ...extractor },
        sinker: { db_type: 'pg', url: urlOf('pg'), ...sinker },
        filter: { do_dbs: s, ...filter },
        router: { db_map: `${s}:${d}` },
        global: { task_id: taskId },
        checkpoint: { store: 'file', dir: join(dir, taskId) },
      }, `${taskId}.ini`);
    const tables = await base('tables', { extract_type: 'struct' }, { sink_type: 'struct' }, { do_structures: 'database,table' });
    const copy = await base('copy', { extract_type: 'snapshot', batch_size: '500' }, { sink_type: 'write' });
    const indexes = await base('indexes', { extract_type: 'struct' }, { sink_type: 'struct' }, { do_structures: 'constraint,index' });
    const bad = await base('bad', { extract_type: 'snapshot', batch_size: 'abc' }, { sink_type: 'write' });
    const indexExists = async () => (await query(urlOf('pg'), `SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = 't_k'`, [d])).length === 1;

    // A failing second task: exit 2 with its one CF line, and the third never runs.
    const failed = await runFerry(['run', tables, bad, indexes, '--no-progress']);
    assert.equal(failed.code, 2, failed.stderr);
    assert.match(failed.stderr.trim().split('\n').pop()!, /^CF001 extractor\.batch_size: /);
    assert.equal(await indexExists(), false, 'the task after the failing one did not run');

    await query(urlOf('pg'), `DROP SCHEMA "${d}" CASCADE`);
    const r = await runFerry(['run', tables, copy, indexes, '--no-progress', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const summaries = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(summaries.length, 3, 'one JSON summary per task');
    assert.deepEqual([summaries[1].status, summaries[1].rows], ['done', 3000]);
    assert.equal(await indexExists(), true);
    const diff = await query<{ n: string }>(urlOf('pg'), `SELECT count(*)::text n FROM ((SELECT * FROM "${s}".t EXCEPT SELECT * FROM "${d}".t) UNION ALL (SELECT * FROM "${d}".t EXCEPT SELECT * FROM "${s}".t)) x`);
    assert.deepEqual(diff, [{ n: '0' }]);
  });
});
