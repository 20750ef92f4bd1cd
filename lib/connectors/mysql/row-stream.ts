/**
 * A streaming SELECT delivered in arrays of decoded rows, with socket-level backpressure.
 *
 * Why not mysql2's `query().stream()`: an object-mode Readable costs an event and an async-iterator step
 * per row; on a 2-core box it read the sysbench table at ~270k rows/s against ~900k for keyset pages.
 * Collecting rows from the 'result' events into arrays, and pausing the connection when `high` rows
 * wait unread, keeps memory bounded at the same cost per row as a buffered page.
 */
import type { Connection as CoreConnection } from 'mysql2';
import { abortError } from '../../core/signal.ts';
import type { Row } from '../../core/values.ts';

export async function* rowArrays(
  core: CoreConnection,
  sql: string,
  decode: (arr: unknown[]) => Row,
  high: number,
  signal: AbortSignal,
): AsyncGenerator<Row[]> {
  let buf: Row[] = [];
  let done = false;
  let err: unknown;
  let paused = false;
  let wake: (() => void) | undefined;
  const want = Math.max(1, high >> 1);
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const resume = () => {
    if (paused) {
      paused = false;
      core.resume();
    }
  };
  const q = core.query({ sql, rowsAsArray: true });
  q.on('result', (r) => {
    buf.push(decode(r as unknown as unknown[]));
    if (!paused && buf.length >= high) {
      paused = true;
      core.pause();
    }
    if (buf.length >= want) poke();
  });
  q.on('end', () => {
    done = true;
    poke();
  });
  q.on('error', (e) => {
    err ??= e;
    done = true;
    poke();
  });
  const onAbort = () => {
    err ??= abortError(signal);
    done = true;
    poke();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (!done && buf.length < want) {
        resume();
        await new Promise<void>((r) => (wake = r));
      }
      if (err) throw err;
      if (buf.length) {
        const out = buf;
        buf = [];
        resume();
        yield out;
      } else if (done) return;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * One SELECT's rows, each decoded as its packet arrives. Same result as a buffered query mapped through
 * `decode`, but the driver's row arrays die young (in the scavenger) instead of living as long as the page
 * and being promoted: on 50,000-row sysbench pages this cut ferry's CPU and peak RSS (docs/benchmarks.md).
 * Rejects with the driver's error; the caller handles aborts (it destroys the connection).
 */
export function decodedRows(core: CoreConnection, sql: string, decode: (arr: unknown[]) => Row): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const rows: Row[] = [];
    const q = core.query({ sql, rowsAsArray: true });
    q.on('result', (r) => {
      rows.push(decode(r as unknown as unknown[]));
    });
    q.on('error', reject);
    q.on('end', () => resolve(rows));
  });
}
