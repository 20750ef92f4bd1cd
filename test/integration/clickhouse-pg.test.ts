/**
 * PostgreSQL -> ClickHouse on the real test servers (PostgreSQL 15, Debian's ClickHouse 18.16 over HTTP): tables
 * by the ClickHouse StructWriter, snapshot with `ferry run`, CDC (pgoutput) with inserts/updates/deletes and
 * unchanged TOAST values (partial update images completed from the target), compared row by row by family.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../lib/core/logger.ts';
import type { MetadataAccessor, SnapshotSource, TableRef } from '../../lib/core/index.ts';
import { pgConnector } from '../../lib/connectors/pg/index.ts';
import { createClickhouseStructWriter } from '../../lib/connectors/clickhouse/index.ts';
import { taskConfigFromSections } from '../../lib/config/task.ts';
import { createCheckpointStore } from '../../lib/checkpoint/create-store.ts';
import { testUrls as baseUrls, uniqueName } from '../support/services.ts';
import { execSql } from '../support/sql.ts';
import { runFerry, writeIni } from '../support/cli.ts';
import { schemaModelOf } from '../support/struct-model.ts';
import { assertSameRows, cdcUntil, clickhouseClient, clickhouseEndpoint } from '../support/clickhouse.ts';

const DB = `it_ch_pg_${process.pid}`;
const pgUrl = baseUrls.pg.replace(/\/[^/?]*(\?|$)/, `/${DB}$1`);
const SRC = 'src';
const ctx = { logger: silentLogger, signal: new AbortController().signal };
const never = new AbortController().signal;

describe('PostgreSQL -> ClickHouse (18.16 over HTTP)', () => {
  let work: string;
  let meta: MetadataAccessor;
  let source: SnapshotSource;
  const dst = uniqueName('ch_from_pg');
  const slot = `ferry_ch_${process.pid}`;
  const tables: TableRef[] = ['t', 'Mixed Case'].map((tb) => ({ db: SRC, tb }));
  const ch = clickhouseClient();
  const ep = { dbType: 'pg' as const, url: pgUrl, maxConnections: 2, batchSize: 1000, raw: {} };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-ch-pg-'));
    await execSql(baseUrls.pg, `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await execSql(baseUrls.pg, `CREATE DATABASE ${DB}`);
    await execSql(pgUrl, `CREATE SCHEMA ${SRC};
      CREATE TABLE ${SRC}.t (id BIGINT PRIMARY KEY, s SMALLINT, i INT NOT NULL, n NUMERIC(38,9), nf NUMERIC, r REAL, d DOUBLE PRECISION,
        b BOOLEAN, tx TEXT, big TEXT, by BYTEA, j JSONB, u UUID, dt DATE, ts TIMESTAMP(6), tz TIMESTAMPTZ, ip INET);
      INSERT INTO ${SRC}.t VALUES
        (1, -32768, 1, '12345678901234567890123456789.123456789', '1e-20', 1.5, 1e300, true, 'héllo', (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g), '\\x00ff', '{"b":1,"a":[true]}',
         '123e4567-e89b-12d3-a456-426614174000', '2024-02-29', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.5+05:30', '10.0.0.1'),
        (2, NULL, 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
      CREATE TABLE ${SRC}."Mixed Case" ("Key" INT PRIMARY KEY, "va lue" TEXT);
      INSERT INTO ${SRC}."Mixed Case" VALUES (1, 'a');`);
    meta = await pgConnector.createMetadata!(ep, ctx);
    source = await pgConnector.createSnapshotSource!(ep, ctx);
  });
  after(async () => {
    await meta.close();
    await source.close();
    await ch.command(`DROP DATABASE IF EXISTS \`${dst}\``, undefined, 'cleanup').catch(() => undefined);
    await ch.close();
    await execSql(pgUrl, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '${slot}'`).catch(() => undefined);
    await execSql(baseUrls.pg, `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await rm(work, { recursive: true, force: true });
  });

  it('struct, snapshot with `ferry run`, then CDC with a partial (TOAST) update', async () => {
    const writer = await createClickhouseStructWriter(clickhouseEndpoint(), ctx);
    try {
      const plan = writer.planDdl(await schemaModelOf(meta, tables, 'pg', (t) => ({ db: dst, tb: t.tb })));
      assert.ok(plan.flags.some((f) => f.object.endsWith('.t.nf') && f.to === 'String'), 'unconstrained numeric -> String, flagged');
      for (const s of plan.statements) await writer.execute(s);
    } finally {
      await writer.close();
    }
    const ini = await writeIni(work, {
      extractor: { db_type: 'pg', extract_type: 'snapshot', url: pgUrl },
      sinker: { db_type: 'clickhouse', sink_type: 'write', url: baseUrls.clickhouse },
      filter: { do_dbs: SRC },
      router: { db_map: `${SRC}:${dst}` },
      checkpoint: { store: 'file', dir: join(work, 'snap') },
      global: { task_id: 'ch_pg_snap' },
    });
    const run = await runFerry(['run', ini]);
    assert.equal(run.code, 0, run.stderr.slice(-2000));
    for (const t of tables) await assertSameRows(source, await meta.getTableMeta(t, never), ch, { db: dst, tb: t.tb });

    const { config } = taskConfigFromSections({
      extractor: { db_type: 'pg', extract_type: 'cdc', url: pgUrl, slot_name: slot },
      sinker: { db_type: 'clickhouse', sink_type: 'write', url: baseUrls.clickhouse, batch_size: '500' },
      filter: { do_dbs: SRC },
      router: { db_map: `${SRC}:${dst}` },
      pipeline: { checkpoint_interval_secs: '0' },
      global: { task_id: 'ch_pg_cdc' },
      checkpoint: { store: 'file', dir: join(work, 'cdc') },
    }, process.env);
    const store = await createCheckpointStore(config.checkpoint, { logger: silentLogger });
    try {
      await cdcUntil(config, store, () => execSql(pgUrl, `
        UPDATE ${SRC}.t SET s = 7 WHERE id = 1;
        INSERT INTO ${SRC}.t (id, i, n, tz) VALUES (3, 3, '-0.000000001', '1999-12-31 23:59:59-08');
        UPDATE ${SRC}.t SET i = 22, tx = 'two' WHERE id = 2;
        DELETE FROM ${SRC}.t WHERE id = 3;
        INSERT INTO ${SRC}.t (id, i) VALUES (4, 4);
        UPDATE ${SRC}.t SET id = 40 WHERE id = 4;
        UPDATE ${SRC}."Mixed Case" SET "va lue" = 'b' WHERE "Key" = 1;`), async () => {
        for (const t of tables) await assertSameRows(source, await meta.getTableMeta(t, never), ch, { db: dst, tb: t.tb });
      });
    } finally {
      await store.close();
    }
  });
});
