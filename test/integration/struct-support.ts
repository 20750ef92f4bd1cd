/**
 * Shared steps of the structure migration tests: fixtures into a fresh source database/schema, task configs
 * for struct / snapshot / cdc between the test servers, and a CDC run that waits until target == source.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { taskConfigFromSections } from '../../lib/config/task.ts';
import type { TaskConfig } from '../../lib/config/types.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import { createCheckpointStore } from '../../lib/checkpoint/create-store.ts';
import { verifyPlan, type VerifyReport } from '../../lib/check/verify.ts';
import { buildPlan } from '../../lib/plan/planner.ts';
import { runCdc } from '../../lib/task/cdc-task.ts';
import { readCdcRecord } from '../../lib/task/cdc-position.ts';
import { TaskResources } from '../../lib/task/resources.ts';
import { execSql } from '../support/sql.ts';
import { testUrls } from '../support/services.ts';

export type Engine = 'mysql' | 'pg';
export const urlOf = (e: Engine): string => (e === 'mysql' ? testUrls.mysql : testUrls.pg);
const fixture = (f: string): string => readFileSync(new URL(`../fixtures/struct/${f}`, import.meta.url), 'utf8');

/** A fresh database (MySQL) or schema (PostgreSQL) named `db`, with `sql` run inside it. */
export async function freshDb(e: Engine, db: string, sql = ''): Promise<void> {
  if (e === 'mysql') await execSql(testUrls.mysql, `DROP DATABASE IF EXISTS \`${db}\`; CREATE DATABASE \`${db}\`; USE \`${db}\`; ${sql}`);
  else await execSql(testUrls.pg, `DROP SCHEMA IF EXISTS "${db}" CASCADE; CREATE SCHEMA "${db}"; SET search_path = "${db}"; ${sql}`);
}

export async function dropDb(e: Engine, db: string): Promise<void> {
  await execSql(urlOf(e), e === 'mysql' ? `DROP DATABASE IF EXISTS \`${db}\`` : `DROP SCHEMA IF EXISTS "${db}" CASCADE`);
}

/** Runs `sql` with the database/schema `db` as default. */
export async function inDb(e: Engine, db: string, sql: string): Promise<void> {
  await execSql(urlOf(e), e === 'mysql' ? `USE \`${db}\`; ${sql}` : `SET search_path = "${db}"; ${sql}`);
}

/** The source fixture (schema + rows) of engine `e` into a fresh `db`. */
export async function prepareSource(e: Engine, db: string): Promise<void> {
  await freshDb(e, db, fixture(`${e}_src.sql`) + '\n' + fixture(`${e}_data.sql`));
}

/** A task between the test servers, `src` database routed to `dst`. */
export function taskConfig(
  src: Engine,
  dst: Engine,
  srcDb: string,
  dstDb: string,
  kind: 'struct' | 'check' | 'snapshot' | 'cdc',
  extra: Record<string, Record<string, string>> = {},
): TaskConfig {
  const extractType = kind === 'check' ? 'struct' : kind;
  const sinkType = kind === 'struct' || kind === 'check' ? kind : 'write';
  const { config } = taskConfigFromSections({
    ...extra,
    extractor: { db_type: src, extract_type: extractType, url: urlOf(src), ...extra.extractor },
    sinker: { db_type: dst, sink_type: sinkType, url: urlOf(dst), ...extra.sinker },
    filter: { do_dbs: srcDb, ...extra.filter },
    router: { db_map: `${srcDb}:${dstDb}`, ...extra.router },
    global: { task_id: `${srcDb}_${kind}` },
  });
  return config;
}

export async function fileStore() {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-struct-'));
  return createCheckpointStore({ store: 'file', dir }, { logger: silentLogger });
}

export const failures = (r: VerifyReport) =>
  r.tables.filter((t) => t.missing.length || t.extra.length || t.different.length || t.sourceRows !== t.targetRows);

/** Compares every table of `cfg` source vs target, row by row (type-aware equality). */
export async function compare(cfg: TaskConfig): Promise<VerifyReport> {
  const store = await fileStore();
  const res = new TaskResources(cfg, silentLogger);
  try {
    const plan = await buildPlan(cfg, { store, resources: res, logger: silentLogger, signal: new AbortController().signal });
    return await verifyPlan(cfg, plan, silentLogger);
  } finally {
    await res.close();
    await store.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts CDC, runs `dml` on the source once CDC has its start position, waits until target == source. */
export async function cdcConverges(cfg: TaskConfig, srcDb: string, dml: string): Promise<void> {
  const store = await fileStore();
  const stop = new AbortController();
  let failed: unknown;
  const running = runCdc(cfg, { store, logger: silentLogger, signal: stop.signal }).catch((e) => (failed = e));
  try {
    for (let i = 0; i < 200 && !(await readCdcRecord(store, cfg.taskId)) && !failed; i++) await sleep(50);
    if (failed) throw failed;
    await inDb(cfg.extractor.dbType as Engine, srcDb, dml);
    let report = await compare(cfg).catch((e: Error) => ({ ok: false, tables: [], error: e.message }) as VerifyReport);
    for (let i = 0; !report.ok && i < 150 && !failed; i++) {
      await sleep(200);
      report = await compare(cfg).catch((e: Error) => ({ ok: false, tables: [], error: e.message }) as VerifyReport);
    }
    if (failed) throw failed;
    assert.ok(report.ok, JSON.stringify('error' in report ? report.error : failures(report), null, 1));
  } finally {
    stop.abort();
    await running;
    await store.close();
    if (cfg.extractor.dbType === 'pg') {
      const slot = cfg.extractor.raw.slot_name;
      await execSql(testUrls.pg, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '${slot}'; DROP PUBLICATION IF EXISTS "${slot}_publication_for_all_tables";`);
    }
  }
}
