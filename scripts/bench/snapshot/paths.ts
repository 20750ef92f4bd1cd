import { execSql } from '../../../test/support/sql.ts';
import { mysqlCliArgs, pgCliArgs, pgUrlFor, type Servers } from '../support/servers.ts';
import { shell } from '../support/measure.ts';
import { MYSQL_DDL, PG_DDL, SOURCE_DB, TABLE } from './dataset.ts';
import type { PathId } from './options.ts';

/** A table somewhere: the URL to query it with and its engine-quoted name. */
export interface TableAt {
  url: string;
  table: string;
}

/** The peer tool of a path: how to give it an empty target, the command timed, where its copy lands (url, table). */
export interface Peer extends TableAt {
  name: string;
  /** Debian package that provides the tool (installed when missing and root). */
  pkg: string;
  bin: string;
  prepare(): Promise<void>;
  argv(): string[];
  drop(): Promise<void>;
}

/** One snapshot path: the source, ferry's target (created empty by the bench), the peer and the goal. */
export interface BenchPath {
  id: PathId;
  label: string;
  source: TableAt & { dbType: 'mysql' | 'pg' };
  ferry: TableAt & { dbType: 'mysql' | 'pg'; db: string; prepare(): Promise<void>; drop(): Promise<void> };
  peer: Peer;
  /** ferry rows/s divided by the peer's must reach this. */
  goalRatio: number;
}

const q = (s: string) => s.replace(/'/g, `'\\''`); // single-quote for bash

const mysqlTarget = (s: Servers, db: string) => ({
  url: s.mysql.url,
  table: `\`${db}\`.${TABLE}`,
  drop: () => execSql(s.mysql.url, `DROP DATABASE IF EXISTS \`${db}\``),
});
const pgSchemaTarget = (s: Servers, schema: string) => ({
  url: s.pg.url,
  table: `"${schema}".${TABLE}`,
  drop: () => execSql(s.pg.url, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`),
});
/** A whole PostgreSQL database for a peer that writes its own DDL (pg_dump's schema-qualified, pgloader's). */
const pgDatabase = (s: Servers, db: string) => ({
  url: pgUrlFor(s, db),
  table: `"${SOURCE_DB}".${TABLE}`,
  drop: () => execSql(s.pg.url, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`),
  create: async (withSchema: boolean) => {
    await execSql(s.pg.url, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    await execSql(s.pg.url, `CREATE DATABASE "${db}"`);
    if (withSchema) await execSql(pgUrlFor(s, db), `CREATE SCHEMA "${SOURCE_DB}"`);
  },
});

export function benchPaths(s: Servers): Record<PathId, BenchPath> {
  const mysqlSource = { dbType: 'mysql' as const, url: s.mysql.url, table: `\`${SOURCE_DB}\`.${TABLE}` };
  const pgSource = { dbType: 'pg' as const, url: s.pg.url, table: `"${SOURCE_DB}".${TABLE}` };
  const mm = mysqlTarget(s, `${SOURCE_DB}_mm`);
  const mmDump = mysqlTarget(s, `${SOURCE_DB}_dump`);
  const pp = pgSchemaTarget(s, `${SOURCE_DB}_pp`);
  const mp = pgSchemaTarget(s, `${SOURCE_DB}_mp`);
  const ppDump = pgDatabase(s, `${SOURCE_DB}_dump`);
  const mpLoader = pgDatabase(s, `${SOURCE_DB}_pgloader`);
  const my = mysqlCliArgs(s).join(' ');
  return {
    mm: {
      id: 'mm',
      label: 'mysql->mysql',
      source: mysqlSource,
      ferry: {
        dbType: 'mysql', db: `${SOURCE_DB}_mm`, ...mm,
        prepare: () => execSql(s.mysql.url, `DROP DATABASE IF EXISTS \`${SOURCE_DB}_mm\`; CREATE DATABASE \`${SOURCE_DB}_mm\`; ${MYSQL_DDL(`${SOURCE_DB}_mm`)};`),
      },
      peer: {
        name: 'mysqldump | mysql', pkg: 'mariadb-client', bin: 'mysqldump', ...mmDump,
        prepare: () => execSql(s.mysql.url, `DROP DATABASE IF EXISTS \`${SOURCE_DB}_dump\`; CREATE DATABASE \`${SOURCE_DB}_dump\`;`),
        // Defaults of both tools (extended inserts, keys as in the source), as a user would type it.
        argv: () => shell(`mysqldump ${my} --single-transaction ${SOURCE_DB} ${TABLE} | mysql ${my} ${SOURCE_DB}_dump`),
      },
      goalRatio: 1.0,
    },
    pp: {
      id: 'pp',
      label: 'pg->pg',
      source: pgSource,
      ferry: {
        dbType: 'pg', db: `${SOURCE_DB}_pp`, ...pp,
        prepare: () => execSql(s.pg.url, `DROP SCHEMA IF EXISTS "${SOURCE_DB}_pp" CASCADE; CREATE SCHEMA "${SOURCE_DB}_pp"; ${PG_DDL(`${SOURCE_DB}_pp`)}`),
      },
      peer: {
        name: 'pg_dump | psql', pkg: 'postgresql-client', bin: 'pg_dump', ...ppDump,
        prepare: () => ppDump.create(true),
        argv: () =>
          shell(
            `pg_dump ${pgCliArgs(s, s.pg.db).join(' ')} -t '${q(`${SOURCE_DB}.${TABLE}`)}' | ` +
              `psql -X -q -v ON_ERROR_STOP=1 ${pgCliArgs(s, `${SOURCE_DB}_dump`).join(' ')} >/dev/null`,
          ),
      },
      goalRatio: 0.8,
    },
    mp: {
      id: 'mp',
      label: 'mysql->pg',
      source: mysqlSource,
      ferry: {
        dbType: 'pg', db: `${SOURCE_DB}_mp`, ...mp,
        prepare: () => execSql(s.pg.url, `DROP SCHEMA IF EXISTS "${SOURCE_DB}_mp" CASCADE; CREATE SCHEMA "${SOURCE_DB}_mp"; ${PG_DDL(`${SOURCE_DB}_mp`)}`),
      },
      peer: {
        name: 'pgloader', pkg: 'pgloader', bin: 'pgloader', ...mpLoader,
        // pgloader creates the schema (named after the MySQL database) and the table itself.
        prepare: () => mpLoader.create(false),
        // Debian's build stops with "Heap exhausted" on 5M sysbench rows at SBCL's default 1 GB heap;
        // 4 GB (its documented remedy) lets it finish and does not slow it down at 1M.
        argv: () => ['pgloader', '--dynamic-space-size', '4096', `mysql://${s.mysql.user}@${s.mysql.host}:${s.mysql.port}/${SOURCE_DB}`, pgUrlFor(s, `${SOURCE_DB}_pgloader`).replace(/^postgres:/, 'postgresql:')],
      },
      goalRatio: 1.5,
    },
  };
}
