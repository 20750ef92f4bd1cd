import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What one measured child process did. */
export interface Measured {
  code: number | null;
  /** Stopped by `timeoutMs`. */
  timedOut: boolean;
  seconds: number;
  /** CPU seconds (user + system) of the process and its children, from GNU time. */
  cpuSeconds?: number;
  /** Peak RSS of the measured process in MB: GNU time's %M (exact), else the highest VmHWM polled. */
  peakRssMb?: number;
  /** VmRSS polled every `sampleMs` (t in seconds since start, MB), for "does memory stay flat". */
  rss: Array<[number, number]>;
  stdout: string;
}

export interface MeasureOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stderr goes to this file (logs can be large; the table stays readable). */
  stderrFile: string;
  /** Poll the command's RSS over time (ferry); otherwise only GNU time's peak is taken. */
  memory?: boolean;
  sampleMs?: number;
  /** Stop a hung run: SIGTERM after this many ms (ferry then saves progress), SIGKILL 10 s later. */
  timeoutMs?: number;
}

const GNU_TIME = '/usr/bin/time';
const kbLine = (status: string, key: string): number | undefined => {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : undefined;
};
const readStatus = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined; // exited between samples
  }
};
/** The measured process itself, or (under GNU time) its one child. */
const targetPid = (pid: number, wrapped: boolean): number | undefined => {
  if (!wrapped) return pid;
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return kids.length ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Runs `argv` and times its wall clock from spawn to exit, under GNU time when /usr/bin/time exists (CPU
 * seconds of the whole command, pipelines included; its "maximum resident set size" catches a peak between
 * two polls). With `memory` it also polls /proc/<pid>/status for the RSS timeline.
 */
export async function measure(argv: string[], o: MeasureOptions): Promise<Measured> {
  const wrapped = existsSync(GNU_TIME);
  const timeFile = join(tmpdir(), `ferry-bench-time-${process.pid}-${Date.now()}`);
  const cmd = wrapped ? [GNU_TIME, '-f', '%M %U %S', '-o', timeFile, ...argv] : argv;
  const errFd = openSync(o.stderrFile, 'w');
  const t0 = performance.now();
  const child = spawn(cmd[0], cmd.slice(1), { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', errFd] });
  closeSync(errFd);
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const rss: Array<[number, number]> = [];
  let hwmKb = 0;
  const sample = () => {
    const pid = child.pid && targetPid(child.pid, wrapped);
    const st = pid ? readStatus(pid) : undefined;
    if (!st) return;
    const now = kbLine(st, 'VmRSS');
    hwmKb = Math.max(hwmKb, kbLine(st, 'VmHWM') ?? 0);
    if (now !== undefined) rss.push([Math.round((performance.now() - t0) / 100) / 10, Math.round(now / 1024)]);
  };
  const timer = o.memory ? setInterval(sample, o.sampleMs ?? 250) : undefined;
  let timedOut = false;
  const killer = o.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }, o.timeoutMs)
    : undefined;
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  if (killer) clearTimeout(killer);
  const seconds = (performance.now() - t0) / 1000;
  if (timer) clearInterval(timer);
  let peakKb = hwmKb;
  let cpuSeconds: number | undefined;
  if (wrapped && existsSync(timeFile)) {
    // GNU time puts "Command exited with non-zero status N" first when it did; the figures are last.
    const m = /^(\d+) ([\d.]+) ([\d.]+)$/m.exec(readFileSync(timeFile, 'utf8'));
    if (m) {
      peakKb = Math.max(peakKb, Number(m[1]));
      cpuSeconds = Math.round((Number(m[2]) + Number(m[3])) * 10) / 10;
    }
    rmSync(timeFile, { force: true });
  }
  return { code, timedOut, seconds, cpuSeconds, peakRssMb: peakKb ? Math.round(peakKb / 1024) : undefined, rss, stdout };
}

/** A shell pipeline (peers: `a | b`), failing when any stage fails. */
export const shell = (script: string): string[] => ['bash', '-o', 'pipefail', '-c', script];
