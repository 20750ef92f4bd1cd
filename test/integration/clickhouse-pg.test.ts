/**
 * PostgreSQL -> ClickHouse on the real test servers (PostgreSQL 15, Debian's ClickHouse 18.16 over HTTP), the way a
 * user runs it: a struct task (`ferry run`, extract_type=struct: PostgreSQL StructReader -> ClickHouse StructWriter),
 * the snapshot task (`ferry run`), then CDC (pgoutput) with inserts / updates / deletes and unchanged TOAST values
 * (partial update images completed from the target), compared row by row by type family after each step.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../lib/core/logger.ts';
import type { MetadataAccessor, SnapshotSource, TableRef } from '../../lib/core/index.ts';
import { pgConnector } from '../../lib/connectors/pg/index.ts';
import { taskConfigFromSections } from '../../lib/config/task.ts';
import { createCheckpointStore } from '../../lib/checkpoint/create-store.ts';
import { testUrls as baseUrls, uniqueName } from '../support/services.ts';
import { execSql } from '../support/sql.ts';
import { runFerry } from '../support/cli.ts';
import { assertSameRows, cdcUntil, chTask, clickhouseClient, insertFormat, targetTypes } from '../support/clickhouse.ts';

const DB = `it_ch_pg_${process.pid}`;
const pgUrl = baseUrls.pg.replace(/\/[^/?]*(\?|$)/, `/${DB}$1`);
const SRC = 'src';
const ctx = { logger: silentLogger, signal: new AbortController().signal };
const never = new AbortController().signal;

/** What the struct task creates on 18.16 (no DateTime64, Date32, Bool). */
const TYPES_ON_18_16: Record<string, string> = {
  id: 'Int64', s: 'Nullable(Int16)', i: 'Int32', n: 'Nullable(Decimal(38, 9))', nf: 'Nullable(String)', r: 'Nullable(Float32)',
  d: 'Nullable(Float64)', b: 'Nullable(UInt8)', tx: 'Nullable(String)', big: 'Nullable(String)', by: 'Nullable(String)', j: 'Nullable(String)',
  u: 'Nullable(UUID)', dt: 'Nullable(Date)', ts: "Nullable(DateTime('UTC'))", tz: "Nullable(DateTime('UTC'))", ip: 'Nullable(String)',
  vc: 'Nullable(String)', c3: 'Nullable(String)', tm: 'Nullable(String)', iv: 'Nullable(String)', arr: 'Nullable(String)',
  bt: 'Nullable(UInt64)', vb: 'Nullable(String)', mo: 'Nullable(String)', x: 'Nullable(String)',
  _ape_dts_is_deleted: 'UInt8', _ape_dts_timestamp: 'Int64',
};

describe('PostgreSQL -> ClickHouse (18.16 over HTTP): struct, snapshot, CDC through `ferry`', () => {
  let work: string;
  let meta: MetadataAccessor;
  let source: SnapshotSource;
  const dst = uniqueName('ch_from_pg');
  const slot = `ferry_ch_${process.pid}`;
  const tables: TableRef[] = ['t', 'Mixed Case', 'nokey'].map((tb) => ({ db: SRC, tb }));
  const ch = clickhouseClient();
  const ep = { dbType: 'pg' as const, url: pgUrl, maxConnections: 2, batchSize: 1000, raw: {} };
  const task = (kind: 'struct' | 'snapshot', id: string) =>
    chTask(work, id, { kind, extractor: { db_type: 'pg', url: pgUrl }, filter: { do_dbs: SRC }, router: { db_map: `${SRC}:${dst}` } });
  const compareAll = async () => {
    for (const t of tables) await assertSameRows(source, await meta.getTableMeta(t, never), ch, { db: dst, tb: t.tb });
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ferry-ch-pg-'));
    await execSql(baseUrls.pg, `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await execSql(baseUrls.pg, `CREATE DATABASE ${DB}`);
    await execSql(pgUrl, `CREATE SCHEMA ${SRC};
      CREATE TYPE ${SRC}.mood AS ENUM ('sad', 'ok', 'happy');
      CREATE TABLE ${SRC}.t (id BIGINT PRIMARY KEY, s SMALLINT, i INT NOT NULL, n NUMERIC(38,9), nf NUMERIC, r REAL, d DOUBLE PRECISION,
        b BOOLEAN, tx TEXT, big TEXT, by BYTEA, j JSONB, u UUID, dt DATE, ts TIMESTAMP(6), tz TIMESTAMPTZ, ip INET, vc VARCHAR(10), c3 CHAR(3),
        tm TIME, iv INTERVAL, arr INT[], bt BIT(8), vb VARBIT(100), mo ${SRC}.mood, x XML);
      INSERT INTO ${SRC}.t VALUES
        (1, -32768, 1, '12345678901234567890123456789.123456789', '1e-20', 1.5, 1e300, true, 'héllo', (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g), '\\x00ff', '{"b":1,"a":[true]}',
         '123e4567-e89b-12d3-a456-426614174000', '2024-02-29', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.5+05:30', '10.0.0.1',
         'vä"r', 'ab', '23:59:59.999999', '1 year 2 mons 3 days 04:05:06', '{1,NULL,3}', B'10100101', B'101', 'happy', '<a>x</a>'),
        (2, NULL, 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
      CREATE TABLE ${SRC}."Mixed Case" ("Key" INT PRIMARY KEY, "va lue" TEXT);
      INSERT INTO ${SRC}."Mixed Case" VALUES (1, 'a');
      CREATE TABLE ${SRC}.nokey (a INT, b TEXT);
      INSERT INTO ${SRC}.nokey VALUES (1, 'one'), (1, 'one'), (2, NULL);
      ALTER TABLE ${SRC}.nokey REPLICA IDENTITY FULL;`);
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

  it('struct task, snapshot task, then CDC with a partial (TOAST) update and keyless changes', async () => {
    const dry = await runFerry(['struct', '--dry-run', await task('struct', 'ch_pg_dry')]);
    assert.equal(dry.code, 0, dry.stderr.slice(-2000));
    assert.match(dry.stdout, new RegExp(`^-- FLAG ${dst}\\.t\\.nf: numeric -> String \\(`, 'm'), 'unconstrained numeric -> String, flagged');
    assert.match(dry.stdout, new RegExp(`CREATE TABLE \`${dst}\`\\.\`Mixed Case\` \\(\n {2}\`Key\` Int32,\n {2}\`va lue\` Nullable\\(String\\),`));
    assert.match(dry.stdout, new RegExp(`CREATE TABLE \`${dst}\`\\.\`nokey\` \\([^;]*\\) ENGINE = MergeTree ORDER BY tuple\\(\\);`));

    const st = await runFerry(['run', await task('struct', 'ch_pg_struct')]);
    assert.equal(st.code, 0, st.stderr.slice(-2000));
    assert.deepEqual(Object.fromEntries(await targetTypes(ch, dst, 't')), TYPES_ON_18_16);
    for (const t of tables) assert.equal(await insertFormat(ch, await meta.getTableMeta(t, never), { db: dst, tb: t.tb }), 'RowBinary', `${t.tb} written as RowBinary`);

    const run = await runFerry(['run', await task('snapshot', 'ch_pg_snap')]);
    assert.equal(run.code, 0, run.stderr.slice(-2000));
    await compareAll();

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
        INSERT INTO ${SRC}.t (id, i, n, tz, arr, mo) VALUES (3, 3, '-0.000000001', '1999-12-31 23:59:59-08', '{}', 'sad');
        UPDATE ${SRC}.t SET i = 22, tx = 'two', iv = '-1 day', bt = B'00000001' WHERE id = 2;
        DELETE FROM ${SRC}.t WHERE id = 3;
        INSERT INTO ${SRC}.t (id, i) VALUES (4, 4);
        UPDATE ${SRC}.t SET id = 40 WHERE id = 4;
        UPDATE ${SRC}."Mixed Case" SET "va lue" = 'b' WHERE "Key" = 1;
        INSERT INTO ${SRC}.nokey VALUES (3, 'three');
        UPDATE ${SRC}.nokey SET b = 'deux' WHERE a = 2;
        DELETE FROM ${SRC}.nokey WHERE a = 3;`), compareAll);
    } finally {
      await store.close();
    }
  });
});
