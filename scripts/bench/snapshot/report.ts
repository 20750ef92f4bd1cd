import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The memory goal for every ferry run: flat and small whatever the table size. */
export const RSS_GOAL_MB = 300;

/** One timed copy (a ferry run or a peer run) of one path. */
export interface ResultRow {
  path: string;
  tool: string;
  /** ferry knobs, when tool = ferry. */
  config?: { parallel: number; batch: number; chunkRows: number; buffer?: number; set?: string[]; struct?: 'three' | 'one' };
  rows: number;
  seconds: number;
  rowsPerSec: number;
  /** ferry only: rows/s over the peer's rows/s on the same path. */
  ratio?: number;
  goalRatio?: number;
  peakRssMb?: number;
  /** RSS samples (seconds, MB), thinned to at most 40 points. */
  rssTimeline?: Array<[number, number]>;
  /** ferry's own summary seconds (excludes process start and module loading). */
  ferrySeconds?: number;
  /** CPU seconds of the copy tool (all its processes) and of both database servers during the run. */
  cpu?: { tool?: number; servers?: number };
  /** Seconds of every run when repeated (`seconds` is their median). */
  runSeconds?: number[];
  /** 1-minute load average when the (median) run started: the box may be shared. */
  load1?: number;
  verified: 'ok' | 'MISMATCH' | 'failed' | 'skipped';
  note?: string;
}

const fmt = (n: number | undefined, d = 0) => (n === undefined ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));

/** "met"/"MISSED" for each goal of a ferry row; peers have none. */
export function goals(r: ResultRow): string {
  if (r.tool !== 'ferry' || r.verified !== 'ok') return r.tool === 'ferry' ? 'not measured' : '';
  const out: string[] = [];
  if (r.ratio !== undefined && r.goalRatio !== undefined) out.push(`speed >=${r.goalRatio.toFixed(1)}x ${r.ratio >= r.goalRatio ? 'met' : 'MISSED'}`);
  if (r.peakRssMb !== undefined) out.push(`rss <${RSS_GOAL_MB}MB ${r.peakRssMb < RSS_GOAL_MB ? 'met' : 'MISSED'}`);
  return out.join(', ');
}

const toolLabel = (r: ResultRow) =>
  r.config ? `ferry p${r.config.parallel} b${r.config.batch} c${r.config.chunkRows}${r.config.buffer ? ` q${r.config.buffer}` : ''}${r.config.set ? ` ${r.config.set.join(' ')}` : ''}${r.config.struct ? (r.config.struct === 'one' ? ' +struct 1 cmd' : ' +struct') : ''}` : r.tool;

const cpuCell = (r: ResultRow): string =>
  r.cpu?.tool === undefined ? '' : `${r.cpu.tool.toFixed(1)}+${r.cpu.servers === undefined ? '?' : r.cpu.servers.toFixed(1)}`;

export function formatTable(rows: ResultRow[]): string {
  const head = ['path', 'tool', 'rows', 'seconds', 'rows/s', 'ferry/peer', 'peak RSS MB', 'CPU s tool+db', 'verified', 'goals'];
  const ran = (r: ResultRow) => r.verified !== 'skipped';
  const body = rows.map((r) => [
    r.path, toolLabel(r), fmt(r.rows), ran(r) ? fmt(r.seconds, 1) : '-', ran(r) ? fmt(r.rowsPerSec) : '-', r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`,
    r.peakRssMb === undefined ? '' : fmt(r.peakRssMb), cpuCell(r), r.verified + (r.note ? ` (${r.note})` : ''), goals(r),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const right = new Set([2, 3, 4, 5, 6, 7]);
  const line = (cells: string[]) => cells.map((c, i) => (right.has(i) ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...body.map(line)].join('\n');
}

/** Keeps the first and last sample and evenly spaced ones between: enough to see a trend in the JSON. */
export function thin<T>(xs: T[], max = 40): T[] {
  if (xs.length <= max) return xs;
  const step = (xs.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => xs[Math.round(i * step)]);
}

/** Writes scripts/bench/results/snapshot-<timestamp>.json (git-ignored; docs/benchmarks.md holds the summary). */
export function saveResults(dir: string, doc: unknown): string {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\..*$/, '');
  const file = join(dir, `snapshot-${stamp}.json`);
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  return file;
}
