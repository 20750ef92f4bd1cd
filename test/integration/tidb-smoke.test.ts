/**
 * SMOKE TEST ON MariaDB, NOT ON TiDB: TiDB speaks the MySQL protocol, so the `tidb` connector's write path
 * (the MySQL sinker with TiDB's options: no LOAD DATA, bounded statements), its CDC applier and its
 * structure writer (planTidbDdl text run one statement at a time; `/*T![clustered_index] ... *\/` is a plain
 * comment outside TiDB) are run against the project's MariaDB (127.0.0.1:53306). What TiDB itself does with
 * them is tested only by tidb-live (FERRY_TEST_TIDB_URL).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../lib/core/logger.ts';
import type { SchemaModel } from '../../lib/core/struct.ts';
import type { Row } from '../../lib/core/values.ts';
import { loadConnector } from '../../lib/connectors/registry.ts';
import { freshMysqlDb, mysqlEndpoint, type TestDb } from '../support/mysql.ts';

const signal = new AbortController().signal;
const ctx = { logger: silentLogger, signal };

describe('tidb connector on MariaDB (smoke test: MySQL protocol only, not TiDB)', () => {
  let db: TestDb;
  before(async () => {
    db = await freshMysqlDb('tidb_smoke');
  });
  after(async () => db?.drop());

  it('struct writer: planTidbDdl statements run one by one; exists() sees what they created', async () => {
    const tidb = await loadConnector('tidb', 'sinker.db_type');
    const w = await tidb.createStructWriter!({ ...mysqlEndpoint(), dbType: 'tidb' }, ctx);
    try {
      const model: SchemaModel = {
        sourceDbType: 'mysql',
        databases: [{ name: db.name }],
        tables: [
          {
            db: db.name,
            tb: 'orders',
            columns: [
              { name: 'id', family: 'int', nativeType: 'bigint', nullable: false, autoIncrement: true },
              { name: 'note', family: 'string', nativeType: 'varchar(100)', nullable: true, default: { kind: 'literal', value: "it's" } },
              { name: 'body', family: 'string', nativeType: 'text', nullable: true },
            ],
            primaryKey: { columns: ['id'] },
            indexes: [
              { name: 'ix_note', unique: false, parts: [{ column: 'note', prefixLength: 20 }] },
              { name: 'ft_body', unique: false, method: 'fulltext', parts: [{ column: 'body' }] },
            ],
            foreignKeys: [],
            checks: [],
          },
        ],
        sequences: [],
        enumTypes: [],
      };
      const plan = w.planDdl(model);
      assert.deepEqual(plan.flags.map((f) => f.object), [`${db.name}.orders.ft_body`]);
      for (const st of plan.statements) {
        if (st.phase === 'database') {
          assert.equal(await w.exists(st), true);
          continue;
        }
        assert.equal(await w.exists(st), false, st.object);
        await w.execute(st);
        assert.equal(await w.exists(st), true, st.object);
      }
      const idx = await db.query<{ k: string; s: number }>(`SELECT INDEX_NAME AS k, SUB_PART AS s FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '${db.name}' AND TABLE_NAME = 'orders' ORDER BY k`);
      assert.deepEqual(idx.map((r) => [r.k, r.s === null ? null : Number(r.s)]), [['ix_note', 20], ['PRIMARY', null]]);
    } finally {
      await w.close();
    }
  });

  it('sinker: snapshot batches written twice leave one copy; CDC applier upserts and deletes', async () => {
    await db.exec('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(40) NOT NULL, d DECIMAL(30,10) NULL)');
    const tidb = await loadConnector('tidb', 'sinker.db_type');
    const s = await tidb.createSinker!({ ...mysqlEndpoint(), dbType: 'tidb', raw: { txn_total_size_limit: String(1024 * 1024) } }, ctx);
    try {
      const target = {
        table: { db: db.name, tb: 't' },
        source: { db: 'src', tb: 't' },
        columns: [
          { name: 'id', family: 'int' as const, nativeType: 'int', nullable: false },
          { name: 'v', family: 'string' as const, nativeType: 'varchar(40)', nullable: false },
          { name: 'd', family: 'decimal' as const, nativeType: 'decimal(30,10)', nullable: true },
        ],
        keyColumns: ['id'],
      };
      const rows: Row[] = Array.from({ length: 500 }, (_, i) => ({ id: i + 1, v: `v${i}`, d: `${i}1234567890.0123456789` }));
      const w = await s.openTable(target, signal);
      await w.write(rows, signal);
      await w.write(rows, signal);
      const [n] = await db.query<{ n: number; s: string }>('SELECT COUNT(*) AS n, CAST(SUM(id) AS CHAR) AS s FROM t');
      assert.deepEqual([Number(n.n), n.s], [500, String((500 * 501) / 2)]);
      const a = await s.openApplier!(signal);
      await a.apply(
        [
          { op: 'update', target, beforeKey: { id: 1 }, after: { id: 1, v: 'changed', d: null } },
          { op: 'delete', target, beforeKey: { id: 2 }, after: null },
          { op: 'insert', target, beforeKey: null, after: { id: 1000, v: 'new', d: '1.5' } },
        ],
        signal,
      );
      await a.close();
      const got = await db.query<{ id: number; v: string; d: string | null }>('SELECT id, v, CAST(d AS CHAR) AS d FROM t WHERE id IN (1, 2, 1000) ORDER BY id');
      assert.deepEqual(got.map((r) => [r.id, r.v, r.d]), [[1, 'changed', null], [1000, 'new', '1.5000000000']]);
    } finally {
      await s.close();
    }
  });
});
