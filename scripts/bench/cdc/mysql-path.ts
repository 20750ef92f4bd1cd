import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execSql, query } from '../../../test/support/sql.ts';
import type { Servers } from '../support/servers.ts';
import { ensureMysqlDataset, MYSQL_DDL, SOURCE_DB, TABLE } from '../snapshot/dataset.ts';
import { MARKER_TABLE, markerDdl } from './marker.ts';
import type { CdcPath } from './path.ts';
import { cpuSeconds, pidFromFile, tcpClientPorts } from './proc.ts';
import { freePort, MariadbReplica } from './replica.ts';
import { servicesDir } from './services-dir.ts';

/**
 * MariaDB -> MariaDB. The source is database ferry_bench_cdc of the project's server (kept between runs). Both
 * targets live on a second, temporary MariaDB server started for the run: the real replica (server_id 2,
 * replaying database ferry_bench_cdc) and ferry's target database ferry_bench_cdc_ferry -- the same server, the
 * same buffer pool and the same binlogging of what is applied, so neither side gets a cheaper target.
 * Tables are filled from one SELECT ... INTO OUTFILE of the source (LOAD DATA INFILE), not from the binlog.
 */
const SRC_DB = 'ferry_bench_cdc';
const FERRY_DB = 'ferry_bench_cdc_ferry';
const REPLICA_SERVER_ID = 2;

export function mysqlPath(s: Servers, o: { workDir: string; parallel: number }): CdcPath {
  let replica: MariadbReplica | undefined;
  const at = (url: string, db: string) => ({ url, table: `\`${db}\`.${TABLE}`, marker: `\`${db}\`.${MARKER_TABLE}` });
  const need = () => {
    if (!replica) throw new Error('replica server not started');
    return replica;
  };
  const mainPid = () => pidFromFile(`${servicesDir()}/mysql/pid`);
  // The ferry reader's replica id: unique on the shared server (tests use 1e6..1.1e7).
  const serverId = 20_000_000 + (process.pid % 1_000_000);

  /** Copies a table between servers through a file both servers can read (they run as the same user). */
  async function copyTable(fromUrl: string, fromTable: string, toUrl: string, toDb: string, file: string): Promise<void> {
    rmSync(file, { force: true });
    await execSql(fromUrl, `SELECT id, k, c, pad INTO OUTFILE '${file}' FROM ${fromTable}`);
    // As sysbench (and the snapshot bench): the secondary index after the load. Never binlogged: not a change.
    await execSql(
      toUrl,
      `SET SESSION sql_log_bin = 0; DROP DATABASE IF EXISTS \`${toDb}\`; CREATE DATABASE \`${toDb}\`; ${MYSQL_DDL(toDb, false)}; ` +
        `LOAD DATA INFILE '${file}' INTO TABLE \`${toDb}\`.${TABLE} (id, k, c, pad); ` +
        `ALTER TABLE \`${toDb}\`.${TABLE} ADD KEY k_1 (k); ANALYZE TABLE \`${toDb}\`.${TABLE}; ${markerDdl('mysql', `\`${toDb}\`.${MARKER_TABLE}`)}`,
    );
  }

  const path: CdcPath = {
    id: 'mm',
    label: 'mysql->mysql',
    engine: 'mysql',
    source: at(s.mysql.url, SRC_DB),
    // The replica's port is known once it runs; these are filled in by prepare().
    ferryTarget: at('', FERRY_DB),
    nativeTarget: at('', SRC_DB),
    nativeName: 'MariaDB replica',
    nativeNote: `second mariadbd (server_id ${REPLICA_SERVER_ID}, my.cnf as scripts/services.sh + log-slave-updates), slave_parallel_threads=${o.parallel}, slave_parallel_mode=optimistic`,

    async prepare({ rows, fresh, log }) {
      const t0 = performance.now();
      replica = await MariadbReplica.start({
        dir: join(o.workDir, 'replica'),
        port: await freePort(),
        serverId: REPLICA_SERVER_ID,
        parallelThreads: o.parallel,
        doTable: `${SRC_DB}.%`,
      });
      path.ferryTarget.url = replica.url;
      path.nativeTarget.url = replica.url;
      log(`mysql replica: started on ${replica.url.replace(/^mysql:\/\//, '')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

      let d = { engine: 'mysql' as const, rows, reused: true, seconds: 0 };
      const n = await query<{ n: number }>(s.mysql.url, `SELECT COUNT(*) n FROM \`${SRC_DB}\`.${TABLE}`).then((r) => Number(r[0].n), () => -1);
      if (fresh || n !== rows) {
        // Generated on the private replica server with the snapshot bench's generator (so the project server's
        // ferry_bench, which the snapshot bench owns, is never touched), then loaded into the source.
        const g = await ensureMysqlDataset({ ...s, mysql: { ...s.mysql, url: replica.url } }, rows, true);
        await copyTable(replica.url, `\`${SOURCE_DB}\`.${TABLE}`, s.mysql.url, SRC_DB, join(o.workDir, 'generated.tsv'));
        await execSql(replica.url, `DROP DATABASE IF EXISTS \`${SOURCE_DB}\``);
        d = { engine: 'mysql', rows, reused: false, seconds: g.seconds + (performance.now() - t0) / 1000 };
        log(`mysql source: generated ${SRC_DB}.${TABLE} in ${d.seconds.toFixed(1)} s`);
      } else {
        log(`mysql source: reused ${SRC_DB}.${TABLE} (${rows} rows)`);
        await execSql(s.mysql.url, `SET SESSION sql_log_bin = 0; ${markerDdl('mysql', path.source.marker)}`);
      }
      const t1 = performance.now();
      await copyTable(s.mysql.url, path.source.table, replica.url, FERRY_DB, join(o.workDir, 'source.tsv'));
      await copyTable(s.mysql.url, path.source.table, replica.url, SRC_DB, join(o.workDir, 'source.tsv'));
      rmSync(join(o.workDir, 'source.tsv'), { force: true });
      rmSync(join(o.workDir, 'generated.tsv'), { force: true });
      log(`mysql targets: loaded on the replica server in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
      return d;
    },

    ferry: () => ({
      source: { dbType: 'mysql', url: s.mysql.url, db: SRC_DB, tables: [TABLE, MARKER_TABLE] },
      target: { dbType: 'mysql', url: need().url, db: FERRY_DB },
      serverId,
    }),

    async markBacklogStart() {
      const [m] = await query<{ File: string; Position: number }>(s.mysql.url, 'SHOW MASTER STATUS');
      await execSql(
        need().url,
        `CHANGE MASTER TO MASTER_HOST='${s.mysql.host}', MASTER_PORT=${s.mysql.port}, MASTER_USER='${s.mysql.user}', MASTER_PASSWORD='', ` +
          `MASTER_LOG_FILE='${m.File}', MASTER_LOG_POS=${m.Position}, MASTER_USE_GTID=no`,
      );
    },

    startNative: () => execSql(need().url, 'START SLAVE'),

    async nativeHealthy() {
      const [st] = await query<Record<string, string | number>>(need().url, 'SHOW SLAVE STATUS');
      if (!st) throw new Error('replica: no slave status');
      if (Number(st.Last_SQL_Errno) || Number(st.Last_IO_Errno)) throw new Error(`replica: ${st.Last_SQL_Error || st.Last_IO_Error}`);
    },

    stopNative: () => execSql(need().url, 'STOP SLAVE'),

    async meterCpu(readers) {
      // Source: the main server's binlog dump threads serving this run's readers (ferry, the replica's IO
      // thread), found by the client port in PROCESSLIST.HOST and timed per OS thread (PROCESSLIST.TID): the
      // server is shared, and other clients' dump threads read the same binlog. Threads are cached and
      // reused, so each thread's CPU counts from its value at the start. Target: the whole replica server,
      // which serves only this run.
      const main = mainPid();
      const threads = (): Map<number, number> => {
        const m = new Map<number, number>();
        if (!main) return m;
        for (const tid of readdirSync(`/proc/${main}/task`)) m.set(Number(tid), cpuSeconds(main, Number(tid)));
        return m;
      };
      const base = threads();
      const target0 = replica?.pid ? cpuSeconds(replica.pid) : undefined;
      return async () => {
        let source: number | undefined;
        if (main) {
          const pids = [...readers(), ...(replica?.pid ? [replica.pid] : [])];
          const ports = new Set(pids.flatMap((p) => [...tcpClientPorts(p, s.mysql.port)]));
          const dumps = await query<{ TID: number; HOST: string }>(s.mysql.url, "SELECT TID, HOST FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'");
          source = 0;
          for (const d of dumps) {
            if (!ports.has(Number(d.HOST.split(':').pop()))) continue;
            source += cpuSeconds(main, Number(d.TID)) - (base.get(Number(d.TID)) ?? 0);
          }
        }
        const target = target0 !== undefined && replica?.pid ? cpuSeconds(replica.pid) - target0 : undefined;
        return { source, target };
      };
    },

    async cleanup() {
      const r = replica;
      replica = undefined;
      await r?.stop().catch(() => undefined);
    },
  };
  return path;
}
