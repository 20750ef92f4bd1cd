import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * CPU seconds the database servers have used so far, read from /proc: mariadbd is one process (its threads
 * are counted in utime/stime); PostgreSQL's backends are children of the postmaster, which reaps them, so
 * their time shows up in its cutime/cstime once the connections close. Diffing two readings around a copy
 * says how the box's CPU was shared between the copy tool and the servers.
 */
const TICKS = 100; // USER_HZ on Linux

function procCpu(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is field 3; utime..cstime are fields 14..17.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS;
  } catch {
    return undefined;
  }
}

const pidFrom = (file: string): number | undefined => {
  try {
    return Number(readFileSync(file, 'utf8').split('\n')[0].trim()) || undefined;
  } catch {
    return undefined;
  }
};

/** The PID files scripts/services.sh writes. */
function serverPids(env: NodeJS.ProcessEnv = process.env): number[] {
  const dir = env.FERRY_SERVICES_DIR ?? join(env.TMPDIR ?? tmpdir(), `ferry-services-${process.getuid?.() ?? 0}`);
  return [pidFrom(join(dir, 'mysql/pid')), pidFrom(join(dir, 'pg/pid'))].filter((p): p is number => p !== undefined);
}

/** CPU seconds one service of scripts/services.sh (`mysql`, `pg`, `clickhouse`) has used so far; undefined when not running. */
export function serviceCpuSeconds(name: 'mysql' | 'pg' | 'clickhouse', env: NodeJS.ProcessEnv = process.env): number | undefined {
  const dir = env.FERRY_SERVICES_DIR ?? join(env.TMPDIR ?? tmpdir(), `ferry-services-${process.getuid?.() ?? 0}`);
  const pid = pidFrom(join(dir, name, 'pid'));
  return pid === undefined ? undefined : procCpu(pid);
}

/** CPU seconds of both servers so far; undefined when they were not started by scripts/services.sh. */
export function serverCpuSeconds(): number | undefined {
  const pids = serverPids();
  if (!pids.length) return undefined;
  let sum = 0;
  for (const p of pids) sum += procCpu(p) ?? 0;
  return sum;
}
