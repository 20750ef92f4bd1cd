import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { repoRoot } from '../support/servers.ts';
import { ferryEntry } from '../support/ferry-cli.ts';
import { track } from './children.ts';
import { peakRssMb, resetPeakRss, rssMb, treeCpuSeconds } from './proc.ts';

/**
 * `ferry run <task_config.ini>` as a long-lived child, as a user (or the CDC container) runs it: the bench
 * watches its log, its memory and its CPU while feeding the source, and stops it with SIGTERM (drain, final
 * checkpoint, exit 0).
 */
export class FerryCdcProcess {
  readonly startedAt = performance.now();
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private log = '';
  private out: WriteStream;
  /** performance.now() when each log message was first seen (e.g. "cdc resumes": streaming begins). */
  readonly firstSeen = new Map<string, number>();

  private constructor(
    private child: ChildProcess,
    readonly logFile: string,
  ) {
    this.out = createWriteStream(logFile, { flags: 'a' });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.out.write(d);
      // Only the recent tail is searched (waitForLog); the whole log is in logFile.
      this.log = (this.log + d).slice(-200_000);
      const now = performance.now();
      for (const m of d.matchAll(/"msg":"([^"]*)"/g)) if (!this.firstSeen.has(m[1])) this.firstSeen.set(m[1], now);
    });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => this.out.write(d));
    const untrack = track(() => this.kill());
    this.exited = new Promise((resolve) =>
      child.on('close', (code) => {
        untrack();
        this.exitCode = code;
        this.out.end();
        resolve(code);
      }),
    );
  }

  static start(configFile: string, o: { logFile: string; cpuProfDir?: string; nodeFlags?: string[]; env?: NodeJS.ProcessEnv }): FerryCdcProcess {
    const node = [process.execPath, ...(o.nodeFlags ?? []), ...(o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : [])];
    const child = spawn(node[0], [...node.slice(1), ferryEntry(), 'run', configFile, '--no-progress'], {
      cwd: repoRoot,
      env: { ...process.env, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new FerryCdcProcess(child, o.logFile);
  }

  get pid(): number {
    return this.child.pid!;
  }
  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Throws when ferry has exited (a catch-up wait calls this between polls). */
  assertRunning(): void {
    if (!this.running) throw new Error(`ferry exited with code ${this.exitCode}; see ${this.logFile}`);
  }

  /** Resolves when a log line matches (e.g. the CDC start); throws when ferry exits or time runs out. */
  async waitForLog(re: RegExp, timeoutMs: number): Promise<number> {
    const end = performance.now() + timeoutMs;
    while (!re.test(this.log)) {
      this.assertRunning();
      if (performance.now() > end) throw new Error(`ferry did not log ${re} within ${timeoutMs / 1000} s; see ${this.logFile}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return performance.now();
  }

  peakRssMb = (): number | undefined => peakRssMb(this.pid);
  rssMb = (): number | undefined => rssMb(this.pid);
  resetPeak = (): boolean => resetPeakRss(this.pid);
  cpuSeconds = (): number => treeCpuSeconds(this.pid);

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null when killed). */
  async stop(graceMs = 30_000): Promise<number | null> {
    if (!this.running) return this.exitCode ?? null;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  /** For the bench's exit hook: no waiting. */
  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
