import { readFileSync, writeFileSync } from 'node:fs';

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
