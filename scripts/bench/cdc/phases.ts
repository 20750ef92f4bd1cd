import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checksum, sameChecksum, type TableChecksum } from '../snapshot/checksum.ts';
import { FerryCdcProcess } from './ferry-process.ts';
import { runUpdates, type LoadResult } from './load.ts';
import { bumpMarker, LagProbe, percentile, waitForMarker } from './marker.ts';
import type { CdcBenchOptions } from './options.ts';
import type { CdcPath, CdcTableAt } from './path.ts';
import { boxBusy } from './proc.ts';
import type { CdcResultRow } from './report.ts';
import { connect } from './sql-client.ts';

/** What every phase needs: options, the path, ferry's config file and a folder for logs. */
export interface PhaseContext {
  opts: CdcBenchOptions;
  path: CdcPath;
  cfgFile: string;
  dir: string;
  log: (s: string) => void;
}

/** A phase's measured part of a result row (the caller adds path, phase, tool, workload). */
export type Measured = Omit<CdcResultRow, 'path' | 'phase' | 'tool' | 'workload'>;

export const load1 = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
const round1 = (x: number) => Math.round(x * 10) / 10;
const ms = (x: number | undefined) => (x === undefined ? undefined : Math.round(x));
export const errMsg = (e: unknown) => ((e as Error)?.message ?? String(e)).split('\n')[0];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * CPU of a phase: ferry's process (when running from the start), the path's server-side work (source stream,
 * target apply) and how busy the whole machine was (it is shared: a busy box slows every tool).
 */
async function meter(path: CdcPath, ferry: () => FerryCdcProcess | undefined, fromStart = true): Promise<() => Promise<NonNullable<CdcResultRow['cpu']>>> {
  const f0 = fromStart ? ferry()?.cpuSeconds() : 0;
  const server = await path.meterCpu(() => (ferry() ? [ferry()!.pid] : []));
  const box = boxBusy();
  return async () => {
    const sv = await server();
    const f = ferry();
    const r = (x: number | undefined) => (x === undefined ? undefined : round1(x));
    return { tool: f && f0 !== undefined ? round1(f.cpuSeconds() - f0) : undefined, source: r(sv.source), target: r(sv.target), boxBusyPct: Math.round(100 * box()) };
  };
}

/**
 * After the marker arrived: target == source by checksum. The lanes of ferry's last group commit
 * independently, so a mismatch is re-read a few times; the time reported is then when it matched.
 */
async function settle(target: CdcTableAt, expected: TableChecksum, seenAt: number): Promise<{ at: number; verified: CdcResultRow['verified']; note?: string }> {
  let at = seenAt;
  let note = '';
  for (let i = 0; i < 10; i++) {
    try {
      const got = await checksum(target.url, target.table);
      if (sameChecksum(got, expected)) return { at, verified: 'ok' };
      note = got.rows === expected.rows ? 'content hash differs' : `${got.rows} of ${expected.rows} rows`;
    } catch (e) {
      note = `target unreadable: ${errMsg(e)}`;
    }
    await sleep(500);
    at = performance.now();
  }
  return { at, verified: 'MISMATCH', note };
}

/** The backlog: `count` single-row update transactions while nothing replicates, then the marker `seq` last. */
export async function writeBacklog(ctx: PhaseContext, seq: number, seed: number): Promise<{ load: LoadResult; expected: TableChecksum }> {
  const { opts, path, log } = ctx;
  log(`${path.label}: writing ${opts.updates.toLocaleString('en-US')} single-row updates from ${opts.writers} connections...`);
  const load = await runUpdates({ url: path.source.url, table: path.source.table, rows: opts.rows, writers: opts.writers, seed, count: opts.updates });
  log(`${path.label}: backlog written in ${load.seconds.toFixed(1)} s (${load.rate.toLocaleString('en-US')} updates/s)`);
  const c = await connect(path.source.url);
  await bumpMarker(c, path.source.marker, seq);
  await c.close();
  return { load, expected: await checksum(path.source.url, path.source.table) };
}

/** The native replication applies the backlog: from ENABLE / START SLAVE until its target equals the source. */
export async function timeNative(ctx: PhaseContext, seq: number, expected: TableChecksum): Promise<Measured> {
  const { opts, path } = ctx;
  await checksum(path.nativeTarget.url, path.nativeTarget.table); // read once: every timed target starts warm
  const m = await meter(path, () => undefined);
  const l = load1();
  const t0 = performance.now();
  try {
    await path.startNative();
    const seen = await waitForMarker(path.nativeTarget.url, path.nativeTarget.marker, seq, { timeoutMs: opts.timeout * 1000, healthy: () => path.nativeHealthy() });
    const v = await settle(path.nativeTarget, expected, seen);
    const cpu = await m();
    const seconds = (v.at - t0) / 1000;
    return { changes: opts.updates, seconds, rowsPerSec: Math.round(opts.updates / seconds), verified: v.verified, note: v.note, load1: l, cpu };
  } catch (e) {
    return { changes: opts.updates, seconds: 0, rowsPerSec: 0, verified: 'failed', note: errMsg(e), load1: l };
  } finally {
    await path.stopNative().catch(() => undefined);
  }
}

export function startFerry(ctx: PhaseContext, tag: string): FerryCdcProcess {
  const prof = ctx.opts.cpuProf ? join(ctx.dir, 'cpu-prof', tag) : undefined;
  if (prof) mkdirSync(prof, { recursive: true });
  return FerryCdcProcess.start(ctx.cfgFile, { logFile: join(ctx.dir, `ferry-${tag}.log`), cpuProfDir: prof, nodeFlags: ctx.opts.nodeFlags });
}

/** ferry applies the backlog: from spawning `ferry run` until its target equals the source; then SIGTERM. */
export async function timeFerry(ctx: PhaseContext, seq: number, expected: TableChecksum, tag: string): Promise<Measured> {
  const { opts, path } = ctx;
  await checksum(path.ferryTarget.url, path.ferryTarget.table);
  let f: FerryCdcProcess | undefined;
  const m = await meter(path, () => f, false);
  const l = load1();
  f = startFerry(ctx, tag);
  const proc = f;
  try {
    const seen = await waitForMarker(path.ferryTarget.url, path.ferryTarget.marker, seq, { timeoutMs: opts.timeout * 1000, healthy: () => proc.assertRunning() });
    const v = await settle(path.ferryTarget, expected, seen);
    const cpu = await m(); // ferry's whole process: start-up included
    const peakRssMb = proc.peakRssMb();
    const seconds = (v.at - proc.startedAt) / 1000;
    const streamedAt = proc.firstSeen.get('cdc resumes');
    const startup = streamedAt === undefined ? undefined : (streamedAt - proc.startedAt) / 1000;
    const code = await proc.stop();
    const r: Measured = {
      changes: opts.updates, seconds, rowsPerSec: Math.round(opts.updates / seconds), verified: v.verified, note: v.note, load1: l, cpu, peakRssMb,
      startupSeconds: startup === undefined ? undefined : round1(startup),
      rowsPerSecStreaming: startup === undefined ? undefined : Math.round(opts.updates / (seconds - startup)),
    };
    if (code !== 0) return { ...r, verified: 'failed', note: `exit ${code} on SIGTERM; see ${proc.logFile}` };
    return r;
  } catch (e) {
    proc.kill();
    return { changes: opts.updates, seconds: 0, rowsPerSec: 0, verified: 'failed', note: errMsg(e), load1: l };
  }
}

/** Who applies the steady load: ferry (its process is metered) or the native replication. */
export interface Consumer {
  target: CdcTableAt;
  healthy: () => void | Promise<void>;
  ferry?: FerryCdcProcess;
}

/**
 * Steady load while a consumer runs: `lagRate` updates/s for `lagSecs`, a marker every 100 ms; lag = from
 * issuing a marker update on the source to seeing it in the consumer's target. Returns the last marker seq.
 */
export async function steadyLag(ctx: PhaseContext, who: Consumer, seq: number, seed: number): Promise<{ m: Measured; seq: number; load?: LoadResult }> {
  const { opts, path } = ctx;
  const f = who.ferry;
  const peakNote = f && !f.resetPeak() ? 'peak RSS over the process life (clear_refs refused)' : undefined;
  const m = await meter(path, () => f);
  const l = load1();
  const timeoutMs = opts.timeout * 1000;
  try {
    const probe = await LagProbe.start({ sourceUrl: path.source.url, targetUrl: who.target.url, sourceTable: path.source.marker, targetTable: who.target.marker, startSeq: seq });
    const load = await runUpdates({ url: path.source.url, table: path.source.table, rows: opts.rows, writers: opts.writers, seed, seconds: opts.lagSecs, rate: opts.lagRate }).catch(async (e) => {
      await probe.stop();
      throw e;
    });
    const samples = await probe.stop();
    await who.healthy();
    const expected = await checksum(path.source.url, path.source.table);
    const seen = await waitForMarker(who.target.url, who.target.marker, probe.lastSeq, { timeoutMs, healthy: who.healthy });
    const cpu = await m();
    const peakRssMb = f?.peakRssMb();
    const v = await settle(who.target, expected, seen);
    const inner = load.perSecond.slice(1, -1);
    const lag = samples.lagMs;
    return {
      seq: probe.lastSeq,
      load,
      m: {
        changes: load.updates, seconds: load.seconds, rowsPerSec: load.rate, verified: v.verified, note: v.note ?? peakNote, load1: l, cpu, peakRssMb,
        lag: {
          targetRate: opts.lagRate, achievedRate: load.rate, slowestSecond: inner.length ? Math.min(...inner) : load.rate,
          keptRate: load.rate >= 0.98 * opts.lagRate, samples: lag.length, unseen: samples.unseen,
          p50Ms: ms(percentile(lag, 50)), p90Ms: ms(percentile(lag, 90)), p99Ms: ms(percentile(lag, 99)), maxMs: ms(lag.length ? Math.max(...lag) : undefined),
          timeline: samples.timeline,
        },
      },
    };
  } catch (e) {
    return { seq, m: { changes: 0, seconds: 0, rowsPerSec: 0, verified: 'failed', note: errMsg(e), load1: l } };
  }
}

/** One transaction updating `burstRows` rows; ferry's peak RSS and time from its commit until target == source. */
export async function burst(ctx: PhaseContext, f: FerryCdcProcess, seq: number): Promise<Measured> {
  const { opts, path, log } = ctx;
  const c = await connect(path.source.url);
  const l = load1();
  try {
    const peakNote = f.resetPeak() ? undefined : 'peak RSS over the process life (clear_refs refused)';
    const tx0 = performance.now();
    await c.query(`UPDATE ${path.source.table} SET k = k + 1 WHERE id <= ${opts.burstRows}`);
    const committed = performance.now();
    log(`${path.label}: burst committed on the source in ${((committed - tx0) / 1000).toFixed(1)} s`);
    const m = await meter(path, () => f);
    await bumpMarker(c, path.source.marker, seq);
    const seen = await waitForMarker(path.ferryTarget.url, path.ferryTarget.marker, seq, { timeoutMs: opts.timeout * 1000, healthy: () => f.assertRunning() });
    const cpu = await m();
    const peakRssMb = f.peakRssMb();
    const expected = await checksum(path.source.url, path.source.table);
    const v = await settle(path.ferryTarget, expected, seen);
    const seconds = (v.at - committed) / 1000;
    return { changes: opts.burstRows, seconds, rowsPerSec: Math.round(opts.burstRows / seconds), verified: v.verified, note: v.note ?? peakNote, load1: l, cpu, peakRssMb };
  } catch (e) {
    return { changes: opts.burstRows, seconds: 0, rowsPerSec: 0, verified: 'failed', note: errMsg(e), load1: l };
  } finally {
    await c.close();
  }
}
