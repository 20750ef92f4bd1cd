import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const bin = new URL('../../bin/ferry.mjs', import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `ferry <args>` as a real child process (no TTY: JSON logs, no bars). */
export function startFerry(args: string[], env: Record<string, string | undefined> = {}): { child: ChildProcess; done: Promise<CliResult>; output: () => string } {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  // What it printed so far: for a test's failure message while the process still runs.
  return { child, done, output: () => stdout + stderr };
}

export const runFerry = (args: string[], env: Record<string, string | undefined> = {}) => startFerry(args, env).done;

/** Writes an ape-dts style INI from sections; returns its path. */
export async function writeIni(dir: string, sections: Record<string, Record<string, string | number | boolean>>, name = 'task_config.ini'): Promise<string> {
  const text = Object.entries(sections)
    .map(([s, kv]) => `[${s}]\n${Object.entries(kv).map(([k, v]) => `${k}=${v}`).join('\n')}\n`)
    .join('\n');
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}
