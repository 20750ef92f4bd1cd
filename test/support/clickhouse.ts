/**
 * ClickHouse helpers for tests: the test server (Debian's 18.16 over HTTP, `npm run services -- up clickhouse`),
 * the same ClickhouseApi over chdb (an in-process current ClickHouse engine), reading a table's live rows
 * (`FINAL`, not deleted) and comparing them with the source's canonical rows by family.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EndpointConfig } from '../../lib/config/types.ts';
import { silentLogger } from '../../lib/core/logger.ts';
import type { ColumnMeta, Row, SnapshotSource, TableMeta } from '../../lib/core/index.ts';
import { normalizeValue } from '../../lib/check/normalize.ts';
import { ClickhouseClient, parseTsv, type ClickhouseApi, type Payload, type Settings } from '../../lib/connectors/clickhouse/client.ts';
import { resolveClickhouseConfig } from '../../lib/connectors/clickhouse/config.ts';
import { toFerryError } from '../../lib/connectors/clickhouse/errors.ts';
import { featuresOf, type ServerFeatures } from '../../lib/connectors/clickhouse/features.ts';
import { DELETED_COL, parseType, quoteIdent, quoteTable, sqlString } from '../../lib/connectors/clickhouse/sql.ts';
import { describeTarget } from '../../lib/connectors/clickhouse/target.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import type { MetadataAccessor } from '../../lib/core/index.ts';
import { createMysqlMetadata, createMysqlSnapshotSource } from '../../lib/connectors/mysql/index.ts';
import { freshMysqlDb, mysqlEndpoint, type TestDb } from './mysql.ts';
import { testUrls } from './services.ts';
import { writeIni } from './cli.ts';
import type { TaskConfig } from '../../lib/config/types.ts';
import type { CheckpointStore } from '../../lib/core/checkpoint.ts';
import { runCdc } from '../../lib/task/cdc-task.ts';
import { readCdcRecord } from '../../lib/task/cdc-position.ts';

export function clickhouseEndpoint(over: Partial<EndpointConfig> = {}): EndpointConfig {
  return { dbType: 'clickhouse', url: testUrls.clickhouse, maxConnections: 4, batchSize: 1000, raw: {}, ...over };
}

export const clickhouseClient = (): ClickhouseClient => new ClickhouseClient(resolveClickhouseConfig(clickhouseEndpoint()), silentLogger);

type Section = Record<string, string | number>;

/**
 * Writes the INI of a task into the test ClickHouse server, as a user writes it: `kind` struct (extract_type=struct,
 * sink_type=struct) or snapshot (sink_type=write), checkpoints in `<dir>/<id>`. Empty values are left out.
 */
export function chTask(
  dir: string,
  id: string,
  o: { kind: 'struct' | 'snapshot'; extractor: Section; sinker?: Section; filter?: Section; router?: Section },
): Promise<string> {
  const clean = (s: Section = {}) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== ''));
  return writeIni(dir, {
    extractor: clean({ extract_type: o.kind, ...o.extractor }),
    sinker: clean({ db_type: 'clickhouse', sink_type: o.kind === 'struct' ? 'struct' : 'write', url: testUrls.clickhouse, ...o.sinker }),
    filter: clean(o.filter),
    router: clean(o.router),
    checkpoint: { store: 'file', dir: `${dir}/${id}` },
    global: { task_id: id },
  }, `${id}.ini`);
}

/** What a MySQL -> ClickHouse suite works with: its source database, ferry's MySQL metadata and snapshot source, a work dir. */
export interface MysqlSourceFixture {
  src: TestDb;
  meta: MetadataAccessor;
  source: SnapshotSource;
  work: string;
}

/** A fresh MySQL database `<prefix>_...` seeded with `sql`, ferry's metadata and snapshot source over it, and a work dir. */
export async function openMysqlSource(prefix: string, sql: string): Promise<MysqlSourceFixture> {
  const ctx = { logger: silentLogger, signal: new AbortController().signal };
  const src = await freshMysqlDb(prefix);
  await src.exec(sql);
  return {
    src,
    meta: await createMysqlMetadata(mysqlEndpoint(), ctx),
    source: await createMysqlSnapshotSource(mysqlEndpoint(), ctx),
    work: await mkdtemp(join(tmpdir(), `ferry-${prefix}-`)),
  };
}

/** Undoes {@link openMysqlSource}, after dropping the suite's ClickHouse database `dst` and closing `ch`. */
export async function closeMysqlSource(f: MysqlSourceFixture, ch: ClickhouseApi, dst: string): Promise<void> {
  await ch.command(`DROP DATABASE IF EXISTS ${quoteIdent(dst)}`, undefined, 'cleanup').catch(() => undefined);
  await ch.close();
  await f.meta.close();
  await f.source.close();
  await f.src.drop();
  await rm(f.work, { recursive: true, force: true });
}

/** The writers' ClickhouseApi over a chdb Session (ClickHouse 26.x in-process). */
export class ChdbApi implements ClickhouseApi {
  readonly session: { query(sql: string, format?: string): string; insert(p: unknown): Promise<unknown>; cleanup(): void };
  /** Every statement and insert payload sent, for assertions. */
  readonly log: Array<{ sql: string; body?: Buffer }> = [];
  private files = 0;

  constructor() {
    const { Session } = createRequire(import.meta.url)('chdb') as { Session: new () => ChdbApi['session'] };
    this.session = new Session();
  }

  async server(): Promise<ServerFeatures> {
    return featuresOf((await this.rows<{ v: string }>('SELECT version() AS v', undefined, 'version'))[0].v);
  }

  async rows<T>(sql: string, _s: AbortSignal | undefined, context: string): Promise<T[]> {
    this.log.push({ sql });
    let out: string;
    try {
      out = this.session.query(sql, 'JSONEachRow');
    } catch (e) {
      throw toFerryError(e, context);
    }
    return out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
  }

  async textRows(sql: string, _s: AbortSignal | undefined, context: string): Promise<Array<Record<string, string | null>>> {
    this.log.push({ sql });
    try {
      return parseTsv(this.session.query(sql, 'TabSeparatedWithNames'));
    } catch (e) {
      throw toFerryError(e, context);
    }
  }

  async command(sql: string, _s: AbortSignal | undefined, context: string, settings: Settings = {}): Promise<void> {
    const set = Object.entries(settings).map(([k, v]) => `${k} = ${typeof v === 'number' ? v : sqlString(v)}`);
    const full = set.length ? `${sql} SETTINGS ${set.join(', ')}` : sql;
    this.log.push({ sql: full });
    try {
      this.session.query(full, 'CSV');
    } catch (e) {
      throw toFerryError(e, context);
    }
  }

  /**
   * The payload goes, unchanged, through chdb's raw insert -- which accepts only plain `db.tb` names and text
   * formats -- into a Memory copy of the target (same column types, so the same parser), then INSERT ... SELECT
   * into the target. RowBinary payloads go through a temporary file: `INSERT INTO <target> (<columns>) FROM
   * INFILE ... FORMAT RowBinary`, the engine's own RowBinary reader.
   */
  async insert(tableSql: string, columnsSql: string, format: string, payload: Payload, _s: AbortSignal | undefined, context: string): Promise<void> {
    const body = Buffer.isBuffer(payload) ? payload : Buffer.concat(payload);
    this.log.push({ sql: `INSERT INTO ${tableSql} (${columnsSql}) FORMAT ${format}`, body });
    if (format !== 'JSONEachRow') {
      const file = join(tmpdir(), `ferry-chdb-${process.pid}-${++this.files}.bin`);
      try {
        writeFileSync(file, body);
        this.session.query(`INSERT INTO ${tableSql} (${columnsSql}) FROM INFILE ${sqlString(file)} FORMAT ${format}`, 'CSV');
      } catch (e) {
        throw toFerryError(e, context);
      } finally {
        rmSync(file, { force: true });
      }
      return;
    }
    const columns = columnsSql.split(', ').map((c) => c.slice(1, -1).replace(/\\(.)/g, '$1'));
    const stage = 'default.ferry_chdb_stage';
    try {
      this.session.query(`DROP TABLE IF EXISTS ${stage}; CREATE TABLE ${stage} AS ${tableSql} ENGINE = Memory`, 'CSV');
      await this.session.insert({ table: stage, values: body, format, columns });
      this.session.query(`INSERT INTO ${tableSql} (${columnsSql}) SELECT ${columnsSql} FROM ${stage}; DROP TABLE ${stage}`, 'CSV');
    } catch (e) {
      throw toFerryError(e, context);
    }
  }

  async close(): Promise<void> {
    this.session.cleanup();
  }
}

/** The live rows of a target table (`FINAL` for keyed tables, not deleted) as text (bytes as hex), ordered by `orderBy` (the key). */
export async function readLive(api: ClickhouseApi, meta: Pick<TableMeta, 'db' | 'tb' | 'columns'>, orderBy: string[]): Promise<Array<Record<string, string | null>>> {
  // FINAL in a subquery: on old servers a WHERE next to FINAL may be moved before the merge (PREWHERE).
  const cols = meta.columns.map((c) => (isBytes(c) ? `hex(${quoteIdent(c.name)}) AS ${quoteIdent(c.name)}` : quoteIdent(c.name)));
  const order = orderBy.length ? orderBy.map(quoteIdent).join(', ') : cols.map((_c, i) => i + 1).join(', ');
  return api.textRows(`SELECT ${cols.join(', ')} FROM (SELECT * FROM ${quoteTable(meta)}${orderBy.length ? ' FINAL' : ''}) WHERE ${quoteIdent(DELETED_COL)} = 0 ORDER BY ${order}`, undefined, 'read');
}

const isBytes = (c: ColumnMeta) => c.family === 'binary' || c.family === 'geometry';

/** The insert format the sinker picks by default (auto) for a source table's target, and why not RowBinary. */
export async function insertFormat(api: ClickhouseApi, meta: TableMeta, target: { db: string; tb: string }): Promise<string> {
  const shape = await describeTarget(api, { table: target, source: { db: meta.db, tb: meta.tb }, columns: meta.columns, keyColumns: meta.keyColumns }, new AbortController().signal);
  return shape.jsonReason ? `${shape.format} (${shape.jsonReason})` : shape.format;
}

/** The target column types of a table, by name. */
export async function targetTypes(api: ClickhouseApi, db: string, tb: string): Promise<Map<string, string>> {
  const rows = await api.rows<{ name: string; type: string }>(`SELECT name, type FROM system.columns WHERE database = ${sqlString(db)} AND table = ${sqlString(tb)}`, undefined, 'types');
  return new Map(rows.map((r) => [r.name, r.type]));
}

/** One value's comparison form given the source family and the target type (lossy mappings made comparable). */
export function comparable(v: Row[string] | string | null | undefined, c: ColumnMeta, targetType: string, side: 'source' | 'target'): string {
  if (v === null || v === undefined) return 'NULL';
  const t = parseType(targetType);
  if (side === 'target' && isBytes(c)) v = Buffer.from(String(v), 'hex');
  if (c.family === 'bit' && t.base === 'UInt64') return side === 'source' ? BigInt('0b' + String(v || '0')).toString() : String(v);
  if (c.family === 'bool') return ['true', 't', '1'].includes(String(v)) ? '1' : '0';
  if (c.family === 'float') return String(t.base === 'Float32' ? Math.fround(Number(v)) : Number(v));
  // ClickHouse before 20.x prints the zero of Date / DateTime (the epoch) as 0000-00-00.
  if (side === 'target' && typeof v === 'string' && v.startsWith('0000-00-00')) v = v.replace('0000-00-00', '1970-01-01');
  let n = normalizeValue(v as Row[string], c.family);
  if (t.base === 'DateTime' && side === 'source') n = n.replace(/\.\d+$/, '');
  return n;
}

/** Reads the source table whole (canonical values) and asserts the target's live rows equal it, row by row. */
export async function assertSameRows(source: SnapshotSource, meta: TableMeta, api: ClickhouseApi, target = { db: meta.db, tb: meta.tb }): Promise<number> {
  const src: Row[] = [];
  const spec = { id: 'cmp', table: meta, kind: 'whole' as const, lower: null, upper: null, estimatedRows: 0 };
  for await (const b of source.readChunk(meta, spec, { columns: meta.columns.map((c) => c.name), batchSize: 10_000, signal: new AbortController().signal })) src.push(...b.rows);
  const types = await targetTypes(api, target.db, target.tb);
  const live = await readLive(api, { ...target, columns: meta.columns }, meta.keyColumns);
  const form = (r: Row | Record<string, string | null>, side: 'source' | 'target') =>
    meta.columns.map((c) => `${c.name}=${comparable(r[c.name], c, types.get(c.name) ?? 'String', side)}`).join(' | ');
  const a = src.map((r) => form(r, 'source')).sort();
  const b = live.map((r) => form(r, 'target')).sort();
  assert.deepEqual(b, a, `${target.db}.${target.tb}: target FINAL rows differ from the source`);
  return a.length;
}

/**
 * Runs CDC for `config` until `converged` passes (the target lags the source): starts the runner, waits for its
 * start position, runs `changes` on the source, retries `converged` every 200 ms (up to 20 s), then stops the
 * runner. A runner failure fails the test.
 */
export async function cdcUntil(
  config: TaskConfig,
  store: CheckpointStore,
  changes: () => Promise<void>,
  converged: () => Promise<void>,
): Promise<void> {
  const stop = new AbortController();
  let failed: unknown;
  const running = runCdc(config, { store, logger: silentLogger, signal: stop.signal }).catch((e) => (failed = e));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    for (let i = 0; i < 200 && !(await readCdcRecord(store, config.taskId)) && !failed; i++) await sleep(50);
    if (failed) throw failed;
    await changes();
    let last: unknown;
    for (let i = 0; i < 100 && !failed; i++) {
      try {
        await converged();
        last = undefined;
        break;
      } catch (e) {
        last = e;
        await sleep(200);
      }
    }
    if (failed) throw failed;
    if (last) throw last;
  } finally {
    stop.abort();
    await running;
  }
}
