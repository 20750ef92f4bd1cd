import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RSS_GOAL_MB } from '../snapshot/report.ts';

/** Goals of the CDC bench (docs/benchmarks.md): misses are reported, never an exit code. */
export const CDC_GOALS = { ratio: 1.0, lagP99Ms: 1000, rssMb: RSS_GOAL_MB } as const;

export type Phase = 'apply' | 'lag' | 'burst';

/** One measured phase of one tool on one path. */
export interface CdcResultRow {
  path: string;
  phase: Phase;
  /** What the phase did, e.g. "200,000 single-row updates". */
  workload: string;
  tool: string;
  config?: { parallelType: string; parallel: number; batch: number; set?: string[]; nodeFlags?: string[] };
  /** Source changes (rows) the phase replicated. */
  changes: number;
  /** apply/burst: from starting the tool (spawn, ENABLE, START SLAVE) or the burst's commit to target == source; lag: the load's duration. */
  seconds: number;
  rowsPerSec: number;
  /** apply with --repeat: seconds of every round (`seconds` is their median). */
  runSeconds?: number[];
  /** ferry apply: seconds from spawn until it streamed (process start, config, connections, slot). */
  startupSeconds?: number;
  /** ferry apply: changes / (seconds - startupSeconds). */
  rowsPerSecStreaming?: number;
  /** ferry apply: rows/s over the native replication's on the same backlog. */
  ratio?: number;
  lag?: {
    targetRate: number;
    achievedRate: number;
    /** Slowest whole second of the load (first and last excluded), updates. */
    slowestSecond: number;
    keptRate: boolean;
    samples: number;
    unseen: number;
    p50Ms?: number;
    p90Ms?: number;
    p99Ms?: number;
    maxMs?: number;
    /** Every sample: [seconds into the load, lag ms]. */
    timeline?: Array<[number, number]>;
  };
  peakRssMb?: number;
  /**
   * CPU seconds during the phase: ferry's process, the source server's stream reader (walsender / binlog dump
   * thread), the target server's apply work; and how busy the whole (shared) machine was, in %.
   */
  cpu?: { tool?: number; source?: number; target?: number; boxBusyPct?: number };
  load1?: number;
  verified: 'ok' | 'MISMATCH' | 'failed' | 'skipped';
  note?: string;
}

const fmt = (n: number | undefined, d = 0) => (n === undefined ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));

/** "met"/"MISSED" for each goal of a ferry row; native rows have none. */
export function goals(r: CdcResultRow): string {
  if (!r.tool.startsWith('ferry')) return '';
  if (r.verified !== 'ok') return 'not measured';
  const out: string[] = [];
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  if (r.phase === 'apply' && r.ratio !== undefined) out.push(`>=${CDC_GOALS.ratio.toFixed(1)}x ${mark(r.ratio >= CDC_GOALS.ratio)}`);
  if (r.phase === 'lag' && r.lag) {
    if (r.lag.p99Ms !== undefined) out.push(`p99<1s ${mark(r.lag.p99Ms < CDC_GOALS.lagP99Ms && r.lag.unseen === 0)}`);
    out.push(`source rate ${r.lag.keptRate ? 'kept' : 'NOT kept'}`);
  }
  if (r.phase === 'burst' && r.peakRssMb !== undefined) out.push(`rss<${CDC_GOALS.rssMb}MB ${mark(r.peakRssMb < CDC_GOALS.rssMb)}`);
  return out.join(', ');
}

const cpuCell = (r: CdcResultRow): string => {
  if (!r.cpu) return '';
  const f = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(1));
  return `${f(r.cpu.tool)} / ${f(r.cpu.source)} / ${f(r.cpu.target)}`;
};
const boxCell = (r: CdcResultRow): string => (r.cpu?.boxBusyPct === undefined ? '' : `${r.cpu.boxBusyPct}%${r.load1 === undefined ? '' : ` (${r.load1.toFixed(1)})`}`);

const lagCell = (r: CdcResultRow): string => (r.lag?.p50Ms === undefined ? '' : `${fmt(r.lag.p50Ms)} / ${fmt(r.lag.p99Ms)}`);

/** A phase that ran to the end (a mismatch still has a time); failed and skipped ones have none. */
const ran = (r: CdcResultRow): boolean => r.verified === 'ok' || r.verified === 'MISMATCH';

const rateCell = (r: CdcResultRow): string => {
  const s = fmt(r.rowsPerSec);
  return r.rowsPerSecStreaming ? `${s} (${fmt(r.rowsPerSecStreaming)})` : s;
};

export function formatTable(rows: CdcResultRow[]): string {
  const head = ['path', 'phase', 'tool', 'changes', 'seconds', 'rows/s', 'ferry/native', 'lag p50/p99 ms', 'peak RSS MB', 'CPU s ferry/src/dst', 'box busy (load)', 'verified', 'goals'];
  const body = rows.map((r) => [
    r.path, r.phase, r.tool, fmt(r.changes), ran(r) ? fmt(r.seconds, 1) : '-', ran(r) ? rateCell(r) : '-', r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`,
    lagCell(r), fmt(r.peakRssMb), cpuCell(r), boxCell(r), r.verified + (r.note ? ` (${r.note})` : ''), goals(r),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const right = new Set([3, 4, 5, 6, 7, 8, 9, 10]);
  const line = (cells: string[]) => cells.map((c, i) => (right.has(i) ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...body.map(line)].join('\n');
}

/** Writes scripts/bench/results/cdc-<timestamp>.json (git-ignored; docs/benchmarks.md holds the summary). */
export function saveCdcResults(dir: string, stamp: string, doc: unknown): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `cdc-${stamp}.json`);
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  return file;
}
