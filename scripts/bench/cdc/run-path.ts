import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetState } from '../snapshot/dataset.ts';
import { waitForMarker } from './marker.ts';
import { ferryCdcConfig } from './ferry-config.ts';
import type { FerryCdcProcess } from './ferry-process.ts';
import type { LoadResult } from './load.ts';
import type { CdcBenchOptions } from './options.ts';
import type { CdcPath } from './path.ts';
import { burst, errMsg, startFerry, steadyLag, timeFerry, timeNative, writeBacklog, type Measured, type PhaseContext } from './phases.ts';
import type { CdcResultRow, Phase } from './report.ts';

export interface CdcRunContext {
  opts: CdcBenchOptions;
  workDir: string;
  log: (s: string) => void;
}

export interface CdcOutcome {
  rows: CdcResultRow[];
  /** A correctness check failed (a target != its source, ferry or the native replication failed): exit 1. */
  failed: boolean;
  dataset?: DatasetState;
  /** How the source load was generated: each backlog round and the steady load. */
  load: { backlogs: LoadResult[]; steady?: LoadResult };
  native?: string;
  ferryConfig?: string;
  cpuProfiles: Array<{ label: string; file: string }>;
  /** RSS of the steady-phase ferry process once caught up and idle, before the load: its baseline. */
  ferryIdleRssMb?: number;
  error?: string;
}

/**
 * The reported row of repeated runs: the median by seconds, with every run's seconds; the first failed run
 * instead, as it is.
 */
function medianOf(runs: Measured[]): Measured & { runSeconds?: number[] } {
  const bad = runs.find((r) => r.verified !== 'ok');
  if (bad) return bad;
  const median = [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor((runs.length - 1) / 2)];
  const peaks = runs.map((r) => r.peakRssMb).filter((x): x is number => x !== undefined);
  return { ...median, runSeconds: runs.length > 1 ? runs.map((r) => Math.round(r.seconds * 10) / 10) : undefined, peakRssMb: peaks.length ? Math.max(...peaks) : undefined };
}

/**
 * One path: prepare; ferry records its start; `repeat` rounds of backlog -> native and ferry each applying it
 * (the order alternates between rounds, so neither always reads a colder stream); then one ferry process
 * under the steady load and the burst. Cleanup always runs.
 */
export async function runCdcPath(path: CdcPath, rc: CdcRunContext): Promise<CdcOutcome> {
  const { opts, log } = rc;
  const dir = join(rc.workDir, path.id);
  mkdirSync(dir, { recursive: true });
  const out: CdcOutcome = { rows: [], failed: false, load: { backlogs: [] }, cpuProfiles: [] };
  const tool = `ferry ${opts.parallelType} p${opts.parallel} b${opts.batch}`;
  const config = {
    parallelType: opts.parallelType, parallel: opts.parallel, batch: opts.batch,
    set: opts.set.length ? opts.set.map((e) => `${e.section}.${e.key}=${e.value}`) : undefined,
    nodeFlags: opts.nodeFlags.length ? opts.nodeFlags : undefined,
  };
  const push = (phase: Phase, workload: string, t: string, m: Measured): CdcResultRow => {
    const r: CdcResultRow = { path: path.label, phase, workload, tool: t, ...(t === tool ? { config } : {}), ...m };
    if (r.verified !== 'ok' && r.verified !== 'skipped') out.failed = true;
    out.rows.push(r);
    return r;
  };
  const say = (phase: string, t: string, m: Measured) =>
    log(`${path.label} ${phase}: ${t}: ${m.verified === 'ok' ? `${m.seconds.toFixed(1)} s, ${m.rowsPerSec.toLocaleString('en-US')} rows/s` : `${m.verified}${m.note ? ` (${m.note})` : ''}`}`);
  let steady: FerryCdcProcess | undefined;
  try {
    out.dataset = await path.prepare({ rows: opts.rows, fresh: opts.fresh, peers: opts.peers, log });
    const cfgFile = join(dir, 'task_config.ini');
    writeFileSync(
      cfgFile,
      ferryCdcConfig({ taskId: `bench_cdc_${path.id}`, ...path.ferry(), parallelType: opts.parallelType, parallel: opts.parallel, batch: opts.batch, checkpointDir: join(dir, 'checkpoint'), extra: opts.set }),
    );
    out.ferryConfig = cfgFile;
    if (opts.peers) out.native = path.nativeNote;
    const ctx: PhaseContext = { opts, path, cfgFile, dir, log };

    // ferry records where CDC starts (pg: publication + slot) and stops: every backlog is then written while
    // no consumer runs, as after an outage or a maintenance window.
    const first = startFerry(ctx, 'start');
    await first.waitForLog(/cdc starts from the current source position/, 120_000);
    const code0 = await first.stop();
    if (code0 !== 0) throw new Error(`ferry's first start exited with ${code0}; see ${first.logFile}`);
    await path.markBacklogStart();

    // 1. Apply rate.
    let seq = 0;
    const nativeRuns: Measured[] = [];
    const ferryRuns: Measured[] = [];
    for (let round = 0; round < opts.repeat; round++) {
      const b = await writeBacklog(ctx, ++seq, 1 + round);
      out.load.backlogs.push(b.load);
      const runNative = async () => {
        if (!opts.peers || nativeRuns.some((r) => r.verified !== 'ok')) return;
        const m = await timeNative(ctx, seq, b.expected);
        say('apply', path.nativeName, m);
        nativeRuns.push(m);
      };
      const runFerry = async () => {
        if (ferryRuns.some((r) => r.verified !== 'ok')) return;
        const m = await timeFerry(ctx, seq, b.expected, `apply-${round + 1}`);
        say('apply', tool, m);
        ferryRuns.push(m);
      };
      if (round % 2 === 0) {
        await runNative();
        await runFerry();
      } else {
        await runFerry();
        await runNative();
      }
    }
    const workload = `${opts.updates.toLocaleString('en-US')} single-row updates`;
    let nativeRate: number | undefined;
    if (opts.peers) {
      const n = push('apply', workload, path.nativeName, medianOf(nativeRuns));
      if (n.verified === 'ok') nativeRate = n.rowsPerSec;
    }
    const fr = push('apply', workload, tool, medianOf(ferryRuns));
    if (fr.verified === 'ok' && nativeRate) fr.ratio = fr.rowsPerSec / nativeRate;
    if (fr.verified !== 'ok') return out;

    // 2. Lag: optionally the native replication's under the same load first (for comparison), then one ferry
    // process for the steady load and the burst. Each consumer runs and is caught up before its load starts.
    const wl = `${opts.lagRate.toLocaleString('en-US')} updates/s for ${opts.lagSecs} s`;
    if (opts.lagSecs > 0 && opts.nativeLag && opts.peers && nativeRate) {
      log(`${path.label}: steady load, ${wl}, ${path.nativeName} running...`);
      await path.startNative();
      await waitForMarker(path.nativeTarget.url, path.nativeTarget.marker, seq, { timeoutMs: opts.timeout * 1000, healthy: () => path.nativeHealthy() });
      await new Promise((r) => setTimeout(r, 1000)); // as ferry: started a moment before the load, not at its first write
      const r = await steadyLag(ctx, { target: path.nativeTarget, healthy: () => path.nativeHealthy() }, seq, 999);
      await path.stopNative();
      seq = r.seq;
      say('lag', path.nativeName, r.m);
      push('lag', wl, path.nativeName, r.m);
    }
    if (opts.lagSecs > 0 || opts.burstRows > 0) {
      steady = startFerry(ctx, 'steady');
      const f = steady;
      await f.waitForLog(/cdc resumes/, 120_000);
      // Catch up first (the native lag phase's load, if any): untimed.
      await waitForMarker(path.ferryTarget.url, path.ferryTarget.marker, seq, { timeoutMs: opts.timeout * 1000, healthy: () => f.assertRunning() });
      out.ferryIdleRssMb = f.rssMb();
    }
    if (opts.lagSecs > 0) {
      log(`${path.label}: steady load, ${wl}, ferry running...`);
      const f = steady!;
      const r = await steadyLag(ctx, { target: path.ferryTarget, healthy: () => f.assertRunning(), ferry: f }, seq, 1000);
      seq = r.seq;
      out.load.steady = r.load;
      say('lag', tool, r.m);
      if (push('lag', wl, tool, r.m).verified !== 'ok') return out;
    }
    if (opts.burstRows > 0) {
      const wl = `1 transaction of ${opts.burstRows.toLocaleString('en-US')} row updates`;
      log(`${path.label}: burst, ${wl}...`);
      const m = await burst(ctx, steady!, ++seq);
      say('burst', tool, m);
      if (push('burst', wl, tool, m).verified !== 'ok') return out;
    }
    if (steady) {
      const code = await steady.stop();
      if (code !== 0) throw new Error(`ferry exited with ${code} on SIGTERM; see ${steady.logFile}`);
    }
    if (opts.cpuProf) {
      for (const tag of ['apply-1', 'steady']) {
        const d = join(dir, 'cpu-prof', tag);
        const f = readdirSafe(d).find((x) => x.endsWith('.cpuprofile'));
        if (f) out.cpuProfiles.push({ label: `ferry ${path.label} ${tag === 'steady' ? 'steady load + burst' : 'backlog apply (round 1)'}`, file: join(d, f) });
      }
    }
  } catch (e) {
    out.failed = true;
    out.error = errMsg(e);
    log(`${path.label}: FAILED: ${out.error}`);
  } finally {
    steady?.kill();
    await path.cleanup();
  }
  return out;
}

const readdirSafe = (d: string): string[] => {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
};
