import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure } from '../support/measure.ts';
import { checksum, sameChecksum, type TableChecksum } from './checksum.ts';
import { defaultChunkRows } from './ferry-config.ts';
import type { SnapshotBenchOptions } from './options.ts';
import type { BenchPath, TableAt } from './paths.ts';
import { thin, type ResultRow } from './report.ts';
import { runFerry } from './run-ferry.ts';

export interface PathRunContext {
  opts: SnapshotBenchOptions;
  /** The source table's checksum, computed once before any copy. */
  source: TableChecksum;
  /** Why the peer does not run, when it does not. */
  skipPeer?: string;
  workDir: string;
  log: (s: string) => void;
}

export interface PathOutcome {
  rows: ResultRow[];
  /** True when a ferry copy failed or differs from the source (the bench then exits non-zero). */
  failed: boolean;
  profiles: Array<{ label: string; file: string }>;
}

async function verify(target: TableAt, source: TableChecksum): Promise<Pick<ResultRow, 'verified' | 'note'>> {
  try {
    const got = await checksum(target.url, target.table);
    if (sameChecksum(got, source)) return { verified: 'ok' };
    return { verified: 'MISMATCH', note: got.rows === source.rows ? 'content hash differs' : `${got.rows} of ${source.rows} rows` };
  } catch (e) {
    return { verified: 'MISMATCH', note: `target unreadable: ${(e as Error).message.split('\n')[0]}` };
  }
}

/** 1-minute load average before a run: the box is shared, so a slow run can be told from a busy machine. */
const load1 = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/**
 * Runs `once` `n` times and reports the median run (by seconds) with every run's seconds and the highest
 * peak RSS of all. The first failed run ends the series and is reported as it is.
 */
async function repeated(n: number, once: (i: number) => Promise<ResultRow>): Promise<ResultRow> {
  const runs: ResultRow[] = [];
  for (let i = 0; i < n; i++) {
    const r = await once(i);
    if (r.verified !== 'ok') return r;
    runs.push(r);
  }
  const median = [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor((runs.length - 1) / 2)];
  const peaks = runs.map((r) => r.peakRssMb).filter((x): x is number => x !== undefined);
  return { ...median, runSeconds: runs.map((r) => Math.round(r.seconds * 10) / 10), peakRssMb: peaks.length ? Math.max(...peaks) : undefined };
}

async function peerOnce(path: BenchPath, ctx: PathRunContext, i: number): Promise<ResultRow> {
  const { opts, source, log } = ctx;
  await path.peer.prepare();
  const load = load1();
  const errFile = join(ctx.workDir, `${path.id}-peer-${i}.log`);
  const m = await measure(path.peer.argv(), { stderrFile: errFile, timeoutMs: opts.timeout * 1000 });
  const why = m.timedOut ? `timed out after ${opts.timeout} s` : `exit ${m.code}`;
  const v = m.code === 0 ? await verify(path.peer, source) : { verified: 'failed' as const, note: `${why}, see ${errFile}` };
  const rate = Math.round(source.rows / m.seconds);
  log(`${path.label}: ${path.peer.name}: ${m.seconds.toFixed(1)} s, ${rate} rows/s, ${v.verified}${v.note ? ` (${v.note})` : ''}`);
  return { path: path.label, tool: path.peer.name, rows: source.rows, seconds: m.seconds, rowsPerSec: rate, load1: load, ...v };
}

async function ferryOnce(path: BenchPath, ctx: PathRunContext, parallel: number, batch: number, peerRate?: number): Promise<ResultRow & { profile?: string }> {
  const { opts, source, log } = ctx;
  const chunkRows = opts.chunkRows ?? defaultChunkRows(opts.rows, parallel);
  await path.ferry.prepare();
  const load = load1();
  const r = await runFerry(path, { parallel, batch, chunkRows, buffer: opts.buffer, cpuProf: opts.cpuProf, timeoutSec: opts.timeout }, ctx.workDir);
  const ok = r.code === 0 && r.summary?.status === 'done';
  const why = r.timedOut ? `timed out after ${opts.timeout} s` : `exit ${r.code}`;
  const v = ok ? await verify(path.ferry, source) : { verified: 'failed' as const, note: `${why}, see ${r.logFile}` };
  const rate = Math.round(source.rows / r.seconds);
  log(`${path.label}: ferry p${parallel} b${batch}: ${r.seconds.toFixed(1)} s, ${rate} rows/s, peak RSS ${r.peakRssMb ?? '?'} MB, ${v.verified}${v.note ? ` (${v.note})` : ''}`);
  return {
    path: path.label, tool: 'ferry', config: { parallel, batch, chunkRows, buffer: opts.buffer }, rows: source.rows, seconds: r.seconds, rowsPerSec: rate,
    ratio: peerRate ? rate / peerRate : undefined, goalRatio: path.goalRatio, peakRssMb: r.peakRssMb, rssTimeline: thin(r.rss),
    ferrySeconds: r.summary?.seconds, load1: load, profile: r.cpuProfile, ...v,
  };
}

/** The peer, then ferry for every (parallel, batch); each on a freshly emptied target, each verified, `repeat` times. */
export async function runPath(path: BenchPath, ctx: PathRunContext): Promise<PathOutcome> {
  const { opts, source, log } = ctx;
  const out: PathOutcome = { rows: [], failed: false, profiles: [] };
  let peerRate: number | undefined;

  if (ctx.skipPeer) {
    log(`${path.label}: ${path.peer.name}: ${ctx.skipPeer}`);
    out.rows.push({ path: path.label, tool: path.peer.name, rows: source.rows, seconds: 0, rowsPerSec: 0, verified: 'skipped', note: ctx.skipPeer });
  } else {
    const row = await repeated(opts.repeat, (i) => peerOnce(path, ctx, i));
    if (row.verified === 'ok') peerRate = row.rowsPerSec;
    out.rows.push(row);
    if (!opts.keep) await path.peer.drop();
  }

  for (const parallel of opts.parallel) {
    for (const batch of opts.batch) {
      const profiles: string[] = [];
      const row = await repeated(opts.repeat, async () => {
        const r = await ferryOnce(path, ctx, parallel, batch, peerRate);
        if (r.profile) profiles.push(r.profile);
        delete r.profile;
        return r;
      });
      if (row.verified !== 'ok') out.failed = true;
      out.rows.push(row);
      // One profile per configuration is enough to see where the time goes.
      if (profiles[0]) out.profiles.push({ label: `${path.label} p${parallel} b${batch}`, file: profiles[0] });
    }
  }
  if (!opts.keep) await path.ferry.drop();
  return out;
}
