/**
 * `npm run demo`: start throwaway MariaDB + PostgreSQL (npm run services), load a sample shop into MariaDB,
 * migrate it to PostgreSQL with a plain ape-dts task config, verify every row, print the report.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTaskConfig } from '../lib/config/load.ts';
import { createLogger } from '../lib/core/logger.ts';
import { createCheckpointStore } from '../lib/checkpoint/create-store.ts';
import { runSnapshot } from '../lib/task/snapshot-task.ts';
import { loadPlan } from '../lib/plan/planner.ts';
import { verifyPlan } from '../lib/check/verify.ts';
import { printSummary } from '../lib/cli/commands.ts';
import { ttyProgress, logProgress } from '../lib/task/progress.ts';
import { execSql } from '../test/support/sql.ts';

const here = new URL('./demo/', import.meta.url).pathname;
const say = (s: string) => process.stdout.write(s + '\n');

async function main(): Promise<number> {
  say('ferry demo: 1/4 starting throwaway MariaDB and PostgreSQL (npm run services -- up)');
  execFileSync('bash', [join(here, '..', 'services.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const mysqlUrl = `mysql://root@127.0.0.1:${process.env.FERRY_MYSQL_PORT ?? 53306}`;
  const pgUrl = `postgres://postgres@127.0.0.1:${process.env.FERRY_PG_PORT ?? 55432}/postgres`;

  say('ferry demo: 2/4 loading the sample shop into MariaDB (customers 20k, products 2k, orders 150k, audit_log 500)');
  await execSql(mysqlUrl, readFileSync(join(here, 'shop.sql'), 'utf8'));
  await execSql(pgUrl, readFileSync(join(here, 'shop-target.sql'), 'utf8'));

  say(`ferry demo: 3/4 snapshot MariaDB -> PostgreSQL with ${join(here, 'task_config.ini')}`);
  const work = mkdtempSync(join(tmpdir(), 'ferry-demo-'));
  const { config } = await loadTaskConfig(join(here, 'task_config.ini'), { env: { ...process.env, FERRY_DEMO_MYSQL_URL: mysqlUrl, FERRY_DEMO_PG_URL: pgUrl } });
  config.checkpoint = { ...config.checkpoint, store: 'file', dir: join(work, 'checkpoint') };
  const logger = createLogger({ level: 'warn', destination: join(work, 'ferry.log') });
  const store = await createCheckpointStore(config.checkpoint, { logger });
  try {
    const summary = await runSnapshot(config, { store, logger, init: true, progress: process.stderr.isTTY ? ttyProgress() : logProgress(logger) });
    printSummary(summary);
    if (summary.status !== 'done') return 1;

    say('ferry demo: 4/4 verifying every row, source vs target');
    const report = await verifyPlan(config, await loadPlan(store, config.taskId), logger);
    for (const t of report.tables) {
      const bad = t.missing.length + t.extra.length + t.different.length;
      say(`  ${t.table.padEnd(28)} -> ${t.target.padEnd(28)} source ${String(t.sourceRows).padStart(7)}  target ${String(t.targetRows).padStart(7)}  ${bad ? `DIFF (${bad})` : 'equal'}`);
    }
    say(report.ok ? 'ferry demo: OK, target equals source' : 'ferry demo: FAILED, see differences above');
    say(`(checkpoints and log in ${work}; stop the servers with: npm run services -- down)`);
    return report.ok ? 0 : 1;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`ferry demo failed: ${e?.code ? `${e.code} ` : ''}${e?.message ?? e}\n`);
    process.exit(1);
  },
);
