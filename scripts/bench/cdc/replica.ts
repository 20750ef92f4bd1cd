import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { track } from './children.ts';

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released for the server to take). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface ReplicaOptions {
  dir: string;
  port: number;
  serverId: number;
  /** slave_parallel_threads (0 = the SQL thread applies serially). */
  parallelThreads: number;
  /** replicate_wild_do_table pattern: only the bench's database is replayed (the project server is shared). */
  doTable: string;
}

/**
 * A second MariaDB server in a temp dir, configured as scripts/services.sh configures the project's own
 * (same my.cnf keys and sizes; ROW binlog, log-slave-updates so it binlogs what it applies, as the source does
 * for ferry's target writes), plus the replica keys. Started with `--defaults-file` first so /etc/mysql stays
 * out; stopped by its PID; its directory is removed.
 */
export class MariadbReplica {
  private untrack: () => void = () => undefined;

  private constructor(
    readonly o: ReplicaOptions,
    private child: ChildProcess,
  ) {}

  get url(): string {
    return `mysql://root@127.0.0.1:${this.o.port}`;
  }
  get pid(): number | undefined {
    return this.child.pid;
  }
  get socket(): string {
    return join(this.o.dir, 'mysqld.sock');
  }

  static async start(o: ReplicaOptions): Promise<MariadbReplica> {
    const d = o.dir;
    mkdirSync(join(d, 'data'), { recursive: true });
    mkdirSync(join(d, 'tmp'), { recursive: true });
    const cnf = join(d, 'my.cnf');
    writeFileSync(
      cnf,
      `[mariadbd]
user=${userInfo().username}
datadir=${d}/data
tmpdir=${d}/tmp
socket=${d}/mysqld.sock
pid-file=${d}/mysqld.pid
port=${o.port}
bind-address=127.0.0.1
skip-name-resolve
server-id=${o.serverId}
log-bin=${d}/data/binlog
binlog-format=ROW
binlog-row-image=FULL
binlog-row-metadata=FULL
log-error=${d}/error.log
max-allowed-packet=256M
max-connections=300
innodb-buffer-pool-size=256M
innodb-log-file-size=256M
innodb-flush-log-at-trx-commit=2
sync-binlog=0
local-infile=1
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
# replica
relay-log=${d}/data/relay
log-slave-updates
skip-slave-start
slave-parallel-threads=${o.parallelThreads}
slave-parallel-mode=optimistic
replicate-wild-do-table=${o.doTable}
`,
    );
    execFileSync('mariadb-install-db', [`--defaults-file=${cnf}`, '--auth-root-authentication-method=normal', '--skip-test-db'], {
      stdio: ['ignore', openSync(join(d, 'install.log'), 'w'), 'pipe'],
    });
    const out = openSync(join(d, 'stdout.log'), 'w');
    const child = spawn('/usr/sbin/mariadbd', [`--defaults-file=${cnf}`], { stdio: ['ignore', out, out] });
    closeSync(out);
    const r = new MariadbReplica(o, child);
    r.untrack = track(() => r.kill());
    const end = Date.now() + 60_000;
    while (!r.cli(['-e', 'SELECT 1'], true)) {
      if (child.exitCode !== null || Date.now() > end) {
        r.kill();
        throw new Error(`the replica server did not start (see ${d}/error.log)`);
      }
      await new Promise((res) => setTimeout(res, 200));
    }
    // root over TCP from 127.0.0.1 (skip-name-resolve), as scripts/services.sh does.
    r.cli(['-e', "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"]);
    return r;
  }

  /** The mariadb client over the socket; with `probe`, returns false instead of throwing. */
  private cli(args: string[], probe = false): boolean {
    try {
      execFileSync('mariadb', ['--no-defaults', `--socket=${this.socket}`, '-uroot', ...args], { stdio: 'ignore' });
      return true;
    } catch (e) {
      if (probe) return false;
      throw e;
    }
  }

  /** For exit hooks: no waiting. */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  /** SIGTERM (clean shutdown), SIGKILL after 20 s, then the directory is removed. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const done = new Promise((res) => this.child.once('exit', res));
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
      await done;
      clearTimeout(t);
    }
    this.untrack();
    rmSync(this.o.dir, { recursive: true, force: true });
  }
}
