import ZongJi, { type AnyBinlogEvent } from '@vlasky/zongji';
import type { ConnectionOptions } from 'mysql2';
import { FerryError } from '../../core/errors.ts';
import { sleep } from '../../core/signal.ts';
import type { MysqlClient } from './client.ts';
import { binlogError } from './binlog-stream.ts';

/** When a binlog file was opened: its FORMAT_DESCRIPTION event's timestamp (epoch ms). */
async function fileStartMs(connection: ConnectionOptions, serverId: number, file: string): Promise<number> {
  const z = new ZongJi(connection);
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new FerryError('CN001', `no event from binlog ${file} within 15 s`)), 15_000);
      z.on('binlog', (ev: AnyBinlogEvent) => {
        if (ev.getEventName() !== 'format') return;
        clearTimeout(timer);
        resolve(ev.timestamp);
      });
      z.on('error', (e: Error) => {
        clearTimeout(timer);
        reject(binlogError(e));
      });
      z.start({ serverId, filename: file, position: 4, includeEvents: ['format'] });
    });
  } finally {
    const stopped = new Promise<void>((r) => z.once('stopped', () => r()));
    z.stop();
    await Promise.race([stopped, sleep(2000).catch(() => undefined)]);
    z.removeAllListeners();
  }
}

/**
 * The newest binlog file opened at or before `atMs` (ape-dts `find_last_binlog_before_timestamp`): streaming
 * from its start with the start-time filter reaches every transaction committed from `atMs` on. Binary search
 * over SHOW BINARY LOGS, one short binlog read per probe. The oldest file when every file is newer (PR001 would
 * be wrong: the server simply has nothing older).
 */
export async function binlogFileAt(client: MysqlClient, connection: ConnectionOptions, serverId: number, atMs: number, signal: AbortSignal): Promise<string> {
  const logs = await client.catalog<{ Log_name: string }>('SHOW BINARY LOGS', signal, 'cdc start time');
  if (!logs.length) throw new FerryError('PR001', 'the server lists no binary logs (SHOW BINARY LOGS is empty)', { details: { setting: 'log_bin' } });
  let lo = 0;
  let hi = logs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((await fileStartMs(connection, serverId, logs[mid].Log_name)) <= atMs) lo = mid;
    else hi = mid - 1;
  }
  return logs[lo].Log_name;
}
