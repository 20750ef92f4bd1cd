/**
 * `npm run bench -- clickhouse [--rows N] [--parallel P] [--batch B]`: MySQL -> ClickHouse snapshot of the
 * sysbench-shaped table (the snapshot bench's dataset), ferry (`ferry run`, child process, peak RSS measured)
 * against ClickHouse's own `INSERT INTO ... SELECT FROM mysql(...)` table function, into the same
 * ReplacingMergeTree table (created by ferry's ClickHouse StructWriter), each run on an emptied table and
 * verified by count. Goal: ferry >= 0.7x the table function.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../lib/core/logger.ts';
import { createMysqlMetadata } from '../../lib/connectors/mysql/index.ts';
import { createClickhouseStructWriter, openClickhouseClient } from '../../lib/connectors/clickhouse/index.ts';
import { structTableOf } from '../../test/support/struct-model.ts';
import { ensureServers, repoRoot, servers } from './support/servers.ts';
import { measure } from './support/measure.ts';
import { ensureMysqlDataset, SOURCE_DB, TABLE } from './snapshot/dataset.ts';

const TARGET_DB = 'ferry_bench_ch';

function arg(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(argv[i + 1]) : dflt;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} expects a positive integer`);
  return v;
}

export async function run(argv: string[]): Promise<number> {
  const rows = arg(argv, 'rows', 1_000_000);
  const parallel = arg(argv, 'parallel', 2);
  const batch = arg(argv, 'batch', 50_000);
  const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);
  ensureServers();
  const s = servers();
  const chUrl = `http://127.0.0.1:${process.env.FERRY_CH_HTTP_PORT ?? 58123}`;
  const ctx = { logger: silentLogger, signal: new AbortController().signal };
  const d = await ensureMysqlDataset(s, rows, false);
  log(`source mysql ${SOURCE_DB}.${TABLE}: ${d.rows} rows${d.reused ? ' (reused)' : ''}`);

  const ep = { dbType: 'clickhouse' as const, url: chUrl, maxConnections: 4, batchSize: batch, raw: {} };
  const ch = openClickhouseClient(ep, ctx);
  const version = (await ch.server()).version;
  const meta = await createMysqlMetadata({ dbType: 'mysql', url: s.mysql.url, maxConnections: 1, batchSize: 1000, raw: {} }, ctx);
  const table = { ...structTableOf(await meta.getTableMeta({ db: SOURCE_DB, tb: TABLE }, ctx.signal)), db: TARGET_DB };
  await meta.close();
  await ch.command(`DROP DATABASE IF EXISTS ${TARGET_DB}`, undefined, 'bench');
  const writer = await createClickhouseStructWriter(ep, ctx);
  for (const st of writer.planDdl({ sourceDbType: 'mysql', databases: [{ name: TARGET_DB }], tables: [table], sequences: [], enumTypes: [] }).statements) await writer.execute(st);
  await writer.close();
  const count = async () => Number((await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${TARGET_DB}.${TABLE} FINAL`, undefined, 'count'))[0].n);

  const work = mkdtempSync(join(tmpdir(), 'ferry-bench-ch-'));
  const ini = join(work, 'task_config.ini');
  writeFileSync(ini, [
    `[extractor]\ndb_type=mysql\nextract_type=snapshot\nurl=${s.mysql.url}\nparallel_size=${parallel}\nbatch_size=${batch}`,
    `[sinker]\ndb_type=clickhouse\nsink_type=write\nurl=${chUrl}\nbatch_size=${batch}\nmax_connections=${parallel * 2}`,
    `[filter]\ndo_tbs=${SOURCE_DB}.${TABLE}`,
    `[router]\ndb_map=${SOURCE_DB}:${TARGET_DB}`,
    `[pipeline]\nbuffer_size=${batch * parallel * 2}`,
    `[checkpoint]\nstore=file\ndir=${join(work, 'checkpoint')}`,
    `[global]\ntask_id=bench_clickhouse`,
  ].join('\n\n') + '\n');
  log(`ferry run (parallel ${parallel}, batch ${batch}) into ClickHouse ${version}...`);
  const f = await measure([process.execPath, join(repoRoot, 'bin/ferry.mjs'), 'run', ini, '--init', '--no-progress', '--json'], {
    cwd: repoRoot, stderrFile: join(work, 'ferry.log'), memory: true, timeoutMs: 3_600_000,
  });
  const ferryRows = await count();
  if (f.code !== 0 || ferryRows !== d.rows) {
    log(`FAILED: ferry exit ${f.code}, ${ferryRows} of ${d.rows} rows (log: ${join(work, 'ferry.log')})`);
    return 1;
  }

  await ch.command(`TRUNCATE TABLE ${TARGET_DB}.${TABLE}`, undefined, 'bench');
  log(`peer: INSERT INTO ... SELECT FROM mysql('${s.mysql.host}:${s.mysql.port}', ...)...`);
  const t0 = process.hrtime.bigint();
  await ch.command(
    `INSERT INTO ${TARGET_DB}.${TABLE} (id, k, c, pad, _ape_dts_is_deleted, _ape_dts_timestamp) ` +
      `SELECT id, k, c, pad, 0, 0 FROM mysql('${s.mysql.host}:${s.mysql.port}', '${SOURCE_DB}', '${TABLE}', '${s.mysql.user}', '')`,
    undefined, 'bench peer');
  const peerSec = Number(process.hrtime.bigint() - t0) / 1e9;
  const peerRows = await count();
  await ch.close();
  if (peerRows !== d.rows) log(`peer copied ${peerRows} of ${d.rows} rows`);

  const ferryRate = d.rows / f.seconds;
  const peerRate = d.rows / peerSec;
  const ratio = ferryRate / peerRate;
  process.stdout.write(`\nclickhouse bench: ${d.rows.toLocaleString('en-US')} sysbench rows MySQL -> ClickHouse ${version}\n`);
  process.stdout.write(`  ferry                        ${f.seconds.toFixed(1).padStart(7)} s  ${Math.round(ferryRate).toLocaleString('en-US').padStart(9)} rows/s  peak RSS ${f.peakRssMb?.toFixed(0) ?? '?'} MB\n`);
  process.stdout.write(`  INSERT SELECT FROM mysql()   ${peerSec.toFixed(1).padStart(7)} s  ${Math.round(peerRate).toLocaleString('en-US').padStart(9)} rows/s\n`);
  process.stdout.write(`  ratio ferry / peer           ${ratio.toFixed(2)}x (goal >= 0.7x)\n`);
  rmSync(work, { recursive: true, force: true });
  return 0;
}
