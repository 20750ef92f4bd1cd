import type { Registry } from 'prom-client';

/**
 * ferry's Prometheus metrics. Values are kept here, per label set, as they happen; prom-client (about 16 ms of
 * start-up with its OpenTelemetry import) loads only when a registry is asked for (`metricsRegistry`, the CDC
 * task's /metrics endpoint), so a snapshot or a Lambda chunk that exports nothing never pays for it.
 *
 * Invariant: a registry always reports the current values, whenever it was created (its metrics collect from
 * here on each scrape); ferry's registry is its own, never prom-client's global default, so tests and several
 * tasks in one process do not collide. Labels: task id.
 */
/** A metric's labels: label name -> value. */
export type Labels = Record<string, string>;

/** One metric's values per label set, kept in process until a registry collects them (see the module note). */
export class Series {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
    readonly labelNames: readonly string[],
  ) {}

  /** Counter: adds `n` (>= 0) to the labels' value. */
  inc(labels: Labels, n = 1): void {
    if (!(n >= 0)) throw new RangeError(`${this.name}: a counter only goes up (got ${n})`);
    this.slot(labels).value += n;
  }

  /** Gauge: sets the labels' value. */
  set(labels: Labels, v: number): void {
    this.slot(labels).value = v;
  }

  /** The values, one per label set seen (prom-client's `get()` shape). */
  async get(): Promise<{ name: string; type: string; values: Array<{ labels: Labels; value: number }> }> {
    return { name: this.name, type: this.type, values: [...this.values.values()].map((v) => ({ labels: { ...v.labels }, value: v.value })) };
  }

  private slot(labels: Labels): { labels: Labels; value: number } {
    const key = this.labelNames.map((l) => labels[l] ?? '').join('\u0000');
    let s = this.values.get(key);
    if (!s) this.values.set(key, (s = { labels: { ...labels }, value: 0 }));
    return s;
  }
}

export const cdcLagSeconds = new Series('ferry_cdc_lag_seconds', 'Now minus the source commit time of the last change applied to the target', 'gauge', ['task']);
export const cdcAppliedChanges = new Series('ferry_cdc_applied_changes_total', 'Row changes applied to the target (after filtering)', 'counter', ['task']);
export const cdcTransactions = new Series('ferry_cdc_transactions_total', 'Source transactions whose changes are durable in the target', 'counter', ['task']);
export const snapshotRows = new Series('ferry_snapshot_rows_total', 'Rows written by snapshot chunks', 'counter', ['task']);

const ALL = [cdcLagSeconds, cdcAppliedChanges, cdcTransactions, snapshotRows];

let registry: Promise<Registry> | undefined;

/** The Prometheus registry of ferry's metrics (prom-client loaded on the first call; one registry per process). */
export function metricsRegistry(): Promise<Registry> {
  return (registry ??= (async () => {
    const { Counter, Gauge, Registry: PromRegistry } = await import('prom-client');
    const r = new PromRegistry();
    for (const s of ALL) {
      // Each scrape copies the current values: reset, then add each label set's value (a counter only goes up;
      // after a reset, a gauge's `inc` by its value sets it).
      const Metric = s.type === 'counter' ? Counter : Gauge;
      new Metric({
        name: s.name,
        help: s.help,
        labelNames: [...s.labelNames],
        registers: [r],
        async collect(this: { reset(): void; inc(labels: Labels, n: number): void }) {
          this.reset();
          for (const v of (await s.get()).values) this.inc(v.labels, v.value);
        },
      });
    }
    return r;
  })());
}
