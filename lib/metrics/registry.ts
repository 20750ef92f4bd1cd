import { Counter, Gauge, Registry } from 'prom-client';

/**
 * ferry's Prometheus metrics, in one registry of its own (never the global default, so tests and several
 * tasks in one process do not collide). Labels: task id; CDC metrics also the apply mode.
 */
export const registry = new Registry();

export const cdcLagSeconds = new Gauge({
  name: 'ferry_cdc_lag_seconds',
  help: 'Now minus the source commit time of the last change applied to the target',
  labelNames: ['task'],
  registers: [registry],
});

export const cdcAppliedChanges = new Counter({
  name: 'ferry_cdc_applied_changes_total',
  help: 'Row changes applied to the target (after filtering)',
  labelNames: ['task'],
  registers: [registry],
});

export const cdcTransactions = new Counter({
  name: 'ferry_cdc_transactions_total',
  help: 'Source transactions whose changes are durable in the target',
  labelNames: ['task'],
  registers: [registry],
});

export const snapshotRows = new Counter({
  name: 'ferry_snapshot_rows_total',
  help: 'Rows written by snapshot chunks',
  labelNames: ['task'],
  registers: [registry],
});
