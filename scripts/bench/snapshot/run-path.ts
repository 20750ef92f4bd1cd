import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure } from '../support/measure.ts';
import { serverCpuSeconds } from '../support/server-cpu.ts';
import { checksum, sameChecksum, type TableChecksum } from './checksum.ts';
import { defaultChunkRows } from './ferry-config.ts';
import type { SnapshotBenchOptions } from './options.ts';
import type { BenchPath, TableAt } from './paths.ts';
import { thin, type ResultRow } from './report.ts';
import { runFerry, runFerryWithStruct } from './run-ferry.ts';

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

/** Server CPU since `before`, read after a pause: PostgreSQL counts a backend's time once it has exited. */
async function serverCpuSince(before: number | undefined): Promise<number | undefined> {
  if (before === undefined) return undefined;
  await new Promise((r) => setTimeout(r, 300));
  const after = serverCpuSeconds();
  return after === undefined ? undefined : Math.round((after - before) * 10) / 10;
}

/** 1-minute load average before a run: the box is shared, so a slow run can be told from a busy machine. */
const load1 = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/**
 * The reported row of a series of runs: the median (by seconds) with every run's seconds and the highest peak
 * RSS of all; the first failed run instead, as it is.
 */
function medianOf(runs: ResultRow[]): ResultRow {
  const bad = runs.find((r) => r.verified !== 'ok');
  if (bad) return bad;
  const median = [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor((runs.length - 1) / 2)];
  const peaks = runs.map((r) => r.peakRssMb).filter((x): x is number => x !== undefined);
  return { ...median, runSeconds: runs.map((r) => Math.round(r.seconds * 10) / 10), peakRssMb: peaks.length ? Math.max(...peaks) : undefined };
}

async function peerOnce(path: BenchPath, ctx: PathRunContext, i: number): Promise<ResultRow> {
  const { opts, source, log } = ctx;
  await path.peer.prepare();
  const load = load1();
  const errFile = join(ctx.workDir, `${path.id}-peer-${i}.log`);
  const cpu0 = serverCpuSeconds();
  const m = await measure(path.peer.argv(), { stderrFile: errFile, timeoutMs: opts.timeout * 1000 });
  const cpu = { tool: m.cpuSeconds, servers: await serverCpuSince(cpu0) };
  const why = m.timedOut ? `timed out after ${opts.timeout} s` : `exit ${m.code}`;
  const v = m.code === 0 ? await verify(path.peer, source) : { verified: 'failed' as const, note: `${why}, see ${errFile}` };
  const rate = Math.round(source.rows / m.seconds);
  log(`${path.label}: ${path.peer.name}: ${m.seconds.toFixed(1)} s, ${rate} rows/s, ${v.verified}${v.note ? ` (${v.note})` : ''}`);
  return { path: path.label, tool: path.peer.name, rows: source.rows, seconds: m.seconds, rowsPerSec: rate, peakRssMb: m.peakRssMb, cpu, load1: load, ...v };
}

async function ferryOnce(path: BenchPath, ctx: PathRunContext, parallel: number, batch: number, round: number): Promise<ResultRow & { profile?: string }> {
  const { opts, source, log } = ctx;
  const chunkRows = opts.chunkRows ?? defaultChunkRows(opts.rows, parallel);
  await (opts.struct ? path.ferry.drop() : path.ferry.prepare());
  const load = load1();
  const cpu0 = serverCpuSeconds();
  const knobs = { parallel, batch, chunkRows, buffer: opts.buffer, cpuProf: opts.cpuProf, timeoutSec: opts.timeout, extra: opts.set };
  const r = await (opts.struct ? runFerryWithStruct(path, knobs, ctx.workDir, round, opts.oneCommand) : runFerry(path, knobs, ctx.workDir, round));
  const cpu = { tool: r.cpuSeconds, servers: await serverCpuSince(cpu0) };
  const ok = r.code === 0 && r.summary?.status === 'done';
  const why = r.timedOut ? `timed out after ${opts.timeout} s` : `exit ${r.code}`;
  const v = ok ? await verify(path.ferry, source) : { verified: 'failed' as const, note: `${why}, see ${r.logFile}` };
  const rate = Math.round(source.rows / r.seconds);
  log(`${path.label}: ferry p${parallel} b${batch}: ${r.seconds.toFixed(1)} s, ${rate} rows/s, peak RSS ${r.peakRssMb ?? '?'} MB, ${v.verified}${v.note ? ` (${v.note})` : ''}`);
  return {
    path: path.label, tool: 'ferry', config: { parallel, batch, chunkRows, buffer: opts.buffer, struct: opts.struct ? (opts.oneCommand ? 'one' : 'three') : undefined, set: opts.set.length ? opts.set.map((e) => `${e.section}.${e.key}=${e.value}`) : undefined }, rows: source.rows, seconds: r.seconds, rowsPerSec: rate,
    goalRatio: path.goalRatio, peakRssMb: r.peakRssMb, rssTimeline: thin(r.rss),
    ferrySeconds: r.summary?.seconds, cpu, load1: load, profile: r.cpuProfile, ...v,
  };
}

/**
 * Every round runs the peer once, then ferry once per (parallel, batch), each on a freshly emptied target and
 * verified; `repeat` rounds, interleaved so that load from other work on a shared box falls on both tools
 * alike. Reported: the median of each; ferry's ratio is against the peer's median.
 */
export async function runPath(path: BenchPath, ctx: PathRunContext): Promise<PathOutcome> {
  const { opts, source, log } = ctx;
  const out: PathOutcome = { rows: [], failed: false, profiles: [] };
  const configs = opts.parallel.flatMap((parallel) => opts.batch.map((batch) => ({ parallel, batch })));
  const peerRuns: ResultRow[] = [];
  const ferryRuns: ResultRow[][] = configs.map(() => []);
  const profiles: Array<string | undefined> = configs.map(() => undefined);

  if (ctx.skipPeer) log(`${path.label}: ${path.peer.name}: ${ctx.skipPeer}`);
  for (let round = 0; round < opts.repeat; round++) {
    if (!ctx.skipPeer && peerRuns.every((r) => r.verified === 'ok')) peerRuns.push(await peerOnce(path, ctx, round));
    for (const [i, c] of configs.entries()) {
      if (ferryRuns[i].some((r) => r.verified !== 'ok')) continue; // a failed configuration is not retried
      const r = await ferryOnce(path, ctx, c.parallel, c.batch, round);
      profiles[i] ??= r.profile; // one profile per configuration is enough to see where the time goes
      delete r.profile;
      ferryRuns[i].push(r);
    }
  }

  let peerRate: number | undefined;
  if (ctx.skipPeer) {
    out.rows.push({ path: path.label, tool: path.peer.name, rows: source.rows, seconds: 0, rowsPerSec: 0, verified: 'skipped', note: ctx.skipPeer });
  } else {
    const peer = medianOf(peerRuns);
    if (peer.verified === 'ok') peerRate = peer.rowsPerSec;
    out.rows.push(peer);
  }
  for (const [i, c] of configs.entries()) {
    const row = medianOf(ferryRuns[i]);
    if (row.verified !== 'ok') out.failed = true;
    if (peerRate && row.verified === 'ok') row.ratio = row.rowsPerSec / peerRate;
    out.rows.push(row);
    if (profiles[i]) out.profiles.push({ label: `${path.label} p${c.parallel} b${c.batch}`, file: profiles[i]! });
  }
  if (!opts.keep) await Promise.all([path.ferry.drop(), ctx.skipPeer ? undefined : path.peer.drop()]);
  return out;
}
