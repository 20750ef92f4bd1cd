import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { toFerryError } from './errors.ts';
import { cancellable, runQuery } from './pool.ts';
import type { PgTarget } from './config.ts';
import { copyLine } from './copy.ts';
import { writeCopyPage } from './copy-wire.ts';

/** One pooled connection plus what every statement on it needs: where it goes, the signal, message context. */
export interface Session {
  client: PoolClient;
  target: PgTarget;
  signal: AbortSignal;
  ctx: string;
}

export async function exec(s: Session, text: string, values?: Array<string | null>, name?: string): Promise<number> {
  const res = await runQuery(s.client, s.target, { text, values, name }, s.signal, s.ctx);
  return res.rowCount ?? 0;
}

/**
 * `COPY ... FROM STDIN` of already-encoded rows; cancelled on abort. One batch is already in memory as rows,
 * so its COPY text is built whole and written in one go (cheaper than a stream pipeline per batch).
 */
export async function copyIn(s: Session, sql: string, rows: Array<Array<string | null>>): Promise<void> {
  let text = '';
  for (const r of rows) text += copyLine(r);
  await cancellable(s.client, s.target, s.signal, async () => {
    try {
      const stream = s.client.query(copyFrom(sql));
      await new Promise<void>((resolve, reject) => {
        stream.on('error', reject);
        stream.on('finish', resolve);
        stream.end(text);
      });
    } catch (e) {
      throw toFerryError(e, s.ctx);
    }
  });
}

/** `COPY ... FROM STDIN` fed with whole CopyData messages as they are (a raw page); cancelled on abort. */
export async function copyRaw(s: Session, sql: string, chunks: Buffer[]): Promise<void> {
  await cancellable(s.client, s.target, s.signal, async () => {
    try {
      await writeCopyPage(s.client, sql, chunks);
    } catch (e) {
      throw toFerryError(e, s.ctx);
    }
  });
}

/** BEGIN, `fn`, COMMIT; ROLLBACK on failure (so the connection goes back to the pool clean). */
export async function inTransaction<T>(s: Session, fn: () => Promise<T>): Promise<T> {
  await exec(s, 'BEGIN');
  try {
    const out = await fn();
    await exec(s, 'COMMIT');
    return out;
  } catch (e) {
    await s.client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** Runs `fn` inside a savepoint; on failure rolls back to it (the transaction stays usable) and rethrows. */
export async function inSavepoint<T>(s: Session, fn: () => Promise<T>): Promise<T> {
  await exec(s, 'SAVEPOINT ferry_sp');
  try {
    const out = await fn();
    await exec(s, 'RELEASE SAVEPOINT ferry_sp');
    return out;
  } catch (e) {
    await exec(s, 'ROLLBACK TO SAVEPOINT ferry_sp');
    await exec(s, 'RELEASE SAVEPOINT ferry_sp');
    throw e;
  }
}
