import { FerryError, isFerryError } from '../../core/errors.ts';
import type { MysqlClient } from './client.ts';

/** What the precheck learnt about the source server. */
export interface BinlogServer {
  isMariaDb: boolean;
  version: string;
  /** The source server's own server_id (ferry's must differ). */
  serverId: number;
}

const pr001 = (message: string, setting: string) => new FerryError('PR001', message, { details: { setting } });

/**
 * Binlog CDC prerequisites, each failure one PR001 line naming the setting and how to change it:
 * log_bin=ON, binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL (without it ENUM/SET values
 * and column names cannot be decoded from the binlog), on MySQL 8 binlog_transaction_compression=OFF and no
 * PARTIAL_JSON (zongji cannot decode those events: the rows would be lost), REPLICATION CLIENT (SHOW MASTER
 * STATUS) and REPLICATION SLAVE (reading the binlog), and a server_id different from the source's own.
 * Variables a server does not have (MariaDB has no binlog_transaction_compression) count as off.
 */
export async function precheckMysqlCdc(client: MysqlClient, serverId: number, signal: AbortSignal): Promise<BinlogServer> {
  const info = await client.server(signal);
  const where = client.address;
  const vars = new Map<string, string>();
  const rows = await client.catalog<{ Variable_name: string; Value: string }>(
    `SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata', ` +
      `'binlog_transaction_compression', 'binlog_row_value_options', 'server_id')`,
    signal,
    'cdc precheck',
  );
  for (const r of rows) vars.set(r.Variable_name.toLowerCase(), String(r.Value ?? ''));
  const v = (k: string) => (vars.get(k) ?? '').toUpperCase();
  if (v('log_bin') !== 'ON' && v('log_bin') !== '1') {
    throw pr001(`MySQL at ${where} has log_bin=${v('log_bin') || 'OFF'}; binlog CDC needs the binary log (start the server with --log-bin)`, 'log_bin');
  }
  if (v('binlog_format') !== 'ROW') {
    throw pr001(`MySQL at ${where} has binlog_format=${v('binlog_format')}; binlog CDC needs binlog_format=ROW (SET GLOBAL binlog_format = 'ROW', and in the server config)`, 'binlog_format');
  }
  if (v('binlog_row_image') !== 'FULL') {
    throw pr001(`MySQL at ${where} has binlog_row_image=${v('binlog_row_image')}; binlog CDC needs binlog_row_image=FULL (SET GLOBAL binlog_row_image = 'FULL')`, 'binlog_row_image');
  }
  if (v('binlog_row_metadata') !== 'FULL') {
    throw pr001(
      `MySQL at ${where} has binlog_row_metadata=${v('binlog_row_metadata') || '(not supported)'}; binlog CDC needs binlog_row_metadata=FULL ` +
        `(SET GLOBAL binlog_row_metadata = 'FULL'; MySQL >= 8.0.14 / MariaDB >= 10.5) -- without it ENUM/SET values decode as '' and column names are guessed`,
      'binlog_row_metadata',
    );
  }
  if (v('binlog_transaction_compression') === 'ON' || v('binlog_transaction_compression') === '1') {
    throw pr001(
      `MySQL at ${where} has binlog_transaction_compression=ON; ferry cannot decode compressed transactions and would lose their rows (SET GLOBAL binlog_transaction_compression = OFF)`,
      'binlog_transaction_compression',
    );
  }
  if (v('binlog_row_value_options').includes('PARTIAL_JSON')) {
    throw pr001(
      `MySQL at ${where} has binlog_row_value_options=PARTIAL_JSON; ferry cannot decode partial JSON updates and would lose them (SET GLOBAL binlog_row_value_options = '')`,
      'binlog_row_value_options',
    );
  }
  const sourceId = Number(vars.get('server_id') ?? 0);
  if (sourceId === serverId) {
    throw pr001(`extractor.server_id=${serverId} is the source server's own server_id; give ferry a replica id no other server or replica uses`, 'server_id');
  }
  await checkReplicationClient(client, where, signal);
  await checkReplicationSlave(client, where, signal);
  return { isMariaDb: info.isMariaDb, version: info.version, serverId: sourceId };
}

async function checkReplicationClient(client: MysqlClient, where: string, signal: AbortSignal): Promise<void> {
  let st: unknown[];
  try {
    st = await client.query('SHOW MASTER STATUS', signal, { context: 'cdc precheck' });
  } catch (e) {
    if (isFerryError(e) && e.code === 'PR001') {
      throw pr001(`user at ${where} may not read the binlog position: GRANT REPLICATION CLIENT ON *.* (MariaDB: BINLOG MONITOR) is needed`, 'REPLICATION CLIENT');
    }
    throw e;
  }
  if (!st.length) throw pr001(`MySQL at ${where} reports no binary log (SHOW MASTER STATUS is empty); start the server with --log-bin`, 'log_bin');
}

/** REPLICATION SLAVE from SHOW GRANTS (roles granted to the user expanded one level). */
async function checkReplicationSlave(client: MysqlClient, where: string, signal: AbortSignal): Promise<void> {
  const grants = await grantLines(client, 'SHOW GRANTS', signal);
  const roles = grants.map((g) => /^GRANT\s+(.+?)\s+TO\s+/i.exec(g)).filter((m) => m && !/\sON\s/i.test(m[0]));
  for (const m of roles) {
    for (const role of m![1].split(/,\s*/)) grants.push(...(await grantLines(client, `SHOW GRANTS FOR ${role}`, signal).catch(() => [])));
  }
  const global = grants.map((g) => /^GRANT\s+(.+?)\s+ON\s+\*\.\*\s+TO\s/i.exec(g)?.[1] ?? '').join(',').toUpperCase();
  if (/\bALL PRIVILEGES\b|\bREPLICATION (SLAVE|REPLICA)\b/.test(global)) return;
  throw pr001(`user at ${where} may not read the binlog: GRANT REPLICATION SLAVE ON *.* is needed (also REPLICATION CLIENT and SELECT)`, 'REPLICATION SLAVE');
}

async function grantLines(client: MysqlClient, sql: string, signal: AbortSignal): Promise<string[]> {
  const rows = await client.query<unknown[]>(sql, signal, { rowsAsArray: true, context: 'cdc precheck' });
  return rows.map((r) => String(Buffer.isBuffer(r[0]) ? r[0].toString('utf8') : r[0]));
}
