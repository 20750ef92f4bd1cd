/**
 * `npm run bench -- clickhouse [--rows N] [--parallel P] [--batch B] [--chunk-rows C] [--sink-batch S] [--repeat R] [--cpu-prof]`: MySQL -> ClickHouse snapshot of
 * the sysbench-shaped table (the snapshot bench's dataset), ferry (`ferry run`, child process, peak RSS measured)
 * against ClickHouse's own `INSERT INTO ... SELECT FROM mysql(...)` table function, into the same
 * ReplacingMergeTree table (created by ferry's struct task: MySQL StructReader -> ClickHouse StructWriter), each
 * run on an emptied table and an idle server (no merge running), verified by count, in R rounds (default 3) whose
 * medians are reported. CPU seconds of ferry, mariadbd and clickhouse-server are read
 * around each run (/proc), so the report says where the box's CPU went. Goal: ferry >= 0.7x the table function.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../lib/core/logger.ts';
import { openClickhouseClient } from '../../lib/connectors/clickhouse/index.ts';
import type { ClickhouseClient } from '../../lib/connectors/clickhouse/client.ts';
import { taskConfigFromSections } from '../../lib/config/task.ts';
import { runStruct } from '../../lib/struct/struct-task.ts';
import { ensureServers, repoRoot, servers } from './support/servers.ts';
import { measure, type Measured } from './support/measure.ts';
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

/** The number a `SELECT count() AS n ...` returns. */
const countOf = async (ch: ClickhouseClient, sql: string, context: string): Promise<number> => Number((await ch.rows<{ n: string }>(sql, undefined, context))[0].n);

/** CPU seconds mariadbd and clickhouse-server use while `fn` runs. */
async function serversCpu<T>(fn: () => Promise<T>): Promise<{ result: T; mysql: number; clickhouse: number }> {
  const m0 = serviceCpuSeconds('mysql') ?? 0;
  const c0 = serviceCpuSeconds('clickhouse') ?? 0;
  const result = await fn();
  return { result, mysql: (serviceCpuSeconds('mysql') ?? 0) - m0, clickhouse: (serviceCpuSeconds('clickhouse') ?? 0) - c0 };
}

interface Round {
  ferry: Measured;
  ferryCpu: { mysql: number; clickhouse: number };
  peerSec: number;
  peerCpu: { mysql: number; clickhouse: number };
  /** Active parts each side left (ClickHouse merges them later, in the background). */
  parts: { ferry: number; peer: number };
}

/**
 * Waits until ClickHouse merges nothing and its CPU is nearly still (under 2% over 300 ms), at most 60 s: the
 * background merges of one side's parts must not be measured as the other side's cost.
 */
async function waitIdle(ch: ClickhouseClient, log: (s: string) => void): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const merges = await countOf(ch, 'SELECT count() AS n FROM system.merges', 'bench');
    const c0 = serviceCpuSeconds('clickhouse') ?? 0;
    await new Promise((r) => setTimeout(r, 300));
    if (merges === 0 && (serviceCpuSeconds('clickhouse') ?? 0) - c0 < 0.006) return;
  }
  log('ClickHouse still busy after 60 s; measuring anyway');
}

export async function run(argv: string[]): Promise<number> {
  const rows = arg(argv, 'rows', 1_000_000);
  const parallel = arg(argv, 'parallel', 2);
  const batch = arg(argv, 'batch', 50_000);
  // extractor.chunk_rows and sinker.batch_size as docs/connectors/clickhouse.md recommends for MySQL pages streamed
  // into ClickHouse: one INSERT (one part) per chunk. A streamed INSERT holds no rows in ferry, so its size costs no
  // memory; at 200,000 rows (6 chunks, 6 parts) ClickHouse spent about 0.35 CPU s more during the copy and 0.8 CPU s
  // merging the parts afterwards.
  const chunkRows = arg(argv, 'chunk-rows', 500_000);
  const sinkBatch = arg(argv, 'sink-batch', 500_000);
  const cpuProf = argv.includes('--cpu-prof');
  // Rounds of (ferry, peer); the report gives the medians, the box being shared.
  const repeat = arg(argv, 'repeat', cpuProf ? 1 : 3);
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
    extractor: { db_type: 'mysql', extract_type: kind, url: s.mysql.url, parallel_size: String(parallel), batch_size: String(batch), chunk_rows: String(chunkRows) },
    sinker: { db_type: 'clickhouse', sink_type: kind === 'struct' ? 'struct' : 'write', url: chUrl, batch_size: String(sinkBatch), max_connections: String(parallel * 2) },
    filter: { do_tbs: `${SOURCE_DB}.${TABLE}` },
    router: { db_map: `${SOURCE_DB}:${TARGET_DB}` },
  });
  await runStruct(taskConfigFromSections({ ...sections('struct'), global: { task_id: 'bench_clickhouse_struct' } }).config, { logger: silentLogger });
  const parts = () => countOf(ch, `SELECT count() AS n FROM system.parts WHERE database = '${TARGET_DB}' AND active`, 'parts');
  const count = () => countOf(ch, `SELECT count() AS n FROM ${TARGET_DB}.${TABLE} FINAL`, 'count');

  const work = mkdtempSync(join(tmpdir(), 'ferry-bench-ch-'));
  const ini = join(work, 'task_config.ini');
  const snap = sections('snapshot');
  writeFileSync(ini, [
    ...Object.entries(snap).map(([k, v]) => `[${k}]\n${Object.entries(v).map(([a, b]) => `${a}=${b}`).join('\n')}`),
    `[pipeline]\nbuffer_size=${batch * parallel * 2}`,
    `[checkpoint]\nstore=file\ndir=${join(work, 'checkpoint')}`,
    `[global]\ntask_id=bench_clickhouse`,
  ].join('\n\n') + '\n');
  log(`ferry run (parallel ${parallel}, chunks of ${chunkRows}, pages of ${batch}, inserts of up to ${sinkBatch} rows) into ClickHouse ${version}, ${repeat} round(s)...`);
  const profDir = join(work, 'cpu-prof');
  const node = [process.execPath, ...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [])];
  const rounds: Round[] = [];
  for (let r = 0; r < repeat; r++) {
    // Each side starts on an empty table and an idle server: the merges of the previous side's parts would
    // otherwise run during the next measurement.
    await ch.command(`TRUNCATE TABLE ${TARGET_DB}.${TABLE}`, undefined, 'bench');
    await waitIdle(ch, log);
    const fr = await serversCpu(() => measure([...node, ferryEntry(), 'run', ini, '--init', '--no-progress', '--json'], {
      cwd: repoRoot, stderrFile: join(work, 'ferry.log'), memory: true, timeoutMs: 3_600_000,
    }));
    const f = fr.result;
    const ferryRows = await count();
    const ferryParts = await parts();
    if (f.code !== 0 || ferryRows !== d.rows) {
      log(`FAILED: ferry exit ${f.code}, ${ferryRows} of ${d.rows} rows (log: ${join(work, 'ferry.log')})`);
      return 1;
    }
    await ch.command(`TRUNCATE TABLE ${TARGET_DB}.${TABLE}`, undefined, 'bench');
    await waitIdle(ch, log);
    const t0 = process.hrtime.bigint();
    const pr = await serversCpu(() => ch.command(
      `INSERT INTO ${TARGET_DB}.${TABLE} (id, k, c, pad, _ape_dts_is_deleted, _ape_dts_timestamp) ` +
        `SELECT id, k, c, pad, 0, 0 FROM mysql('${s.mysql.host}:${s.mysql.port}', '${SOURCE_DB}', '${TABLE}', '${s.mysql.user}', '')`,
      undefined, 'bench peer'));
    const peerSec = Number(process.hrtime.bigint() - t0) / 1e9;
    const peerRows = await count();
    if (peerRows !== d.rows) {
      log(`FAILED: the peer copied ${peerRows} of ${d.rows} rows`);
      return 1;
    }
    rounds.push({ ferry: f, ferryCpu: fr, peerSec, peerCpu: pr, parts: { ferry: ferryParts, peer: await parts() } });
    log(`round ${r + 1}: ferry ${f.seconds.toFixed(2)} s, peer ${peerSec.toFixed(2)} s, ratio ${(peerSec / f.seconds).toFixed(2)}x`);
  }
  await ch.close();

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const ferrySec = median(rounds.map((r) => r.ferry.seconds));
  const peerSec = median(rounds.map((r) => r.peerSec));
  const ratio = peerSec / ferrySec;
  const f = rounds.find((r) => r.ferry.seconds === ferrySec)!;
  const p = rounds.find((r) => r.peerSec === peerSec)!;
  const perM = (cpu: number) => ((cpu * 1e6) / d.rows).toFixed(1);
  const rate = (sec: number) => Math.round(d.rows / sec).toLocaleString('en-US').padStart(9);
  const peak = Math.max(...rounds.map((r) => r.ferry.peakRssMb ?? 0));
  process.stdout.write(`\nclickhouse bench: ${d.rows.toLocaleString('en-US')} sysbench rows MySQL -> ClickHouse ${version} (parallel ${parallel}, chunks of ${chunkRows}, pages of ${batch}, inserts of up to ${sinkBatch}), median of ${repeat} round(s)\n`);
  process.stdout.write(`  ferry                        ${ferrySec.toFixed(2).padStart(7)} s  ${rate(ferrySec)} rows/s  peak RSS ${peak ? peak.toFixed(0) : '?'} MB\n`);
  process.stdout.write(`  INSERT SELECT FROM mysql()   ${peerSec.toFixed(2).padStart(7)} s  ${rate(peerSec)} rows/s\n`);
  process.stdout.write(`  ratio ferry / peer           ${ratio.toFixed(2)}x (goal >= 0.7x); rounds: ${rounds.map((r) => `${r.ferry.seconds.toFixed(2)}/${r.peerSec.toFixed(2)} s`).join(', ')}\n`);
  process.stdout.write(`  CPU s per 1M rows (median rounds): ferry run = ferry ${f.ferry.cpuSeconds === undefined ? '?' : perM(f.ferry.cpuSeconds)} + mariadbd ${perM(f.ferryCpu.mysql)} + clickhouse ${perM(f.ferryCpu.clickhouse)}; ` +
    `peer = mariadbd ${perM(p.peerCpu.mysql)} + clickhouse ${perM(p.peerCpu.clickhouse)}\n`);
  process.stdout.write(`  parts left (median rounds):  ferry ${f.parts.ferry}, peer ${p.parts.peer}\n`);
  // RSS through the run (quarters of the samples): flat when memory does not grow with the rows copied.
  const rss = f.ferry.rss;
  if (rss.length >= 4) {
    const q = [1, 2, 3, 4].map((i) => rss[Math.min(rss.length - 1, Math.floor((rss.length * i) / 4) - 1)]);
    process.stdout.write(`  ferry RSS over the run:      ${q.map(([t, mb]) => `${mb} MB at ${t}s`).join(', ')}\n`);
  }
  if (cpuProf) {
    const prof = readdirSync(profDir).find((x) => x.endsWith('.cpuprofile'));
    if (prof) process.stdout.write('\n' + formatProfile('ferry', summarizeCpuProfile(join(profDir, prof), repoRoot, 25)) + '\n');
    log(`cpu profile kept in ${profDir}`);
  } else rmSync(work, { recursive: true, force: true });
  return 0;
}
