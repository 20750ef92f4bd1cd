/**
 * `npm run bench -- cdc`: ferry's CDC (a `ferry run` child on a generated task_config.ini) against the engine's
 * own replication, on a sysbench-shaped table whose source and targets start identical:
 *   apply  a backlog of single-row UPDATE transactions written while nothing replicates, then applied by the
 *          native replication and by ferry (rdb_merge by default); rows/s and ferry/native, goal >= 1.0x
 *   lag    ferry running under a steady 5,000 updates/s; end-to-end lag of a marker row every 100 ms, p99 < 1 s
 *   burst  one transaction updating every row; ferry's peak RSS while applying it, < 300 MB
 * on pg->pg (publication + subscription) and mysql->mysql (a second mariadbd as a real replica).
 * Every target is verified (count + content hash) after every phase; exit 1 only when one differs or a
 * replication fails -- a missed speed/lag/memory goal is reported, not an error.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureServers, servers, repoRoot } from './support/servers.ts';
import { machineInfo } from './support/tools.ts';
import { formatProfile, summarizeCpuProfile, type ProfileSummary } from './support/cpu-profile.ts';
import { parseCdcOptions, CDC_USAGE, type CdcPathId } from './cdc/options.ts';
import { pgPath } from './cdc/pg-path.ts';
import { mysqlPath } from './cdc/mysql-path.ts';
import type { CdcPath } from './cdc/path.ts';
import { runCdcPath, type CdcOutcome } from './cdc/run-path.ts';
import { formatTable, saveCdcResults, CDC_GOALS, type CdcResultRow } from './cdc/report.ts';
import { killTracked } from './cdc/children.ts';

export async function run(argv: string[]): Promise<number> {
  let o;
  try {
    o = parseCdcOptions(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${CDC_USAGE}\n`);
    return 2;
  }
  if (!o) return 0;
  const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);
  ensureServers();
  const s = servers();
  const workDir = mkdtempSync(join(tmpdir(), 'ferry-bench-cdc-'));
  log(`ferry configs, logs and the replica server in ${workDir}`);

  // Whatever happens (an exception, Ctrl-C), no ferry process or replica server outlives the bench, and a
  // path's slots, publications, subscription and databases are removed by its own cleanup.
  const current: { path?: CdcPath } = {};
  process.once('exit', killTracked);
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted = true;
    log(`${sig}: cleaning up`);
    // The phase still running fails as its connections are dropped: nothing it throws matters any more.
    process.on('uncaughtException', () => undefined);
    process.on('unhandledRejection', () => undefined);
    killTracked();
    void (current.path?.cleanup() ?? Promise.resolve()).finally(() => {
      rmSync(workDir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const make: Record<CdcPathId, () => CdcPath> = {
    pp: () => pgPath(s),
    mm: () => mysqlPath(s, { workDir, parallel: o.parallel }),
  };
  const outcomes: Array<CdcOutcome & { path: string; nativeNote?: string }> = [];
  const rows: CdcResultRow[] = [];
  const t0 = performance.now();
  for (const id of o.paths) {
    const path = make[id]();
    current.path = path;
    const r = await runCdcPath(path, { opts: o, workDir, log });
    // Interrupted: the signal handler cleans up and exits; no results for a run cut short.
    if (interrupted) return new Promise<number>(() => undefined);
    current.path = undefined;
    outcomes.push({ ...r, path: path.label });
    rows.push(...r.rows);
  }
  const failed = outcomes.some((r) => r.failed);
  const profiles: Array<{ label: string; summary: ProfileSummary }> = [];
  for (const r of outcomes) for (const p of r.cpuProfiles) profiles.push({ label: p.label, summary: summarizeCpuProfile(p.file, repoRoot) });

  // ferry's logs, configs (and profiles) outlive the temp dir when they are worth reading: next to the
  // results, git-ignored.
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\..*$/, '');
  const resultsDir = join(repoRoot, 'scripts/bench/results');
  const keep = failed || o.cpuProf ? join(resultsDir, `cdc-${stamp}`) : undefined;
  if (keep) cpSync(workDir, keep, { recursive: true, filter: (src) => !src.includes('/replica') && !src.includes('/checkpoint') });
  const moved = (f: string) => (keep ? f.replaceAll(workDir, keep) : f);
  const doc = {
    bench: 'cdc',
    at: new Date().toISOString(),
    seconds: Math.round((performance.now() - t0) / 1000),
    machine: machineInfo(),
    options: o,
    goals: CDC_GOALS,
    results: rows.map((r) => (r.note ? { ...r, note: moved(r.note) } : r)),
    paths: outcomes.map(({ rows: _r, ...rest }) => ({
      ...rest,
      ferryConfig: rest.ferryConfig && moved(rest.ferryConfig),
      cpuProfiles: rest.cpuProfiles.map((p) => ({ ...p, file: moved(p.file) })),
    })),
    cpuProfiles: profiles,
    logs: keep,
  };
  const file = saveCdcResults(resultsDir, stamp, doc);
  if (o.json) process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  else {
    process.stdout.write(
      `\ncdc bench: ${o.rows.toLocaleString('en-US')} sysbench rows, backlog ${o.updates.toLocaleString('en-US')} updates, ` +
        `${doc.machine.cores} cores, node ${doc.machine.node}, ${doc.seconds} s\n`,
    );
    process.stdout.write(formatTable(doc.results) + '\n');
    for (const r of outcomes) {
      if (r.native) process.stdout.write(`${r.path} native: ${r.native}\n`);
      if (r.error) process.stdout.write(`${r.path} FAILED: ${moved(r.error)}\n`);
    }
    process.stdout.write(
      'rows/s: from starting the tool (ferry: process spawn; in brackets: from when it streamed) until target == source.\n' +
        'CPU s: ferry\'s process / the source\'s stream reader (walsender, binlog dump thread) / the target\'s apply work, during the phase; ' +
        'box busy: the whole machine (shared) during the phase, with the 1-minute load average at its start.\n',
    );
    for (const p of profiles) process.stdout.write('\n' + formatProfile(p.label, p.summary) + '\n');
  }
  log(`results written to ${file}`);
  if (keep) log(`ferry logs, configs${o.cpuProf ? ', cpu profiles' : ''} kept in ${keep}`);
  rmSync(workDir, { recursive: true, force: true });
  if (failed) log('FAILED: a target differs from its source, or ferry / the native replication failed (see above)');
  return failed ? 1 : 0;
}
