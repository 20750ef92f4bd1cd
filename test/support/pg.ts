/**
 * PostgreSQL helpers for integration tests: a fresh schema (or database) per test file, plain SQL execution,
 * and endpoint configs for the pg connector. Uses its own plain `pg` client so assertions never depend on
 * the code under test.
 */
import pg from 'pg';
import type { EndpointConfig } from '../../lib/config/types.ts';
import type { ConnectorContext } from '../../lib/core/connector.ts';
import { silentLogger, type Logger } from '../../lib/core/logger.ts';
import type { MetadataAccessor, SnapshotSource } from '../../lib/core/source.ts';
import type { Sinker } from '../../lib/core/sinker.ts';
import { pgConnector } from '../../lib/connectors/pg/index.ts';
import { testUrls, uniqueName } from './services.ts';

export const pgUrl = testUrls.pg;

/** Runs SQL on a short-lived connection (to `url`, default the test server) and returns the rows. */
export async function pgExec<R = Record<string, unknown>>(sql: string, params: unknown[] = [], url = pgUrl): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const res = await c.query(sql, params);
    return (Array.isArray(res) ? res[res.length - 1].rows : res.rows) as R[];
  } finally {
    await c.end();
  }
}

/** CREATE EXTENSION IF NOT EXISTS, tolerating a parallel test file creating it at the same moment. */
export async function ensureExtensions(...names: string[]): Promise<void> {
  for (const n of names) {
    for (let i = 0; ; i++) {
      try {
        await pgExec(`CREATE EXTENSION IF NOT EXISTS ${n} SCHEMA public`);
        break;
      } catch (e) {
        if (i >= 3 || !['23505', '42710', 'XX000'].includes((e as { code?: string }).code ?? '')) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

export interface PgTestSchema {
  /** Schema name (a ferry `db`). */
  name: string;
  /** `"name"` for SQL. */
  q: string;
  exec<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

const quote = (n: string) => `"${n.replace(/"/g, '""')}"`;

/** A new, empty schema; `drop()` removes it with everything in it. */
export async function freshSchema(prefix = 'ferry_pg', name = uniqueName(prefix)): Promise<PgTestSchema> {
  await pgExec(`DROP SCHEMA IF EXISTS ${quote(name)} CASCADE; CREATE SCHEMA ${quote(name)}`);
  return {
    name,
    q: quote(name),
    exec: (sql, params) => pgExec(sql, params),
    drop: async () => {
      await pgExec(`DROP SCHEMA IF EXISTS ${quote(name)} CASCADE`);
    },
  };
}

export interface PgTestDatabase {
  name: string;
  url: string;
  exec<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/** A new database on the test server (for tests that need their own catalog, e.g. schema listings). */
export async function freshDatabase(prefix = 'ferry_pgdb'): Promise<PgTestDatabase> {
  const name = uniqueName(prefix);
  await pgExec(`CREATE DATABASE ${quote(name)}`);
  const u = new URL(pgUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  return {
    name,
    url,
    exec: (sql, params) => pgExec(sql, params, url),
    drop: async () => {
      await pgExec(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`);
    },
  };
}

/** An endpoint section for the pg connector (what lib/config would produce). */
export function pgEndpoint(overrides: Partial<EndpointConfig> = {}): EndpointConfig {
  return { dbType: 'pg', url: pgUrl, maxConnections: 4, batchSize: 1000, raw: {}, ...overrides };
}

/** A connector context with a silent logger and a signal that never fires unless given one. */
export function testContext(signal: AbortSignal = new AbortController().signal): ConnectorContext {
  return { logger: silentLogger, signal };
}

/** A PG -> PG pass-through suite's pieces: source and target schemas, ferry's metadata and snapshot source, a sinker. */
export interface PgPairFixture {
  src: PgTestSchema;
  dst: PgTestSchema;
  md: MetadataAccessor;
  source: SnapshotSource;
  sinker: Sinker;
}

/**
 * Fresh schemas `<prefix>_src_...` and `<prefix>_dst_...`, and ferry's pg metadata, snapshot source and sinker
 * (pg_write_mode=auto, logging to `logger`). Filled into `f` as they are made, so {@link closePgPair} closes what a
 * failed set-up made.
 */
export async function openPgPair(f: Partial<PgPairFixture>, prefix: string, ctx: ConnectorContext, logger: Logger): Promise<PgPairFixture> {
  f.src = await freshSchema(`${prefix}_src`);
  f.dst = await freshSchema(`${prefix}_dst`);
  f.md = await pgConnector.createMetadata!(pgEndpoint(), ctx);
  f.source = await pgConnector.createSnapshotSource!(pgEndpoint(), ctx);
  f.sinker = await pgConnector.createSinker!(pgEndpoint({ raw: { pg_write_mode: 'auto' } }), { ...ctx, logger });
  return f as PgPairFixture;
}

/** Closes and drops what {@link openPgPair} made. */
export async function closePgPair(f: Partial<PgPairFixture>): Promise<void> {
  await f.md?.close();
  await f.source?.close();
  await f.sinker?.close();
  await f.src?.drop();
  await f.dst?.drop();
}
