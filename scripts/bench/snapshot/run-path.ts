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

async function verify(target: TableAt, source: TableChecksum): Promise<{ verified: ResultRow['verified']; note?: string }> {
  try {
    const got = await checksum(target.url, target.table);
    if (sameChecksum(got, source)) return { verified: 'ok' };
    return { verified: 'MISMATCH', note: got.rows === source.rows ? 'content hash differs' : `${got.rows} of ${source.rows} rows` };
  } catch (e) {
    return { verified: 'MISMATCH', note: `target unreadable: ${(e as Error).message.split('\n')[0]}` };
  }
}

/** The peer once, then ferry once per (parallel, batch); each on a freshly emptied target, each verified. */
export async function runPath(path: BenchPath, ctx: PathRunContext): Promise<PathOutcome> {
  const { opts, source, log } = ctx;
  const out: PathOutcome = { rows: [], failed: false, profiles: [] };
  let peerRate: number | undefined;

  if (ctx.skipPeer) {
    log(`${path.label}: ${path.peer.name}: ${ctx.skipPeer}`);
    out.rows.push({ path: path.label, tool: path.peer.name, rows: source.rows, seconds: 0, rowsPerSec: 0, verified: 'skipped', note: ctx.skipPeer });
  } else {
    await path.peer.prepare();
    log(`${path.label}: ${path.peer.name}...`);
    const errFile = join(ctx.workDir, `${path.id}-peer.log`);
    const m = await measure(path.peer.argv(), { stderrFile: errFile });
    const v = m.code === 0 ? await verify(path.peer, source) : { verified: 'failed' as const, note: `exit ${m.code}, see ${errFile}` };
    const rate = Math.round(source.rows / m.seconds);
    if (v.verified === 'ok') peerRate = rate;
    log(`${path.label}: ${path.peer.name}: ${m.seconds.toFixed(1)} s, ${rate} rows/s, ${v.verified}`);
    out.rows.push({ path: path.label, tool: path.peer.name, rows: source.rows, seconds: m.seconds, rowsPerSec: rate, ...v });
    if (!opts.keep) await path.peer.drop();
  }

  for (const parallel of opts.parallel) {
    for (const batch of opts.batch) {
      const chunkRows = opts.chunkRows ?? defaultChunkRows(opts.rows, parallel);
      await path.ferry.prepare();
      log(`${path.label}: ferry parallel=${parallel} batch=${batch} chunk_rows=${chunkRows}...`);
      const r = await runFerry(path, { parallel, batch, chunkRows, buffer: opts.buffer, cpuProf: opts.cpuProf }, ctx.workDir);
      const ok = r.code === 0 && r.summary?.status === 'done';
      const v = ok ? await verify(path.ferry, source) : { verified: 'failed' as const, note: `exit ${r.code}, see ${r.logFile}` };
      if (v.verified !== 'ok') out.failed = true;
      const rate = Math.round(source.rows / r.seconds);
      log(`${path.label}: ferry: ${r.seconds.toFixed(1)} s, ${rate} rows/s, peak RSS ${r.peakRssMb ?? '?'} MB, ${v.verified}${v.note ? ` (${v.note})` : ''}`);
      out.rows.push({
        path: path.label, tool: 'ferry', config: { parallel, batch, chunkRows, buffer: opts.buffer }, rows: source.rows, seconds: r.seconds, rowsPerSec: rate,
        ratio: peerRate ? rate / peerRate : undefined, goalRatio: path.goalRatio, peakRssMb: r.peakRssMb, rssTimeline: thin(r.rss),
        ferrySeconds: r.summary?.seconds, ...v,
      });
      if (r.cpuProfile) out.profiles.push({ label: `${path.label} p${parallel} b${batch}`, file: r.cpuProfile });
    }
  }
  if (!opts.keep) await path.ferry.drop();
  return out;
}
