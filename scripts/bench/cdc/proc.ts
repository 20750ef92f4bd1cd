import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';

/** Figures of a live process from /proc (Linux): memory of one process, CPU of a process tree. */
const TICKS = 100; // USER_HZ

const status = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
};
const kb = (st: string | undefined, key: string): number | undefined => {
  const m = st ? new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(st) : null;
  return m ? Number(m[1]) : undefined;
};

/** Peak resident set (VmHWM) in MB. */
export const peakRssMb = (pid: number): number | undefined => {
  const k = kb(status(pid), 'VmHWM');
  return k === undefined ? undefined : Math.round(k / 1024);
};
export const rssMb = (pid: number): number | undefined => {
  const k = kb(status(pid), 'VmRSS');
  return k === undefined ? undefined : Math.round(k / 1024);
};

/**
 * Resets VmHWM to the current RSS (`echo 5 > /proc/pid/clear_refs`, Linux >= 4.0), so the peak of one phase
 * is read without the phases before it. False when the kernel refuses (the peak then covers the process life).
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

function stat(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds (user + system) of one process -- all its threads -- or, with `tid`, of one of its threads. */
export function cpuSeconds(pid: number, tid?: number): number {
  const f = tid === undefined ? stat(pid) : taskStat(pid, tid);
  return f ? (Number(f[11]) + Number(f[12])) / TICKS : 0;
}

function taskStat(pid: number, tid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds used so far by a process, its threads and all its descendants, live or reaped: mariadbd is
 * one process; a PostgreSQL postmaster's backends (walsenders, apply workers, sessions) are live children
 * whose time reaches its cutime only once they exit, so they are summed one by one.
 */
export function treeCpuSeconds(pid: number): number {
  const f = stat(pid);
  if (!f) return 0;
  // utime, stime, cutime, cstime are fields 14..17 (indexes 11..14 after the command name).
  let sum = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICKS;
  for (const c of children(pid)) sum += treeCpuSeconds(c);
  return sum;
}

/** The PID in the first line of a pid file (scripts/services.sh writes them), if the process lives. */
export function pidFromFile(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0].trim());
    if (!pid) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Jiffies of the whole machine so far (/proc/stat): busy = everything but idle and iowait. */
function boxJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - (f[4] ?? 0), total };
}

/** Starts measuring how busy the whole machine is; the returned function gives the busy share (0..1) since. */
export function boxBusy(): () => number {
  const a = boxJiffies();
  return () => {
    const b = boxJiffies();
    return b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
  };
}

/**
 * Local ports of a process's TCP connections to `remotePort` (its fds' socket inodes matched against
 * /proc/net/tcp{,6}): how a server-side session (e.g. a binlog dump thread, whose PROCESSLIST host is
 * "127.0.0.1:<port>") is told to belong to this client process.
 */
export function tcpClientPorts(pid: number, remotePort: number): Set<number> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      } catch {
        /* fd closed meanwhile */
      }
    }
  } catch {
    return new Set();
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9])) continue;
      const local = parseInt(f[1].split(':')[1], 16);
      const remote = parseInt(f[2].split(':')[1], 16);
      if (remote === remotePort) ports.add(local);
    }
  }
  return ports;
}
