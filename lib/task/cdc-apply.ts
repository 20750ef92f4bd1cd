import type { ChangeApplier, TargetChange, Logger } from '../core/index.ts';
import { retry } from '../core/signal.ts';
import type { TaskConfig } from '../config/types.ts';
import { mergeChanges } from '../parallel/merge.ts';
import { keyLanes, serialLanes, tableLanes, type LanePlanner } from '../parallel/lanes.ts';

/** The apply modes of ape-dts's `[parallelizer] parallel_type` for CDC. */
export type ApplyMode = 'serial' | 'rdb_merge' | 'rdb_partition' | 'table';

export function applyModeOf(cfg: TaskConfig): ApplyMode {
  const t = cfg.parallelizer.parallelType;
  return t === 'rdb_merge' || t === 'rdb_partition' || t === 'table' ? t : 'serial';
}

/**
 * Applies one batch of complete source transactions with the task's apply mode, using one applier
 * (connection) per lane; resolves when every lane's target transaction has committed.
 * Invariant: the target afterwards equals applying the batch serially; `serial` additionally never exposes
 * part of a batch (one target transaction).
 * - serial: one lane, source order.
 * - rdb_merge: changes folded to one per key (lib/parallel/merge.ts), spread over lanes by key; falls back
 *   to serial for keyless tables, NULL keys and partial rows whose key changed.
 * - rdb_partition: by key without folding; falls back to serial when a key changes in the batch.
 * - table: by table, order kept per table.
 */
export class BatchApplier {
  constructor(
    private readonly appliers: ChangeApplier[],
    private readonly mode: ApplyMode,
    private readonly logger: Logger,
  ) {}

  async apply(changes: TargetChange[], signal: AbortSignal): Promise<void> {
    if (!changes.length) return;
    const lanes = this.plan(changes);
    await Promise.all(
      lanes.map((lane, i) =>
        retry(() => this.appliers[i % this.appliers.length].apply(lane, signal), {
          attempts: 4,
          baseMs: 200,
          maxMs: 3000,
          signal,
          onRetry: (e, attempt) => this.logger.warn('apply retry', { attempt, error: (e as Error).message }),
        }),
      ),
    );
  }

  /** Applies in source order in one transaction (giant transactions, DDL boundaries). */
  async applyOrdered(changes: TargetChange[], signal: AbortSignal): Promise<void> {
    if (changes.length) await this.appliers[0].apply(changes, signal);
  }

  /** TRUNCATE through the first applier; false when the sinker cannot. */
  async truncate(table: { db: string; tb: string }, signal: AbortSignal): Promise<boolean> {
    const a = this.appliers[0];
    if (!a.truncate) return false;
    await a.truncate(table, signal);
    return true;
  }

  /** DDL through the first applier; false when the sinker cannot apply DDL. */
  async ddl(ddl: { db: string; sql: string }, signal: AbortSignal): Promise<boolean> {
    const a = this.appliers[0];
    if (!a.applyDdl) return false;
    await a.applyDdl(ddl, signal);
    return true;
  }

  private plan(changes: TargetChange[]): TargetChange[][] {
    const n = this.appliers.length;
    const planner: LanePlanner = this.mode === 'table' ? tableLanes : this.mode === 'serial' ? serialLanes : keyLanes;
    if (this.mode === 'rdb_merge') {
      const merged = mergeChanges(changes);
      return merged ? planner(merged, n) : serialLanes(changes, 1);
    }
    if (this.mode === 'rdb_partition' && !partitionSafe(changes)) return serialLanes(changes, 1);
    return planner(changes, n);
  }
}

/** Key lanes without merging are safe when no change moves a row to another key and every table has a key. */
function partitionSafe(changes: TargetChange[]): boolean {
  return changes.every((c) => {
    if (!c.target.keyColumns.length) return false;
    if (c.op !== 'update' || !c.beforeKey || !c.after) return true;
    return c.target.keyColumns.every((k) => c.after![k] === undefined || String(c.after![k]) === String(c.beforeKey![k]));
  });
}
