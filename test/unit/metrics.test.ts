import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cdcLagSeconds, metricsRegistry, snapshotRows } from '../../lib/metrics/registry.ts';

test('metrics: values recorded before and after the registry is created are both scraped, per task', async () => {
  snapshotRows.inc({ task: 'metrics_a' }, 5);
  const registry = await metricsRegistry();
  assert.equal(await metricsRegistry(), registry, 'one registry per process');
  snapshotRows.inc({ task: 'metrics_a' }, 2);
  snapshotRows.inc({ task: 'metrics_b' });
  cdcLagSeconds.set({ task: 'metrics_a' }, 3.5);
  cdcLagSeconds.set({ task: 'metrics_a' }, 1.25);
  const text = await registry.metrics();
  assert.match(text, /^# TYPE ferry_snapshot_rows_total counter$/m);
  assert.match(text, /^ferry_snapshot_rows_total\{task="metrics_a"\} 7$/m);
  assert.match(text, /^ferry_snapshot_rows_total\{task="metrics_b"\} 1$/m);
  assert.match(text, /^# TYPE ferry_cdc_lag_seconds gauge$/m);
  assert.match(text, /^ferry_cdc_lag_seconds\{task="metrics_a"\} 1.25$/m);
  // A second scrape reports the same totals (collect resets before copying, it does not add twice).
  assert.match(await registry.metrics(), /^ferry_snapshot_rows_total\{task="metrics_a"\} 7$/m);
  assert.deepEqual((await snapshotRows.get()).values.find((v) => v.labels.task === 'metrics_a'), { labels: { task: 'metrics_a' }, value: 7 });
});

test('metrics: a counter refuses to go down', () => {
  assert.throws(() => snapshotRows.inc({ task: 'metrics_c' }, -1), /only goes up/);
});
