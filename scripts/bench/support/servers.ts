import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Where the bench finds its servers: the project's own MariaDB and PostgreSQL (scripts/services.sh), on the
 * ports that script uses, so FERRY_MYSQL_PORT / FERRY_PG_PORT / FERRY_SERVICES_DIR select another instance
 * for the bench exactly as they do for the tests.
 */
export interface Servers {
  mysql: { host: string; port: number; user: string; url: string };
  pg: { host: string; port: number; user: string; db: string; url: string };
}

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function servers(env: NodeJS.ProcessEnv = process.env): Servers {
  const myPort = Number(env.FERRY_MYSQL_PORT ?? 53306);
  const pgPort = Number(env.FERRY_PG_PORT ?? 55432);
  return {
    mysql: { host: '127.0.0.1', port: myPort, user: 'root', url: `mysql://root@127.0.0.1:${myPort}` },
    pg: { host: '127.0.0.1', port: pgPort, user: 'postgres', db: 'postgres', url: `postgres://postgres@127.0.0.1:${pgPort}/postgres` },
  };
}

/** A postgres:// URL for another database on the same server (pg_dump and pgloader targets). */
export const pgUrlFor = (s: Servers, db: string): string => `postgres://${s.pg.user}@${s.pg.host}:${s.pg.port}/${db}`;

/** mysql/mysqldump client arguments: TCP like ferry, never the socket, never ~/.my.cnf. */
export const mysqlCliArgs = (s: Servers): string[] => ['--no-defaults', '--protocol=TCP', `-h${s.mysql.host}`, `-P${s.mysql.port}`, `-u${s.mysql.user}`];

/** psql/pg_dump connection arguments. */
export const pgCliArgs = (s: Servers, db: string): string[] => ['-h', s.pg.host, '-p', String(s.pg.port), '-U', s.pg.user, '-d', db];

/** Starts the servers when they are not up (idempotent; installs the Debian packages when root). */
export function ensureServers(): void {
  execFileSync('bash', [`${repoRoot}scripts/services.sh`, 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
}
