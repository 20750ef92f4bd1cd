/**
 * Binlog CDC prerequisites and configuration: PR001 for binlog_row_metadata=MINIMAL (set GLOBAL on the test
 * server only for the moment of the check, then restored), for a user without REPLICATION SLAVE / CLIENT and
 * for ferry's server_id equal to the source's; CF001/CF002 naming `extractor.<key>`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FerryError } from '../../lib/core/errors.ts';
import { parseUtcTime, readMysqlCdcConfig } from '../../lib/connectors/mysql/cdc-config.ts';
import { createMysqlCdcSource } from '../../lib/connectors/mysql/index.ts';
import { mysqlAdmin, mysqlEndpoint } from '../support/mysql.ts';
import { testUrls, uniqueName } from '../support/services.ts';
import { cdcSource, never, testCtx, uniqueServerId } from './mysql-cdc-support.ts';

const isCode = (code: string, re?: RegExp) => (e: unknown) => e instanceof FerryError && e.code === code && (!re || re.test(e.message));

describe('mysql cdc precheck and config', () => {
  const users: string[] = [];
  before(async () => {
    const admin = await mysqlAdmin();
    for (const [name, grants] of [
      ['norepl', 'SELECT, BINLOG MONITOR'],
      ['noclient', 'SELECT, REPLICATION SLAVE'],
    ]) {
      const u = uniqueName(`ferry_${name}`);
      users.push(u);
      await admin.query(`CREATE USER '${u}'@'127.0.0.1' IDENTIFIED BY 'pw'; GRANT ${grants} ON *.* TO '${u}'@'127.0.0.1'`);
    }
    await admin.end();
  });
  after(async () => {
    const admin = await mysqlAdmin();
    for (const u of users) await admin.query(`DROP USER IF EXISTS '${u}'@'127.0.0.1'`);
    await admin.end();
  });

  it('refuses binlog_row_metadata=MINIMAL with one line naming the setting (restored afterwards)', async () => {
    const admin = await mysqlAdmin();
    const src = await cdcSource(undefined);
    try {
      await admin.query(`SET GLOBAL binlog_row_metadata = 'MINIMAL'`);
      await assert.rejects(src.currentPosition(never), isCode('PR001', /binlog_row_metadata=MINIMAL.*binlog_row_metadata=FULL/));
    } finally {
      await admin.query(`SET GLOBAL binlog_row_metadata = 'FULL'`);
      await admin.end();
      await src.close();
    }
  });

  it('refuses a user without REPLICATION SLAVE or without REPLICATION CLIENT', async () => {
    const as = (user: string) =>
      createMysqlCdcSource(mysqlEndpoint({ url: testUrls.mysql.replace('root@', `${user}:pw@`), raw: { server_id: String(uniqueServerId()) } }), testCtx);
    const norepl = await as(users[0]);
    await assert.rejects(norepl.currentPosition(never), isCode('PR001', /REPLICATION SLAVE/));
    await norepl.close();
    const noclient = await as(users[1]);
    await assert.rejects(noclient.currentPosition(never), isCode('PR001', /REPLICATION CLIENT/));
    await noclient.close();
  });

  it("refuses ferry's server_id equal to the source server's own", async () => {
    const admin = await mysqlAdmin();
    const [[{ id }]] = (await admin.query('SELECT @@server_id AS id')) as unknown as [[{ id: number }]];
    await admin.end();
    const src = await cdcSource(undefined, { server_id: String(id) });
    await assert.rejects(src.currentPosition(never), isCode('PR001', /server_id/));
    await src.close();
  });

  it('validates the keys: CF002 for a missing server_id, CF001 naming the key otherwise', () => {
    assert.throws(() => readMysqlCdcConfig({}), isCode('CF002', /^extractor\.server_id/));
    assert.throws(() => readMysqlCdcConfig({ server_id: 'abc' }), isCode('CF001', /^extractor\.server_id/));
    assert.throws(() => readMysqlCdcConfig({ server_id: '0' }), isCode('CF001', /^extractor\.server_id/));
    assert.throws(() => readMysqlCdcConfig({ server_id: '5', heartbeat_tb: 'nodot' }), isCode('CF001', /^extractor\.heartbeat_tb/));
    assert.throws(() => readMysqlCdcConfig({ server_id: '5', binlog_filename: 'bad name' }), isCode('CF001', /^extractor\.binlog_filename/));
    assert.throws(() => readMysqlCdcConfig({ server_id: '5', binlog_position: '100' }), isCode('CF002', /^extractor\.binlog_filename/));
    assert.throws(() => readMysqlCdcConfig({ server_id: '5', start_time_utc: 'yesterday' }), isCode('CF001', /^extractor\.start_time_utc/));
    assert.throws(
      () => readMysqlCdcConfig({ server_id: '5', start_time_utc: '2024-05-01 12:00:00', end_time_utc: '2024-05-01 11:00:00' }),
      isCode('CF001', /^extractor\.end_time_utc/),
    );
    const c = readMysqlCdcConfig({
      server_id: '2000',
      binlog_filename: 'mysql-bin.000035',
      binlog_position: '5299302',
      gtid_enabled: 'true',
      gtid_set: '0-1-100',
      heartbeat_tb: '`my db`.`hb.t`',
      start_time_utc: '2024-05-01 12:00:00',
      end_time_utc: '2024-05-01 15:00:00+02:00',
    });
    assert.deepEqual(c, {
      serverId: 2000,
      binlogFilename: 'mysql-bin.000035',
      binlogPosition: 5299302,
      gtidEnabled: true,
      gtidSet: '0-1-100',
      binlogHeartbeatIntervalSecs: 10,
      binlogTimeoutSecs: 60,
      heartbeatIntervalSecs: 10,
      heartbeatTable: { db: 'my db', tb: 'hb.t' },
      startTimeMs: Date.UTC(2024, 4, 1, 12),
      endTimeMs: Date.UTC(2024, 4, 1, 13),
    });
    assert.equal(parseUtcTime('2024-02-30 00:00:00'), null);
    assert.equal(parseUtcTime('2024-02-29 23:59:59.5'), Date.UTC(2024, 1, 29, 23, 59, 59, 500));
  });

  it('starts from the configured binlog_filename/position, or the gtid_set when gtid_enabled', async () => {
    const a = await cdcSource(undefined, { binlog_filename: 'binlog.000001', binlog_position: '4' });
    const p = await a.currentPosition(never);
    assert.deepEqual({ file: p.data.file, pos: p.data.pos }, { file: 'binlog.000001', pos: 4 });
    assert.equal(p.order, '0000000001:00000000000000000004');
    await a.close();
    const g = await cdcSource(undefined, { gtid_enabled: 'true', gtid_set: '0-1-5' });
    assert.deepEqual((await g.currentPosition(never)).data, { file: '', pos: 0, gtid: '0-1-5' });
    await g.close();
  });
});
