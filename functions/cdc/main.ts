/**
 * The CDC container entry (ECS/Fargate task, Cloud Run service/worker pool, or `node dist/cdc.mjs`).
 * Config: FERRY_CONFIG (a task_config.ini / .toml / .json path) or FERRY_CONFIG_JSON (the sections as JSON).
 * FERRY_SNAPSHOT_FIRST=1 runs the snapshot->CDC handover; FERRY_METRICS_PORT serves Prometheus metrics.
 * SIGTERM/SIGINT: stop reading, apply complete transactions, commit the position, release the lease, exit 0
 * (well within the 30 s ECS/Cloud Run grace period). A lost lease exits 1; a config error exits 2.
 */
import { createServer } from 'node:http';
import { FerryError, asFerryError } from '../../lib/core/errors.ts';
import { createLogger, type LogLevel } from '../../lib/core/logger.ts';
import { loadTaskConfig } from '../../lib/config/load.ts';
import { createCheckpointStore } from '../../lib/checkpoint/create-store.ts';
import { metricsRegistry } from '../../lib/metrics/registry.ts';
import { runCdc } from '../../lib/task/cdc-task.ts';
import { runSnapshotAndCdc } from '../../lib/task/handover.ts';
import { leaseTtlFromEnv } from '../../lib/cli/commands.ts';
import { cdcEnvSchema, parseEvent } from '../../lib/task/function-input.ts';

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const logger = createLogger({ level: (env.FERRY_LOG_LEVEL as LogLevel) ?? 'info' }).child({ stage: 'cdc-main' });
  const stop = new AbortController();
  const onSignal = (sig: string) => {
    logger.info('signal received: draining', { signal: sig });
    stop.abort(new Error(sig));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  let server: ReturnType<typeof createServer> | undefined;
  try {
    if (!env.FERRY_CONFIG && !env.FERRY_CONFIG_JSON) throw new FerryError('CF002', 'FERRY_CONFIG: expected a task config path (or FERRY_CONFIG_JSON), got nothing');
    const vars = parseEvent(cdcEnvSchema, env, 'cdc environment');
    const input = vars.FERRY_CONFIG_JSON ? (JSON.parse(vars.FERRY_CONFIG_JSON) as Record<string, unknown>) : vars.FERRY_CONFIG!;
    const { config, warnings } = await loadTaskConfig(input, { env });
    for (const w of warnings) logger.warn(w, { kind: 'config' });
    if (env.FERRY_METRICS_PORT) {
      server = createServer(async (_req, res) => {
        const registry = await metricsRegistry();
        res.setHeader('content-type', registry.contentType);
        res.end(await registry.metrics());
      }).listen(Number(env.FERRY_METRICS_PORT));
    }
    const store = await createCheckpointStore(config.checkpoint, { logger });
    try {
      const leaseWaitMs = Number(env.FERRY_LEASE_WAIT_SECS ?? 0) * 1000;
      if (env.FERRY_SNAPSHOT_FIRST === '1' || config.extractor.extractType === 'snapshot_and_cdc') {
        const r = await runSnapshotAndCdc(config, { store, logger, signal: stop.signal, leaseWaitMs, leaseTtlMs: leaseTtlFromEnv(env) });
        return r.snapshot.status === 'failed' ? 1 : r.cdc?.stoppedBy === 'lease-lost' ? 1 : 0;
      }
      const r = await runCdc(config, { store, logger, signal: stop.signal, leaseWaitMs, leaseTtlMs: leaseTtlFromEnv(env) });
      logger.info('cdc stopped', { ...r, position: r.position?.data });
      return r.stoppedBy === 'lease-lost' ? 1 : 0;
    } finally {
      await store.close();
    }
  } catch (e) {
    const fe = asFerryError(e);
    logger.error(fe.message, { code: fe.code });
    process.stderr.write(fe.toLine() + '\n');
    return fe.exitCode;
  } finally {
    server?.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then((code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 500).unref();
  });
}
