/**
 * `npm run demo`: start throwaway MariaDB + PostgreSQL (npm run services), load a sample shop into MariaDB,
 * migrate it to PostgreSQL as an ape-dts user does -- structure (schema, tables, keys), snapshot, then CDC from
 * the position recorded before it while the shop keeps taking orders, then the secondary indexes -- verify every
 * row, print the report.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTaskConfig } from '../lib/config/load.ts';
import { createLogger } from '../lib/core/logger.ts';
import { createCheckpointStore } from '../lib/checkpoint/create-store.ts';
import { runSnapshotAndCdc } from '../lib/task/handover.ts';
import { runStruct } from '../lib/struct/struct-task.ts';
import type { TaskConfig } from '../lib/config/types.ts';
import type { Logger } from '../lib/core/logger.ts';
import { buildPlan } from '../lib/plan/planner.ts';
import { TaskResources } from '../lib/task/resources.ts';
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
  await execSql(pgUrl, 'DROP SCHEMA IF EXISTS ferry_demo_shop CASCADE');

  const work = mkdtempSync(join(tmpdir(), 'ferry-demo-'));
  const { config } = await loadTaskConfig(join(here, 'task_config.ini'), { env: { ...process.env, FERRY_DEMO_MYSQL_URL: mysqlUrl, FERRY_DEMO_PG_URL: pgUrl } });
  config.checkpoint = { ...config.checkpoint, store: 'file', dir: join(work, 'checkpoint') };
  const logger = createLogger({ level: 'warn', destination: join(work, 'ferry.log') });
  const before = await structure(config, 'database,table', logger);
  say(`ferry demo: 3/4 structure (${before}), then snapshot + CDC MariaDB -> PostgreSQL with ${join(here, 'task_config.ini')}, while the shop keeps writing`);
  const store = await createCheckpointStore(config.checkpoint, { logger });
  const stop = new AbortController();
  try {
    const running = runSnapshotAndCdc(config, { store, logger, signal: stop.signal, init: true, progress: process.stderr.isTTY ? ttyProgress() : logProgress(logger) });
    let failed: unknown;
    running.catch((e) => (failed = e));
    const writes = await shopActivity(mysqlUrl, 8000, () => Boolean(failed));
    const lastWrite = Date.now();
    if (failed) throw failed;

    say('ferry demo: 4/4 waiting for CDC to catch up, then verifying every row, source vs target');
    const resources = new TaskResources(config, logger);
    const plan = await buildPlan(config, { store, resources, logger, signal: stop.signal }).finally(() => resources.close());
    let report = await verifyPlan(config, plan, logger);
    for (let i = 0; !report.ok && i < 120 && !failed; i++) {
      await new Promise((r) => setTimeout(r, 500));
      report = await verifyPlan(config, plan, logger);
    }
    const caughtUp = ((Date.now() - lastWrite) / 1000).toFixed(1);
    stop.abort();
    const result = await running;
    const after = await structure(config, 'constraint,index', logger);
    printSummary(result.snapshot);
    say(`  structure: ${before}; after the data: ${after}`);
    say(`  cdc: ${result.cdc?.transactions ?? 0} transactions, ${result.cdc?.changes ?? 0} row changes applied (${writes} shop transactions written during the run); target equal ${caughtUp} s after the last write`);
    for (const t of report.tables) {
      const bad = t.missing.length + t.extra.length + t.different.length;
      say(`  ${t.table.padEnd(28)} -> ${t.target.padEnd(28)} source ${String(t.sourceRows).padStart(7)}  target ${String(t.targetRows).padStart(7)}  ${bad ? `DIFF (${bad})` : 'equal'}`);
    }
    say(report.ok ? 'ferry demo: OK, target equals source' : 'ferry demo: FAILED, see differences above');
    say(`(checkpoints and log in ${work}; stop the servers with: npm run services -- down)`);
    return report.ok ? 0 : 1;
  } finally {
    stop.abort();
    await store.close();
  }
}

/**
 * The same task as a struct task (extract_type=struct, sink_type=struct) for the given `do_structures` phases,
 * as ape-dts runs structure before and after the data. Returns a one-line account for the report.
 */
async function structure(cfg: TaskConfig, phases: string, logger: Logger): Promise<string> {
  const struct: TaskConfig = {
    ...cfg,
    extractor: { ...cfg.extractor, extractType: 'struct' },
    sinker: { ...cfg.sinker, sinkType: 'struct' },
    filter: { ...cfg.filter, doStructures: phases.split(',') },
  };
  const s = await runStruct(struct, { logger });
  if (s.status !== 'done') throw new Error(`structure ${phases} failed: ${s.failed.map((f) => `${f.object}: ${f.message}`).join('; ')}`);
  return `${s.executed} DDL statements (${phases}), ${s.flags.length} flagged conversions`;
}

/** The shop keeps working during the migration: new orders, price changes, cancellations, for `ms`. */
async function shopActivity(url: string, ms: number, failed: () => boolean): Promise<number> {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end && !failed()) {
    n++;
    await execSql(url, `USE ferry_demo_shop;
      START TRANSACTION;
      INSERT INTO orders (id, customer_id, sku, qty, amount, note) VALUES (${1_000_000 + n}, ${1 + (n % 20000)}, 'SKU-${String(1 + (n % 2000)).padStart(6, '0')}', 1, 9.99, 'live order ${n} 🛒');
      UPDATE products SET price = price + 0.01 WHERE sku = 'SKU-${String(1 + ((n * 7) % 2000)).padStart(6, '0')}';
      COMMIT;
      DELETE FROM orders WHERE id = ${n * 13};
      UPDATE customers SET vip = NOT vip WHERE id = ${1 + ((n * 31) % 20000)};`);
  }
  return n;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`ferry demo failed: ${e?.code ? `${e.code} ` : ''}${e?.message ?? e}\n`);
    process.exit(1);
  },
);
