/**
 * Structure migration end to end, for MySQL->MySQL, PG->PG, MySQL->PG and PG->MySQL: struct (tables and keys
 * first), snapshot, struct again (indexes, checks, foreign keys after the data, as ape-dts runs it), CDC with
 * inserts / updates / deletes, and every table compared row by row with type-aware equality. The fixtures
 * (test/fixtures/struct) hold every mapped type, names that need quoting, a table without a primary key,
 * prefix / partial / expression indexes, foreign keys, checks, AUTO_INCREMENT / serial / identity / sequences.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../lib/core/logger.ts';
import { runStruct } from '../../lib/struct/struct-task.ts';
import { phasesFor } from '../../lib/struct/phases.ts';
import { runSnapshot } from '../../lib/task/snapshot-task.ts';
import { query } from '../support/sql.ts';
import { uniqueName } from '../support/services.ts';
import { cdcConverges, compare, dropDb, failures, fileStore, inDb, prepareSource, taskConfig, urlOf, type Engine } from './struct-support.ts';

const DML: Record<Engine, string> = {
  mysql: `INSERT INTO parent (code) VALUES ('p4');
    INSERT INTO \`all types\` (t_tiny, t_int_u, t_big_u, t_dec, t_bit, t_varchar, t_json, t_dt, t_enum, t_set, \`select\`, \`sp ace\`, \`ünï\`, parent_id)
      VALUES (3, 7, 18446744073709551615, -0.0000000001, b'11111', 'cdc', '{"k": "v"}', '2030-12-31 23:59:59.999999', 'medium', 'b', 1, 'q', 'é', 4);
    UPDATE \`all types\` SET t_varchar = 'updated', t_dec = 99.5, t_bit = b'00001' WHERE id = 1;
    DELETE FROM \`all types\` WHERE id = 2;
    INSERT INTO nokey VALUES (3, 'c');`,
  pg: `INSERT INTO parent (code) VALUES ('p4');
    INSERT INTO "All Types" (t_small, t_big, t_num, t_bit, t_varchar, t_jsonb, t_ts, t_tstz, t_mood, "select", "sp ace", "ünï", parent_id)
      VALUES (3, -1, -0.0000000001, B'11111', 'cdc', '{"k": "v"}', '2030-12-31 23:59:59.999999', '2030-01-01 00:00:00+00', 'sad', 1, 'q', 'é', 4);
    UPDATE "All Types" SET t_varchar = 'updated', t_num = 99.5, t_bit = B'00001' WHERE id = 1;
    DELETE FROM "All Types" WHERE id = 2;
    INSERT INTO nokey VALUES (3, 'c');`,
};

/** The table with every type, as each fixture names it. */
const BIG: Record<Engine, string> = { mysql: 'all types', pg: 'All Types' };

/** Foreign keys and indexes of the target table (names), read from its catalog. */
async function targetObjects(dst: Engine, db: string, tb: string): Promise<string[]> {
  if (dst === 'mysql') {
    const rows = await query<{ n: string }>(urlOf(dst),
      `SELECT CONSTRAINT_NAME AS n FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
       UNION SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`, [db, tb, db, tb]);
    return rows.map((r) => r.n).sort();
  }
  const rows = await query<{ n: string }>(urlOf(dst),
    `SELECT conname AS n FROM pg_constraint WHERE conrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass
     UNION SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass`, [db, tb]);
  return rows.map((r) => r.n).sort();
}

/** The value the target hands out next for the parent table's id (AUTO_INCREMENT / sequence / identity). */
async function nextParentId(dst: Engine, db: string): Promise<string> {
  if (dst === 'mysql') {
    const [r] = await query<{ ai: string }>(urlOf(dst), 'SELECT AUTO_INCREMENT AS ai FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, 'parent']);
    return String(r.ai);
  }
  const [r] = await query<{ s: string }>(urlOf(dst), `SELECT pg_get_serial_sequence(quote_ident($1) || '.parent', 'id') AS s`, [db]);
  const [v] = await query<{ v: string }>(urlOf(dst), `SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END::text AS v FROM ${r.s}`);
  return v.v;
}

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanup) await c().catch(() => undefined);
});

const DIRECTIONS: Array<[Engine, Engine]> = [['mysql', 'mysql'], ['pg', 'pg'], ['mysql', 'pg'], ['pg', 'mysql']];

describe('structure migration, then snapshot and CDC', () => {
  for (const [src, dst] of DIRECTIONS) {
    it(`${src} -> ${dst}`, async () => {
      const srcDb = uniqueName(`st_${src}_src`);
      const dstDb = uniqueName(`st_${dst}_dst`);
      cleanup.push(() => dropDb(src, srcDb), () => dropDb(dst, dstDb));
      await prepareSource(src, srcDb);

      // 1. tables with primary and unique keys (ape-dts: do_structures=database,table)
      const before = await runStruct(taskConfig(src, dst, srcDb, dstDb, 'struct', { filter: { do_structures: 'database,table' } }), { logger: silentLogger });
      assert.deepEqual(before.failed, []);
      assert.ok(before.statements.every((s) => ['database', 'type', 'sequence', 'table'].includes(s.phase)));
      assert.equal(await nextParentId(dst, dstDb), '4', 'the generator continues after the 3 source rows');

      // 2. the data
      const snap = taskConfig(src, dst, srcDb, dstDb, 'snapshot');
      const store = await fileStore();
      const copied = await runSnapshot(snap, { store, logger: silentLogger });
      await store.close();
      assert.deepEqual(copied.errors, []);
      assert.equal(copied.rows, 3 + 2 + 3);

      // 3. indexes, checks and foreign keys after the data (do_structures=constraint,index)
      const afterData = await runStruct(taskConfig(src, dst, srcDb, dstDb, 'struct', { filter: { do_structures: 'constraint,index' } }), { logger: silentLogger });
      assert.deepEqual(afterData.failed, []);
      const objects = await targetObjects(dst, dstDb, BIG[src]);
      assert.ok(objects.some((n) => /fk/i.test(n)), `a foreign key on the target: ${objects}`);
      assert.ok(objects.includes(src === 'mysql' ? 'chk_tiny' : 'chk_small'), `the check on the target: ${objects}`);
      assert.ok(objects.includes('idx_multi'), `the composite index on the target: ${objects}`);
      if (src === 'mysql') assert.ok(objects.includes('idx_prefix'));
      if (src === 'pg' && dst === 'pg') assert.ok(objects.includes('idx_partial') && objects.includes('idx_expr'));

      const report = await compare(snap);
      assert.ok(report.ok, JSON.stringify(failures(report), null, 1));

      // 4. changes (the table without a key takes inserts only: its duplicates make updates ambiguous)
      const slot = `st_${process.pid}_${src}_${dst}`;
      const cdc = taskConfig(src, dst, srcDb, dstDb, 'cdc', { extractor: src === 'mysql' ? { server_id: String(7200 + DIRECTIONS.findIndex(([a, b]) => a === src && b === dst)) } : { slot_name: slot } });
      await cdcConverges(cdc, srcDb, DML[src]);
      const [row] = await query<{ v: string }>(urlOf(dst), dst === 'mysql' ? `SELECT t_varchar AS v FROM \`${dstDb}\`.\`${BIG[src]}\` WHERE id = 1` : `SELECT t_varchar AS v FROM "${dstDb}"."${BIG[src]}" WHERE id = 1`);
      assert.equal(row.v, 'updated', 'the CDC update reached the target');

      // The comparison is live: one changed target value is found.
      await inDb(dst, dstDb, dst === 'mysql' ? 'UPDATE parent SET code = \'changed\' WHERE id = 1' : `UPDATE parent SET code = 'changed' WHERE id = 1`);
      const broken = await compare(snap);
      assert.equal(broken.ok, false);
    });
  }
});

describe('struct phases', () => {
  it('table brings the types and sequences its columns need; constraint includes foreign keys', () => {
    assert.deepEqual([...phasesFor(['table'])].sort(), ['sequence', 'table', 'type']);
    assert.deepEqual([...phasesFor(['constraint', 'index'])].sort(), ['constraint', 'foreign_key', 'index']);
    assert.equal(phasesFor(['*']).size, 7);
  });
});
