/**
 * Identifiers with backticks, quotes, spaces, unicode and reserved words -- in database, table and column
 * names -- through metadata, boundaries, reads (with a filter naming such a column) and every write mode.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../lib/core/logger.ts';
import type { ChunkSpec } from '../../lib/core/source.ts';
import type { KeyTuple } from '../../lib/core/values.ts';
import { createMysqlMetadata, createMysqlSinker, createMysqlSnapshotSource } from '../../lib/connectors/mysql/index.ts';
import { quoteIdent } from '../../lib/connectors/mysql/sql.ts';
import { exactSelect, freshMysqlDb, type TestDb, mysqlEndpoint } from '../support/mysql.ts';
import { uniqueName } from '../support/services.ts';

const signal = new AbortController().signal;
const ctx = { logger: silentLogger, signal };
const q = quoteIdent;

const TABLE = "ta`ble 'x' \"y\" ü order";
const COLS = { key: 'select', key2: 'ke`y "2"', a: "it's", b: 'spa ce ü', c: '? from' };

describe('mysql names', () => {
  let src: TestDb;
  let dst: TestDb;

  before(async () => {
    src = await freshMysqlDb('', `${uniqueName('n')} sr\`c 'db' "ü" select`);
    dst = await freshMysqlDb('', `${uniqueName('n')} ds\`t 'db' "é" where`);
    const ddl = `CREATE TABLE ${q(TABLE)} (${q(COLS.key)} INT NOT NULL, ${q(COLS.key2)} VARCHAR(20) NOT NULL, ${q(COLS.a)} VARCHAR(30), ${q(COLS.b)} INT,
      ${q(COLS.c)} BLOB, PRIMARY KEY (${q(COLS.key)}, ${q(COLS.key2)}))`;
    await src.exec(ddl);
    await dst.exec(ddl);
    const rows = Array.from({ length: 60 }, (_, i) => `(${i % 6}, 'k\`''"${i}', 'v?${i}', ${i}, X'00${i.toString(16).padStart(2, '0')}')`);
    await src.exec(`INSERT INTO ${q(TABLE)} VALUES ${rows.join(',')}`);
  });
  after(async () => {
    await src?.drop();
    await dst?.drop();
  });

  for (const mode of [{ replace: true, loadData: true }, { replace: true, loadData: false }, { replace: false }]) {
    it(`copies through metadata, boundaries, filtered reads and writes (${JSON.stringify(mode)})`, async () => {
      const md = await createMysqlMetadata(mysqlEndpoint(), ctx);
      const source = await createMysqlSnapshotSource(mysqlEndpoint(), ctx);
      const sinker = await createMysqlSinker(mysqlEndpoint(), ctx, { sink: mode });
      try {
        assert.ok((await md.listDatabases(signal)).includes(src.name));
        assert.deepEqual(await md.listTables(src.name, signal), [TABLE]);
        const meta = await md.getTableMeta({ db: src.name, tb: TABLE }, signal);
        assert.deepEqual(meta.keyColumns, [COLS.key, COLS.key2]);
        assert.deepEqual(meta.columns.map((c) => c.name), Object.values(COLS));
        await dst.exec(`DELETE FROM ${q(TABLE)}`);
        const w = await sinker.openTable({ table: { db: dst.name, tb: TABLE }, columns: meta.columns, keyColumns: meta.keyColumns, source: meta }, signal);
        const where = `${q(COLS.b)} >= 0 AND ${q(COLS.a)} LIKE 'v?%'`;
        let lower: KeyTuple | null = null;
        let n = 0;
        for (let i = 0; ; i++) {
          const upper: KeyTuple | null = await md.keyAtOffset(meta, lower, 7, where, signal);
          const chunk: ChunkSpec = { id: `c${i}`, table: meta, kind: 'range', lower, upper, estimatedRows: 7 };
          for await (const b of source.readChunk(meta, chunk, { columns: meta.columns.map((c) => c.name), batchSize: 3, where, signal })) {
            n += b.rows.length;
            await w.write(b.rows, signal);
          }
          if (!upper) break;
          lower = upper;
        }
        assert.equal(n, 60);
        const order = [COLS.key, COLS.key2];
        assert.deepEqual(await dst.query(exactSelect(dst.name, TABLE, meta.columns, order)), await src.query(exactSelect(src.name, TABLE, meta.columns, order)));
        await assert.rejects(
          sinker.openTable({ table: { db: dst.name, tb: TABLE }, columns: [...meta.columns, { ...meta.columns[2], name: 'mi`ssing "c"' }], keyColumns: meta.keyColumns, source: meta }, signal),
          (e: Error & { code?: string }) => e.code === 'MD001' && e.message.includes(`${dst.name}.${TABLE}.mi\`ssing "c"`),
        );
      } finally {
        await md.close();
        await source.close();
        await sinker.close();
      }
    });
  }
});
