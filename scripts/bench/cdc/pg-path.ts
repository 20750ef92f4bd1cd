import { execSql, query } from '../../../test/support/sql.ts';
import { pgUrlFor, type Servers } from '../support/servers.ts';
import { ensurePgDataset, SOURCE_DB, TABLE } from '../snapshot/dataset.ts';
import { MARKER_TABLE, markerDdl } from './marker.ts';
import type { CdcPath } from './path.ts';
import { cpuSeconds } from './proc.ts';

/**
 * PostgreSQL -> PostgreSQL. Three databases of the project's server, each with schema ferry_bench: the source
 * (kept between runs, like the snapshot bench's tables), ferry's target and the subscriber's, both cloned from
 * the source (CREATE DATABASE ... TEMPLATE) at the start of every run, so they are identical to it. A
 * database of its own keeps the publications away from every other database's UPDATE/DELETE.
 */
const SRC_DB = 'ferry_bench_cdc';
const FERRY_DB = 'ferry_bench_cdc_ferry';
const NATIVE_DB = 'ferry_bench_cdc_native';
const FERRY_SLOT = 'ferry_bench_cdc_ferry';
const NATIVE_SLOT = 'ferry_bench_cdc_native';
const NATIVE_PUB = 'ferry_bench_cdc_native_pub';
const SUB = 'ferry_bench_cdc_native';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function pgPath(s: Servers): CdcPath {
  const url = (db: string) => pgUrlFor(s, db);
  const at = (db: string) => ({ url: url(db), table: `"${SOURCE_DB}".${TABLE}`, marker: `"${SOURCE_DB}".${MARKER_TABLE}` });
  const exists = async (db: string) => (await query(s.pg.url, 'SELECT 1 FROM pg_database WHERE datname = $1', [db])).length > 0;

  /** CREATE DATABASE refuses a template with sessions (autovacuum included): retried for a while. */
  async function clone(db: string): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await execSql(s.pg.url, `CREATE DATABASE ${db} TEMPLATE ${SRC_DB} STRATEGY FILE_COPY`);
        return;
      } catch (e) {
        if (i >= 30 || !/being accessed by other users/.test((e as Error).message)) throw e;
        await sleep(500);
      }
    }
  }

  async function dropSlot(name: string): Promise<void> {
    for (let i = 0; i < 20; i++) {
      const [r] = await query<{ active_pid: number | null }>(s.pg.url, 'SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [name]);
      if (!r) return;
      if (r.active_pid) await query(s.pg.url, 'SELECT pg_terminate_backend($1)', [r.active_pid]);
      try {
        await query(s.pg.url, 'SELECT pg_drop_replication_slot($1)', [name]);
        return;
      } catch {
        await sleep(250); // the walsender is still exiting
      }
    }
  }

  const path: CdcPath = {
    id: 'pp',
    label: 'pg->pg',
    engine: 'pg',
    source: at(SRC_DB),
    ferryTarget: at(FERRY_DB),
    nativeTarget: at(NATIVE_DB),
    nativeName: 'PG subscription',
    nativeNote: `publication + subscription (database ${NATIVE_DB} of the same server, one apply worker: PostgreSQL 15 applies a subscription serially)`,

    async prepare({ rows, fresh, peers, log }) {
      await path.cleanup();
      if (!(await exists(SRC_DB))) await execSql(s.pg.url, `CREATE DATABASE ${SRC_DB}`);
      const d = await ensurePgDataset({ ...s, pg: { ...s.pg, db: SRC_DB, url: url(SRC_DB) } }, rows, fresh);
      log(d.reused ? `pg source: reused ${SRC_DB}.${SOURCE_DB}.${TABLE} (${rows} rows)` : `pg source: generated in ${d.seconds.toFixed(1)} s`);
      // Earlier runs' updates leave dead tuples; vacuum so every run starts from the same kind of table.
      await execSql(url(SRC_DB), markerDdl('pg', path.source.marker));
      await execSql(url(SRC_DB), `VACUUM ANALYZE ${path.source.table}`);
      const t0 = performance.now();
      await clone(FERRY_DB);
      if (peers) {
        await clone(NATIVE_DB);
        await execSql(url(SRC_DB), `CREATE PUBLICATION ${NATIVE_PUB} FOR TABLE ${path.source.table}, ${path.source.marker}`);
        await query(url(SRC_DB), `SELECT pg_create_logical_replication_slot('${NATIVE_SLOT}', 'pgoutput')`);
        // The slot exists already: CREATE SUBSCRIPTION against its own server would otherwise wait on itself.
        await execSql(
          url(NATIVE_DB),
          `CREATE SUBSCRIPTION ${SUB} CONNECTION 'host=${s.pg.host} port=${s.pg.port} user=${s.pg.user} dbname=${SRC_DB}' ` +
            `PUBLICATION ${NATIVE_PUB} WITH (create_slot = false, slot_name = '${NATIVE_SLOT}', enabled = false, copy_data = false)`,
        );
      }
      log(`pg targets: cloned from the source in ${((performance.now() - t0) / 1000).toFixed(1)} s${peers ? '; subscription created, disabled' : ''}`);
      return d;
    },

    ferry: () => ({
      source: { dbType: 'pg', url: url(SRC_DB), db: SOURCE_DB, tables: [TABLE, MARKER_TABLE] },
      target: { dbType: 'pg', url: url(FERRY_DB), db: SOURCE_DB },
      slotName: FERRY_SLOT,
    }),

    markBacklogStart: async () => undefined, // both slots exist: every later transaction is theirs

    startNative: () => execSql(url(NATIVE_DB), `ALTER SUBSCRIPTION ${SUB} ENABLE`),

    async nativeHealthy() {
      const [r] = await query<{ n: string }>(url(NATIVE_DB), `SELECT apply_error_count::text n FROM pg_stat_subscription_stats WHERE subname = '${SUB}'`);
      if (r && Number(r.n) > 0) throw new Error(`subscription ${SUB}: ${r.n} apply errors (see the server log)`);
    },

    stopNative: () => execSql(url(NATIVE_DB), `ALTER SUBSCRIPTION ${SUB} DISABLE`),

    async meterCpu() {
      // Backends of this path's databases: walsenders (source database), ferry's sessions and the apply
      // worker (target databases). Each is one process; one that starts during the phase counts from 0.
      const backends = () =>
        query<{ pid: number; datname: string }>(s.pg.url, `SELECT pid, datname FROM pg_stat_activity WHERE datname IN ('${SRC_DB}', '${FERRY_DB}', '${NATIVE_DB}') AND pid <> pg_backend_pid()`);
      const base = new Map((await backends()).map((b) => [b.pid, cpuSeconds(b.pid)]));
      return async () => {
        const out = { source: 0, target: 0 };
        for (const b of await backends()) out[b.datname === SRC_DB ? 'source' : 'target'] += cpuSeconds(b.pid) - (base.get(b.pid) ?? 0);
        return out;
      };
    },

    async cleanup() {
      const step = async (f: () => Promise<unknown>) => {
        try {
          await f();
        } catch {
          /* best effort: the next step may still succeed */
        }
      };
      if (await exists(NATIVE_DB).catch(() => false)) {
        // Detach the subscription from its slot first, so DROP SUBSCRIPTION needs no connection to the publisher.
        await step(() => execSql(url(NATIVE_DB), `ALTER SUBSCRIPTION ${SUB} DISABLE`));
        await step(() => execSql(url(NATIVE_DB), `ALTER SUBSCRIPTION ${SUB} SET (slot_name = NONE)`));
        await step(() => execSql(url(NATIVE_DB), `DROP SUBSCRIPTION IF EXISTS ${SUB}`));
      }
      await step(() => execSql(s.pg.url, `DROP DATABASE IF EXISTS ${FERRY_DB} WITH (FORCE)`));
      await step(() => execSql(s.pg.url, `DROP DATABASE IF EXISTS ${NATIVE_DB} WITH (FORCE)`));
      await step(() => dropSlot(FERRY_SLOT));
      await step(() => dropSlot(NATIVE_SLOT));
      if (await exists(SRC_DB).catch(() => false)) {
        await step(() => execSql(url(SRC_DB), `DROP PUBLICATION IF EXISTS ${NATIVE_PUB}; DROP PUBLICATION IF EXISTS ${FERRY_SLOT}_publication_for_all_tables`));
      }
    },
  };
  return path;
}
