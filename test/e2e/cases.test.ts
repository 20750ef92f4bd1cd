/**
 * Data-driven end-to-end cases, ape-dts dt-tests style: every folder under test/e2e/<src>-to-<dst>/<task>/<case>/
 * holding a task_config.ini is a test. Files:
 *   src_prepare.sql   run on the source first (drop/create its own databases or schemas)
 *   dst_prepare.sql   run on the target (target tables; structure migration is its own feature)
 *   task_config.ini   the task, unchanged ape-dts syntax; ${FERRY_TEST_MYSQL_URL} / ${FERRY_TEST_PG_URL} are set
 *   src_test.sql      CDC cases (extract_type=cdc or snapshot_and_cdc): run on the source once CDC has recorded
 *                     its start position; the case passes when the target converges to the source
 *   expect.json       optional: {"error": "MD001", "message": "substring"} for a case that must fail,
 *                     {"rows": N} total rows expected to be copied
 * A case passes when the task ends as expected and, for successful runs, every planned table compares equal
 * source vs target (lib/check/verify.ts), and a second run copies nothing more and still compares equal.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { testUrls } from '../support/services.ts';
import { execSql, execSqlFile } from '../support/sql.ts';
import { loadTaskConfig } from '../../lib/config/load.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import { createCheckpointStore } from '../../lib/checkpoint/create-store.ts';
import { runSnapshot } from '../../lib/task/snapshot-task.ts';
import { loadPlan } from '../../lib/plan/planner.ts';
import { verifyPlan } from '../../lib/check/verify.ts';
import { buildPlan } from '../../lib/plan/planner.ts';
import { runCdc } from '../../lib/task/cdc-task.ts';
import { runSnapshotAndCdc } from '../../lib/task/handover.ts';
import { readCdcRecord } from '../../lib/task/cdc-position.ts';
import { TaskResources } from '../../lib/task/resources.ts';
import type { TaskConfig } from '../../lib/config/types.ts';
import type { CheckpointStore } from '../../lib/core/checkpoint.ts';

const root = new URL('.', import.meta.url).pathname;
const env = { ...process.env, FERRY_TEST_MYSQL_URL: testUrls.mysql, FERRY_TEST_PG_URL: testUrls.pg };

function findCases(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (!statSync(p).isDirectory()) continue;
    if (existsSync(join(p, 'task_config.ini'))) out.push(p);
    else out.push(...findCases(p));
  }
  return out;
}

const urlFor = (dbType: string) => (dbType === 'mysql' ? testUrls.mysql : testUrls.pg);

/** Starts CDC, waits for its start position, runs src_test.sql, waits until target == source, stops. */
async function runCdcCase(config: TaskConfig, store: CheckpointStore, testSql: string): Promise<void> {
  const stop = new AbortController();
  const withSnapshot = config.extractor.extractType === 'snapshot_and_cdc';
  const running = withSnapshot
    ? runSnapshotAndCdc(config, { store, logger: silentLogger, signal: stop.signal })
    : runCdc(config, { store, logger: silentLogger, signal: stop.signal });
  let failed: unknown;
  running.catch((e) => (failed = e));
  try {
    for (let i = 0; i < 200 && !(await readCdcRecord(store, config.taskId)) && !failed; i++) await sleep(50);
    if (failed) throw failed;
    await execSqlFile(urlFor(config.extractor.dbType), testSql);
    const resources = new TaskResources(config, silentLogger);
    const plan = await buildPlan(config, { store, resources, logger: silentLogger, signal: stop.signal }).finally(() => resources.close());
    // The target may lag behind (even its DDL): a failed comparison read counts as "not converged yet".
    const check = () => verifyPlan(config, plan, silentLogger).catch((e: Error) => ({ ok: false, tables: [], error: e.message }));
    let report = await check();
    for (let i = 0; !report.ok && i < 150 && !failed; i++) {
      await sleep(200);
      report = await check();
    }
    if (failed) throw failed;
    const detail = "error" in report ? report.error : report.tables.filter((t) => t.missing.length || t.extra.length || t.different.length || t.sourceRows !== t.targetRows);
    assert.ok(report.ok, JSON.stringify(detail, null, 1));
  } finally {
    stop.abort();
    await running.catch(() => undefined);
  }
  if (failed) throw failed;
}

/** PostgreSQL CDC cases leave a slot and a publication behind: drop them (a slot pins WAL). */
async function dropSlot(config: TaskConfig): Promise<void> {
  if (config.extractor.dbType !== 'pg') return;
  const slot = config.extractor.raw.slot_name;
  const pub = config.extractor.raw.pub_name || `${slot}_publication_for_all_tables`;
  await execSql(testUrls.pg, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '${slot}'; DROP PUBLICATION IF EXISTS "${pub}";`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('e2e cases', () => {
  for (const dir of findCases(root)) {
    const name = relative(root, dir);
    it(name, async () => {
      const work = await mkdtemp(join(tmpdir(), 'ferry-e2e-'));
      try {
        const text = await readFile(join(dir, 'task_config.ini'), 'utf8');
        const { config } = await loadTaskConfig({ text, format: 'ini' }, { env });
        config.checkpoint = { ...config.checkpoint, store: 'file', dir: work };
        for (const [file, side] of [['src_prepare.sql', config.extractor], ['dst_prepare.sql', config.sinker]] as const) {
          if (existsSync(join(dir, file))) await execSqlFile(urlFor(side.dbType), join(dir, file));
        }
        const expect = existsSync(join(dir, 'expect.json')) ? JSON.parse(await readFile(join(dir, 'expect.json'), 'utf8')) : {};
        const store = await createCheckpointStore(config.checkpoint, { logger: silentLogger });
        if (existsSync(join(dir, 'src_test.sql'))) {
          try {
            await runCdcCase(config, store, join(dir, 'src_test.sql'));
          } finally {
            await store.close();
            await dropSlot(config);
          }
          return;
        }
        try {
          const first = await runSnapshot(config, { store, logger: silentLogger });
          if (expect.error) {
            assert.equal(first.status, 'failed', `expected ${expect.error}`);
            assert.equal(first.errors[0].code, expect.error);
            if (expect.message) assert.match(first.errors[0].message, new RegExp(expect.message));
            return;
          }
          assert.deepEqual(first.errors, []);
          assert.equal(first.status, 'done');
          if (typeof expect.rows === 'number') assert.equal(first.rows, expect.rows);
          const plan = await loadPlan(store, config.taskId);
          const report = await verifyPlan(config, plan, silentLogger);
          assert.ok(report.ok, JSON.stringify('error' in report ? report.error : report.tables.filter((t) => t.missing.length || t.extra.length || t.different.length || t.sourceRows !== t.targetRows), null, 1));
          const again = await runSnapshot(config, { store, logger: silentLogger });
          assert.equal(again.status, 'done');
          assert.equal(again.rows, 0, 'a rerun of a finished task copies nothing');
        } finally {
          await store.close();
        }
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    });
  }
});
