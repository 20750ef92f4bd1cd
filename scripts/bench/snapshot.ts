/**
 * `npm run bench -- snapshot`: ferry's snapshot copy against the tool a user would otherwise use, on a
 * sysbench-shaped table, each on a freshly emptied target, every copy verified (count + content hash).
 *   mysql->mysql  ferry vs `mysqldump | mysql`   goal >= 1.0x
 *   pg->pg        ferry vs `pg_dump | psql`      goal >= 0.8x
 *   mysql->pg     ferry vs pgloader             goal >= 1.5x
 * and ferry's peak RSS < 300 MB. Exit 1 when a ferry copy fails or differs from its source.
 */
import { ferryRuntime } from './support/ferry-cli.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureServers, servers, repoRoot } from './support/servers.ts';
import { ensureTool, machineInfo } from './support/tools.ts';
import { formatProfile, summarizeCpuProfile, type ProfileSummary } from './support/cpu-profile.ts';
import { parseSnapshotOptions, SNAPSHOT_USAGE } from './snapshot/options.ts';
import { ensureMysqlDataset, ensurePgDataset, SOURCE_DB, TABLE, type DatasetState } from './snapshot/dataset.ts';
import { checksum, type TableChecksum } from './snapshot/checksum.ts';
import { benchPaths } from './snapshot/paths.ts';
import { runPath } from './snapshot/run-path.ts';
import { formatTable, saveResults, type ResultRow } from './snapshot/report.ts';

export async function run(argv: string[]): Promise<number> {
  let o;
  try {
    o = parseSnapshotOptions(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${SNAPSHOT_USAGE}\n`);
    return 2;
  }
  if (!o) return 0;
  // Progress goes to stderr so `--json` leaves stdout to the JSON document.
  const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);
  ensureServers();
  const s = servers();
  const paths = benchPaths(s);

  const datasets: DatasetState[] = [];
  const sources: Partial<Record<'mysql' | 'pg', TableChecksum>> = {};
  const engines = new Set(o.paths.map((p) => paths[p].source.dbType));
  for (const engine of engines) {
    log(`source ${engine}: ${SOURCE_DB}.${TABLE} with ${o.rows.toLocaleString('en-US')} rows...`);
    const d = engine === 'mysql' ? await ensureMysqlDataset(s, o.rows, o.fresh) : await ensurePgDataset(s, o.rows, o.fresh);
    log(d.reused ? `source ${engine}: reused the existing table (${d.rows} rows; --fresh regenerates)` : `source ${engine}: generated in ${d.seconds.toFixed(1)} s`);
    datasets.push(d);
    // Also reads the whole table once, so every timed copy starts from the same warm cache.
    const src = engine === 'mysql' ? paths.mm.source : paths.pp.source;
    sources[engine] = await checksum(src.url, src.table);
  }

  const workDir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
  log(`ferry configs, logs and checkpoints in ${workDir}`);
  const rows: ResultRow[] = [];
  const profiles: Array<{ label: string; file: string; summary: ProfileSummary }> = [];
  let failed = false;
  for (const id of o.paths) {
    const path = paths[id];
    const skipPeer = o.peers ? ensureTool(path.peer.bin, path.peer.pkg, log) : 'peers not run (--no-peers)';
    const r = await runPath(path, { opts: o, source: sources[path.source.dbType]!, skipPeer, workDir, log });
    rows.push(...r.rows);
    failed ||= r.failed;
    for (const p of r.profiles) profiles.push({ ...p, summary: summarizeCpuProfile(p.file, repoRoot) });
  }

  const doc = {
    bench: 'snapshot',
    at: new Date().toISOString(),
    machine: machineInfo(),
    options: o,
    datasets,
    results: rows,
    cpuProfiles: profiles,
    workDir,
  };
  const file = saveResults(join(repoRoot, 'scripts/bench/results'), doc);
  if (o.json) process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  else {
    process.stdout.write(`\nsnapshot bench: ${o.rows.toLocaleString('en-US')} sysbench rows, ${doc.machine.cores} cores, node ${doc.machine.node}, ferry as ${ferryRuntime()}\n`);
    process.stdout.write(formatTable(rows) + '\n');
    for (const p of profiles) process.stdout.write('\n' + formatProfile(p.label, p.summary) + '\n');
  }
  log(`results written to ${file}`);
  // Configs, logs and checkpoints are kept when they can still tell something: a failure, profiles, --keep.
  if (!failed && !o.cpuProf && !o.keep) rmSync(workDir, { recursive: true, force: true });
  else log(`ferry configs, logs${o.cpuProf ? ', CPU profiles' : ''} and checkpoints kept in ${workDir}`);
  if (failed) log('FAILED: a ferry copy failed or its target differs from the source (see above)');
  return failed ? 1 : 0;
}
