import cliProgress from 'cli-progress';
import type { Logger } from '../core/logger.ts';

/** Receives snapshot progress; implementations render it (TTY bars) or log it (JSON lines). */
export interface ProgressReporter {
  start(tables: Array<{ id: string; estimatedRows: number; doneRows: number }>): void;
  rows(tableId: string, n: number): void;
  stop(): void;
}

/** One bar per table with rows, rows/s and ETA; for interactive terminals. */
export function ttyProgress(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const multi = new cliProgress.MultiBar(
    {
      stream,
      clearOnComplete: false,
      hideCursor: true,
      format: ' {bar} {percentage}% | {table} | {value}/{total} rows | {speed} rows/s | ETA {eta_formatted}',
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, { bar: cliProgress.SingleBar; value: number; t0: number; v0: number }>();
  return {
    start(tables) {
      for (const t of tables) {
        const total = Math.max(t.estimatedRows, t.doneRows, 1);
        bars.set(t.id, { bar: multi.create(total, t.doneRows, { table: t.id, speed: 0 }), value: t.doneRows, t0: Date.now(), v0: t.doneRows });
      }
    },
    rows(id, n) {
      const b = bars.get(id);
      if (!b) return;
      b.value += n;
      if (b.value > b.bar.getTotal()) b.bar.setTotal(b.value);
      const secs = Math.max(0.001, (Date.now() - b.t0) / 1000);
      b.bar.update(b.value, { speed: Math.round((b.value - b.v0) / secs) });
    },
    stop() {
      multi.stop();
    },
  };
}

/** Logs a JSON line per table at most every `everyMs`, and one at the end; for non-TTY runs. */
export function logProgress(logger: Logger, everyMs = 5000): ProgressReporter {
  const state = new Map<string, { rows: number; est: number; lastLog: number; t0: number }>();
  const emit = (id: string) => {
    const s = state.get(id)!;
    const secs = Math.max(0.001, (Date.now() - s.t0) / 1000);
    logger.info('progress', { table: id, rows: s.rows, estimatedRows: s.est, rowsPerSec: Math.round(s.rows / secs) });
    s.lastLog = Date.now();
  };
  return {
    start(tables) {
      for (const t of tables) state.set(t.id, { rows: t.doneRows, est: t.estimatedRows, lastLog: Date.now(), t0: Date.now() });
    },
    rows(id, n) {
      const s = state.get(id);
      if (!s) return;
      s.rows += n;
      if (Date.now() - s.lastLog >= everyMs) emit(id);
    },
    stop() {
      for (const id of state.keys()) emit(id);
    },
  };
}

export const noProgress: ProgressReporter = { start() {}, rows() {}, stop() {} };
