import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure, type Measured } from '../support/measure.ts';
import { repoRoot } from '../support/servers.ts';
import { ferryEntry } from '../support/ferry-cli.ts';
import { SOURCE_DB, TABLE } from './dataset.ts';
import { ferryTaskConfig } from './ferry-config.ts';
import type { BenchPath } from './paths.ts';

export interface FerryRun extends Measured {
  configFile: string;
  logFile: string;
  /** ferry's own JSON summary (`run --json`), when it printed one. */
  summary?: { status: string; rows: number; seconds: number; rowsPerSec: number; chunks: number; errors: unknown[] };
  cpuProfile?: string;
}

export interface FerryKnobs {
  parallel: number;
  batch: number;
  chunkRows: number;
  buffer?: number;
  cpuProf: boolean;
  timeoutSec: number;
  extra: Array<{ section: string; key: string; value: string }>;
}

/** Writes the generated task_config.ini of one ferry task into its own folder under workDir. */
function writeTask(path: BenchPath, knobs: FerryKnobs, workDir: string, round: number, phase: string): { dir: string; configFile: string } {
  const tag = `${path.id}-p${knobs.parallel}-b${knobs.batch}-c${knobs.chunkRows}${knobs.buffer ? `-q${knobs.buffer}` : ''}${phase ? `-${phase}` : ''}`;
  // One folder per round: a failed run's log and config stay next to the runs that passed.
  const dir = join(workDir, `${tag}-r${round}`);
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'task_config.ini');
  writeFileSync(
    configFile,
    ferryTaskConfig({
      taskId: `bench_${tag.replace(/[^A-Za-z0-9_-]/g, '_')}`,
      source: { dbType: path.source.dbType, url: path.source.url, db: SOURCE_DB, tb: TABLE },
      target: { dbType: path.ferry.dbType, url: path.ferry.url, db: path.ferry.db },
      parallel: knobs.parallel,
      batch: knobs.batch,
      chunkRows: knobs.chunkRows,
      buffer: knobs.buffer,
      checkpointDir: join(dir, 'checkpoint'),
      extra: knobs.extra,
    }),
  );
  return { dir, configFile };
}

/**
 * One `ferry run` process as a user runs it, on one or more generated task configs (run in order), `--init` so
 * an earlier run's checkpoints never skip work. The target table must already exist and be empty unless the
 * configs create it. The summary reported is the snapshot task's.
 */
async function runTasks(configFiles: string[], dir: string, knobs: FerryKnobs): Promise<FerryRun> {
  const profDir = join(dir, 'cpu-prof');
  const node = [process.execPath, ...(knobs.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [])];
  const logFile = join(dir, 'ferry.log');
  const m = await measure([...node, ferryEntry(), 'run', ...configFiles, '--init', '--no-progress', '--json'], {
    cwd: repoRoot,
    stderrFile: logFile,
    memory: true,
    timeoutMs: knobs.timeoutSec * 1000,
  });
  let summary: FerryRun['summary'];
  for (const line of m.stdout.trim().split('\n').reverse()) {
    try {
      const j = line.startsWith('{') ? JSON.parse(line) : undefined;
      if (j && typeof j.rows === 'number' && typeof j.status === 'string') {
        summary = j;
        break;
      }
    } catch {
      // not a summary line
    }
  }
  const prof = knobs.cpuProf ? readdirSafe(profDir).find((f) => f.endsWith('.cpuprofile')) : undefined;
  return { ...m, configFile: configFiles[configFiles.length - 1], logFile, summary, cpuProfile: prof ? join(profDir, prof) : undefined };
}

/** One `ferry run` of the copy task (a child process, as a user runs it). */
export async function runFerry(path: BenchPath, knobs: FerryKnobs, workDir: string, round = 0, phase = ''): Promise<FerryRun> {
  const { dir, configFile } = writeTask(path, knobs, workDir, round, phase);
  return runTasks([configFile], dir, knobs);
}

/** A struct task's extra keys: the same endpoints, filter and router as the copy, only these phases. */
const structKeys = (phases: string) => [
  { section: 'extractor', key: 'extract_type', value: 'struct' },
  { section: 'sinker', key: 'sink_type', value: 'struct' },
  { section: 'filter', key: 'do_structures', value: phases },
];

/**
 * The whole migration as an ape-dts user runs it against an empty target: struct (database,table), the
 * snapshot, struct (constraint,index). Three `ferry run` processes (seconds and CPU summed, RSS the highest of
 * the three), or with `oneCommand` one `ferry run struct1.ini copy.ini struct2.ini`. The copy's summary is
 * reported. Fails (code != 0) as soon as one step does.
 */
export async function runFerryWithStruct(path: BenchPath, knobs: FerryKnobs, workDir: string, round = 0, oneCommand = false): Promise<FerryRun> {
  const first = { ...knobs, extra: [...knobs.extra, ...structKeys('database,table')] };
  const last = { ...knobs, extra: [...knobs.extra, ...structKeys('constraint,index')] };
  if (oneCommand) {
    const tasks = [writeTask(path, first, workDir, round, 'one-struct1'), writeTask(path, knobs, workDir, round, 'one'), writeTask(path, last, workDir, round, 'one-struct2')];
    return runTasks(tasks.map((t) => t.configFile), tasks[1].dir, knobs);
  }
  const before = await runFerry(path, first, workDir, round, 'struct1');
  if (before.code !== 0) return { ...before, summary: undefined };
  const copy = await runFerry(path, knobs, workDir, round);
  if (copy.code !== 0) return copy;
  const after = await runFerry(path, last, workDir, round, 'struct2');
  const all = [before, copy, after];
  const sum = (f: (m: FerryRun) => number | undefined) => (all.every((m) => f(m) !== undefined) ? all.reduce((a, m) => a + f(m)!, 0) : undefined);
  return {
    ...copy,
    code: after.code,
    timedOut: all.some((m) => m.timedOut),
    seconds: sum((m) => m.seconds)!,
    cpuSeconds: sum((m) => m.cpuSeconds),
    peakRssMb: Math.max(...all.map((m) => m.peakRssMb ?? 0)) || undefined,
    logFile: after.code !== 0 ? after.logFile : copy.logFile,
  };
}

const readdirSafe = (d: string): string[] => {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
};
