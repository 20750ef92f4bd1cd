import { join } from 'node:path';
import { createLogger, type Logger, type LogLevel } from '../core/logger.ts';
import type { CheckpointStore } from '../core/checkpoint.ts';
import type { TaskConfig } from '../config/types.ts';
import { loadTaskConfig } from '../config/load.ts';
import { createCheckpointStore } from '../checkpoint/create-store.ts';

export interface CliContext {
  cfg: TaskConfig;
  logger: Logger;
  store: CheckpointStore;
  interactive: boolean;
}

export interface CommonFlags {
  logLevel?: string;
  progress?: boolean;
}

/**
 * Loads and validates the task config, builds the logger (JSON lines; to `runtime.log_dir/ferry.log` when
 * set, else stderr -- on a TTY with progress bars only warnings reach the terminal) and the checkpoint store.
 */
export async function openContext(configPath: string, flags: CommonFlags): Promise<CliContext> {
  const interactive = Boolean(process.stderr.isTTY) && flags.progress !== false;
  const { config: cfg, warnings } = await loadTaskConfig(configPath);
  const level = (flags.logLevel ?? cfg.runtime.logLevel) as LogLevel;
  const logger = createLogger({
    level: interactive && !cfg.runtime.logDir ? (level === 'debug' || level === 'trace' ? level : 'warn') : level,
    destination: cfg.runtime.logDir ? join(cfg.runtime.logDir, 'ferry.log') : undefined,
  }).child({ taskId: cfg.taskId });
  for (const w of warnings) logger.warn(w, { kind: 'config' });
  if (interactive) for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const store = await createCheckpointStore(cfg.checkpoint, { logger });
  return { cfg, logger, store, interactive };
}

/** The handler of the task running now: a process runs its tasks one after another (`ferry run a.ini b.ini`). */
let active: ((sig: NodeJS.Signals) => void) | undefined;

/**
 * An AbortController that fires on the first SIGINT/SIGTERM (soft stop); a second signal exits at once.
 * Replaces the previous task's handlers, so only the running task hears signals.
 */
export function stopOnSignals(logger: Logger): AbortController {
  if (active) {
    process.off('SIGINT', active);
    process.off('SIGTERM', active);
  }
  const ac = new AbortController();
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    count += 1;
    if (count > 1) process.exit(130);
    logger.warn('stopping: finishing batches in flight and saving progress', { signal: sig });
    if (process.stderr.isTTY) process.stderr.write(`\n${sig}: saving progress (again to quit at once)\n`);
    ac.abort(new Error(sig));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  active = handler;
  return ac;
}
