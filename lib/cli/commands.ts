import { FerryError } from '../core/errors.ts';
import { loadTaskConfig } from '../config/load.ts';
import { deadlineSignal } from '../core/signal.ts';
import { ensurePlan, loadPlan } from '../plan/planner.ts';
import { readTaskStatus } from '../task/status.ts';
import { resolveTaskShare, runTaskShare } from '../task/task-share.ts';
import { runChunk } from '../task/chunk-runner.ts';
import { runWorker } from '../task/chunk-worker.ts';
import { TaskResources } from '../task/resources.ts';
import { runCdc } from '../task/cdc-task.ts';
import { runSnapshotAndCdc } from '../task/handover.ts';
import { forgetTask, runSnapshot, type SnapshotSummary } from '../task/snapshot-task.ts';
import { logProgress, ttyProgress } from '../task/progress.ts';
import { openContext, stopOnSignals, type CommonFlags } from './context.ts';
import { structCommand } from './struct-command.ts';

const out = (s: string): void => {
  process.stdout.write(s + '\n');
};

/** `ferry run <config>`: the whole task on this machine. Returns the process exit code. */
export async function runCommand(configPath: string, flags: CommonFlags & { init?: boolean; json?: boolean; snapshotAndCdc?: boolean; waitLease?: string }): Promise<number> {
  if (!flags.snapshotAndCdc && (await peekExtractType(configPath)) === 'struct') return structCommand(configPath, flags);
  const ctx = await openContext(configPath, flags);
  const stop = stopOnSignals(ctx.logger);
  try {
    const kind = flags.snapshotAndCdc ? 'snapshot_and_cdc' : ctx.cfg.extractor.extractType;
    const progress = ctx.interactive ? ttyProgress() : logProgress(ctx.logger);
    const leaseWaitMs = flags.waitLease ? Number(flags.waitLease) * 1000 : 0;
    const leaseTtlMs = leaseTtlFromEnv();
    if (kind === 'snapshot') {
      const summary = await runSnapshot(ctx.cfg, { store: ctx.store, logger: ctx.logger, init: flags.init, signal: stop.signal, progress });
      return finishSnapshot(summary, flags.json);
    }
    if (kind === 'cdc') {
      if (flags.init) await forgetTask(ctx.store, ctx.cfg.taskId, stop.signal);
      const cdc = await runCdc(ctx.cfg, { store: ctx.store, logger: ctx.logger, signal: stop.signal, leaseWaitMs, leaseTtlMs });
      out(flags.json ? JSON.stringify(cdc) : `task ${cdc.taskId}: cdc stopped (${cdc.stoppedBy}) after ${cdc.transactions} transactions, ${cdc.changes} changes`);
      return cdc.stoppedBy === 'lease-lost' ? 1 : 0;
    }
    if (kind === 'snapshot_and_cdc') {
      const r = await runSnapshotAndCdc(ctx.cfg, { store: ctx.store, logger: ctx.logger, signal: stop.signal, init: flags.init, progress, leaseWaitMs, leaseTtlMs });
      const code = finishSnapshot(r.snapshot, flags.json);
      if (!r.cdc) return code;
      out(flags.json ? JSON.stringify(r.cdc) : `task ${r.cdc.taskId}: cdc stopped (${r.cdc.stoppedBy}) after ${r.cdc.transactions} transactions, ${r.cdc.changes} changes`);
      return r.cdc.stoppedBy === 'lease-lost' ? 1 : 0;
    }
    throw new FerryError('CF001', `extractor.extract_type: "${kind}" is not supported by this ferry version yet (supported: snapshot, cdc, snapshot_and_cdc, struct)`, {
      details: { key: 'extractor.extract_type' },
    });
  } finally {
    await ctx.store.close();
  }
}

/** The task's extract_type, read before the run context is opened (a struct task has its own command). */
async function peekExtractType(configPath: string): Promise<string> {
  return (await loadTaskConfig(configPath)).config.extractor.extractType;
}

/**
 * CDC lease time-to-live: FERRY_LEASE_TTL_SECS (default 30). A worker that dies without releasing its lease
 * blocks a replacement for at most this long; renewals happen every ttl/3.
 */
export function leaseTtlFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const secs = Number(env.FERRY_LEASE_TTL_SECS ?? 30);
  return (Number.isFinite(secs) && secs >= 1 ? secs : 30) * 1000;
}

function finishSnapshot(summary: SnapshotSummary, json?: boolean): number {
  printSummary(summary, json);
  if (summary.status === 'failed') {
    const first = summary.errors[0];
    process.stderr.write(`${first.code} ${first.message}\n`);
    return first.code.startsWith('CF') ? 2 : 1;
  }
  return summary.status === 'done' ? 0 : 130;
}

export function printSummary(s: SnapshotSummary, json?: boolean): void {
  if (json) return out(JSON.stringify(s));
  out(`task ${s.taskId}: ${s.status}`);
  out(`  tables ${s.tables}  chunks ${s.chunksDone}/${s.chunks}  rows ${s.rows}  seconds ${s.seconds}  rows/s ${s.rowsPerSec}  errors ${s.errors.length}`);
  for (const e of s.errors) out(`  error ${e.code} chunk ${e.chunkId} (${e.table}): ${e.message}`);
}

/** `ferry plan <config>`: discover and store the plan; prints the chunk ids as JSON (what the fan-out gets). */
export async function planCommand(configPath: string, flags: CommonFlags & { init?: boolean }): Promise<number> {
  const ctx = await openContext(configPath, { ...flags, progress: false });
  const resources = new TaskResources(ctx.cfg, ctx.logger);
  try {
    const signal = new AbortController().signal;
    if (flags.init) await forgetTask(ctx.store, ctx.cfg.taskId, signal);
    const plan = await ensurePlan(ctx.cfg, { store: ctx.store, resources, logger: ctx.logger, signal });
    out(JSON.stringify({ taskId: plan.taskId, tables: plan.tables.length, chunks: plan.chunks.map((c) => c.id) }));
    return 0;
  } finally {
    await resources.close();
    await ctx.store.close();
  }
}

/**
 * `ferry chunk <config> [chunkId]`: copy one chunk (what a chunk function does), or without a chunk id this
 * task's share of the plan (`--task-index/--task-count`, default CLOUD_RUN_TASK_INDEX/COUNT: a Cloud Run job).
 * `--deadline-ms` bounds it.
 */
export async function chunkCommand(configPath: string, chunkId: string | undefined, flags: CommonFlags & { deadlineMs?: string; taskIndex?: string; taskCount?: string }): Promise<number> {
  const share = chunkId === undefined ? resolveTaskShare(flags) : undefined;
  const ctx = await openContext(configPath, { ...flags, progress: false });
  const resources = new TaskResources(ctx.cfg, ctx.logger);
  const stop = stopOnSignals(ctx.logger);
  try {
    const signal = flags.deadlineMs ? deadlineSignal(Date.now() + Number(flags.deadlineMs), 0, stop.signal) : stop.signal;
    if (share) {
      const r = await runTaskShare(ctx.cfg, share, { store: ctx.store, logger: ctx.logger, signal });
      out(JSON.stringify(r));
      return r.partial > 0 || r.done + r.skipped < r.chunks ? 130 : 0;
    }
    const plan = await loadPlan(ctx.store, ctx.cfg.taskId, signal);
    const r = await runChunk({ cfg: ctx.cfg, store: ctx.store, resources, logger: ctx.logger }, plan, chunkId!, { signal });
    out(JSON.stringify(r));
    return 0;
  } finally {
    await resources.close();
    await ctx.store.close();
  }
}

/**
 * `ferry worker <config>`: one of any number of processes (machines, containers) sharing a DynamoDB or S3
 * checkpoint store; claims chunks of the stored plan until every chunk is done. Exit 0 when all are done,
 * 130 when stopped by a signal (its chunk's progress saved, its claim released).
 */
export async function workerCommand(configPath: string, flags: CommonFlags & { slots?: string; claimTtl?: string; json?: boolean }): Promise<number> {
  const ctx = await openContext(configPath, { ...flags, progress: false });
  const stop = stopOnSignals(ctx.logger);
  try {
    if (ctx.store.kind === 'file') ctx.logger.warn('ferry worker with the file store: only processes on this host share it; use dynamodb or s3 across machines');
    const slots = flags.slots === undefined ? 1 : Number(flags.slots);
    if (!Number.isInteger(slots) || slots < 1) throw new FerryError('CF001', `--slots: expected a positive integer, got ${JSON.stringify(flags.slots)}`);
    const claimTtlMs = flags.claimTtl === undefined ? leaseTtlFromEnv() : Number(flags.claimTtl) * 1000;
    if (!Number.isFinite(claimTtlMs) || claimTtlMs < 1000) throw new FerryError('CF001', `--claim-ttl: expected at least 1 second, got ${JSON.stringify(flags.claimTtl)}`);
    const r = await runWorker(ctx.cfg, { store: ctx.store, logger: ctx.logger, signal: stop.signal, slots, claimTtlMs });
    out(flags.json ? JSON.stringify(r) : `task ${r.taskId}: worker ${r.worker} ${r.status}: ran ${r.chunksRun} chunks, ${r.rows} rows, lost ${r.claimsLost} claims`);
    return r.status === 'done' ? 0 : 130;
  } finally {
    await ctx.store.close();
  }
}

/** `ferry status <config>`: plan and chunk progress from the checkpoint store. */
export async function statusCommand(configPath: string, flags: CommonFlags & { json?: boolean }): Promise<number> {
  const ctx = await openContext(configPath, { ...flags, progress: false });
  try {
    const st = await readTaskStatus(ctx.store, ctx.cfg.taskId, new AbortController().signal);
    const { cdc: cdcStatus, ...snapshot } = st;
    if (flags.json) {
      out(JSON.stringify(st));
      return 0;
    }
    out(snapshot.planned
      ? `task ${ctx.cfg.taskId}: ${snapshot.chunksDone}/${snapshot.chunks} chunks done, ${snapshot.rowsDone} rows, ${snapshot.tables} tables`
      : `task ${ctx.cfg.taskId}: not planned`);
    if (cdcStatus) out(`  cdc position ${JSON.stringify(cdcStatus.position)} committed ${cdcStatus.committedAt}${cdcStatus.lagSeconds !== undefined ? `, lag ${cdcStatus.lagSeconds} s` : ''}`);
    return 0;
  } finally {
    await ctx.store.close();
  }
}
