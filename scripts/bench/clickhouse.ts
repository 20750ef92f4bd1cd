/**
 * `npm run bench -- clickhouse [--rows N] [--parallel P] [--batch B] [--sink-batch S] [--cpu-prof]`: MySQL -> ClickHouse snapshot of
 * the sysbench-shaped table (the snapshot bench's dataset), ferry (`ferry run`, child process, peak RSS measured)
 * against ClickHouse's own `INSERT INTO ... SELECT FROM mysql(...)` table function, into the same
 * ReplacingMergeTree table (created by ferry's struct task: MySQL StructReader -> ClickHouse StructWriter), each
 * run on an emptied table and verified by count. CPU seconds of ferry, mariadbd and clickhouse-server are read
 * around each run (/proc), so the report says where the box's CPU went. Goal: ferry >= 0.7x the table function.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../lib/core/logger.ts';
import { openClickhouseClient } from '../../lib/connectors/clickhouse/index.ts';
import { taskConfigFromSections } from '../../lib/config/task.ts';
import { runStruct } from '../../lib/struct/struct-task.ts';
import { ensureServers, repoRoot, servers } from './support/servers.ts';
import { measure } from './support/measure.ts';
import { ferryEntry } from './support/ferry-cli.ts';
import { serviceCpuSeconds } from './support/server-cpu.ts';
import { formatProfile, summarizeCpuProfile } from './support/cpu-profile.ts';
import { ensureMysqlDataset, SOURCE_DB, TABLE } from './snapshot/dataset.ts';

const TARGET_DB = 'ferry_bench_ch';

function arg(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(argv[i + 1]) : dflt;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} expects a positive integer`);
  return v;
}

/** CPU seconds mariadbd and clickhouse-server use while `fn` runs. */
async function serversCpu<T>(fn: () => Promise<T>): Promise<{ result: T; mysql: number; clickhouse: number }> {
  const m0 = serviceCpuSeconds('mysql') ?? 0;
  const c0 = serviceCpuSeconds('clickhouse') ?? 0;
  const result = await fn();
  return { result, mysql: (serviceCpuSeconds('mysql') ?? 0) - m0, clickhouse: (serviceCpuSeconds('clickhouse') ?? 0) - c0 };
}

export async function run(argv: string[]): Promise<number> {
  const rows = arg(argv, 'rows', 1_000_000);
  const parallel = arg(argv, 'parallel', 2);
  const batch = arg(argv, 'batch', 50_000);
  // sinker.batch_size: rows per INSERT (source pages merged up to it), sized for ClickHouse: large batches, few parts.
  const sinkBatch = arg(argv, 'sink-batch', 200_000);
  const cpuProf = argv.includes('--cpu-prof');
  const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);
  ensureServers();
  const s = servers();
  const chUrl = `http://127.0.0.1:${process.env.FERRY_CH_HTTP_PORT ?? 58123}`;
  const ctx = { logger: silentLogger, signal: new AbortController().signal };
  const d = await ensureMysqlDataset(s, rows, false);
  log(`source mysql ${SOURCE_DB}.${TABLE}: ${d.rows} rows${d.reused ? ' (reused)' : ''}`);

  const ch = openClickhouseClient({ dbType: 'clickhouse', url: chUrl, maxConnections: 1, batchSize: batch, raw: {} }, ctx);
  const version = (await ch.server()).version;
  await ch.command(`DROP DATABASE IF EXISTS ${TARGET_DB}`, undefined, 'bench');
  const sections = (kind: 'struct' | 'snapshot') => ({
    extractor: { db_type: 'mysql', extract_type: kind, url: s.mysql.url, parallel_size: String(parallel), batch_size: String(batch) },
    sinker: { db_type: 'clickhouse', sink_type: kind === 'struct' ? 'struct' : 'write', url: chUrl, batch_size: String(sinkBatch), max_connections: String(parallel * 2) },
    filter: { do_tbs: `${SOURCE_DB}.${TABLE}` },
    router: { db_map: `${SOURCE_DB}:${TARGET_DB}` },
  });
  await runStruct(taskConfigFromSections({ ...sections('struct'), global: { task_id: 'bench_clickhouse_struct' } }).config, { logger: silentLogger });
  const count = async () => Number((await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${TARGET_DB}.${TABLE} FINAL`, undefined, 'count'))[0].n);

  const work = mkdtempSync(join(tmpdir(), 'ferry-bench-ch-'));
  const ini = join(work, 'task_config.ini');
  const snap = sections('snapshot');
  writeFileSync(ini, [
    ...Object.entries(snap).map(([k, v]) => `[${k}]\n${Object.entries(v).map(([a, b]) => `${a}=${b}`).join('\n')}`),
    `[pipeline]\nbuffer_size=${batch * parallel * 2}`,
    `[checkpoint]\nstore=file\ndir=${join(work, 'checkpoint')}`,
    `[global]\ntask_id=bench_clickhouse`,
  ].join('\n\n') + '\n');
  log(`ferry run (parallel ${parallel}, pages of ${batch}, inserts of up to ${sinkBatch} rows) into ClickHouse ${version}...`);
  const profDir = join(work, 'cpu-prof');
  const node = [process.execPath, ...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [])];
  const fr = await serversCpu(() => measure([...node, ferryEntry(), 'run', ini, '--init', '--no-progress', '--json'], {
    cwd: repoRoot, stderrFile: join(work, 'ferry.log'), memory: true, timeoutMs: 3_600_000,
  }));
  const f = fr.result;
  const ferryRows = await count();
  if (f.code !== 0 || ferryRows !== d.rows) {
    log(`FAILED: ferry exit ${f.code}, ${ferryRows} of ${d.rows} rows (log: ${join(work, 'ferry.log')})`);
    return 1;
  }

  await ch.command(`TRUNCATE TABLE ${TARGET_DB}.${TABLE}`, undefined, 'bench');
  log(`peer: INSERT INTO ... SELECT FROM mysql('${s.mysql.host}:${s.mysql.port}', ...)...`);
  const t0 = process.hrtime.bigint();
  const pr = await serversCpu(() => ch.command(
    `INSERT INTO ${TARGET_DB}.${TABLE} (id, k, c, pad, _ape_dts_is_deleted, _ape_dts_timestamp) ` +
      `SELECT id, k, c, pad, 0, 0 FROM mysql('${s.mysql.host}:${s.mysql.port}', '${SOURCE_DB}', '${TABLE}', '${s.mysql.user}', '')`,
    undefined, 'bench peer'));
  const peerSec = Number(process.hrtime.bigint() - t0) / 1e9;
  const peerRows = await count();
  await ch.close();
  if (peerRows !== d.rows) log(`peer copied ${peerRows} of ${d.rows} rows`);

  const ferryRate = d.rows / f.seconds;
  const peerRate = d.rows / peerSec;
  const ratio = ferryRate / peerRate;
  const perM = (cpu: number) => ((cpu * 1e6) / d.rows).toFixed(1);
  process.stdout.write(`\nclickhouse bench: ${d.rows.toLocaleString("en-US")} sysbench rows MySQL -> ClickHouse ${version} (parallel ${parallel}, pages of ${batch}, inserts of up to ${sinkBatch})\n`);
  process.stdout.write(`  ferry                        ${f.seconds.toFixed(1).padStart(7)} s  ${Math.round(ferryRate).toLocaleString('en-US').padStart(9)} rows/s  peak RSS ${f.peakRssMb?.toFixed(0) ?? '?'} MB\n`);
  process.stdout.write(`  INSERT SELECT FROM mysql()   ${peerSec.toFixed(1).padStart(7)} s  ${Math.round(peerRate).toLocaleString('en-US').padStart(9)} rows/s\n`);
  process.stdout.write(`  ratio ferry / peer           ${ratio.toFixed(2)}x (goal >= 0.7x)\n`);
  process.stdout.write(`  CPU s per 1M rows: ferry run = ferry ${f.cpuSeconds === undefined ? '?' : perM(f.cpuSeconds)} + mariadbd ${perM(fr.mysql)} + clickhouse ${perM(fr.clickhouse)}; ` +
    `peer = mariadbd ${perM(pr.mysql)} + clickhouse ${perM(pr.clickhouse)}\n`);
  // RSS through the run (quarters of the samples): flat when memory does not grow with the rows copied.
  if (f.rss.length >= 4) {
    const q = [1, 2, 3, 4].map((i) => f.rss[Math.min(f.rss.length - 1, Math.floor((f.rss.length * i) / 4) - 1)]);
    process.stdout.write(`  ferry RSS over the run:      ${q.map(([t, mb]) => `${mb} MB at ${t}s`).join(', ')}\n`);
  }
  if (cpuProf) {
    const prof = readdirSync(profDir).find((x) => x.endsWith('.cpuprofile'));
    if (prof) process.stdout.write('\n' + formatProfile('ferry', summarizeCpuProfile(join(profDir, prof), repoRoot, 25)) + '\n');
    log(`cpu profile kept in ${profDir}`);
  } else rmSync(work, { recursive: true, force: true });
  return 0;
}
