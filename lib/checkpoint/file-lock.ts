import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { FerryError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { sleep, throwIfAborted } from '../core/signal.ts';
import { ioError } from './file-io.ts';

/*
 * A per-key lock file shared by every process on one host: created with O_EXCL (`wx`), holding
 * `{ pid, host, token }`, removed on release.
 *
 * Invariants:
 * - A holder that passes `verify()` owned the lock at that instant. A lock is broken only when it is stale
 *   (its holder's PID is gone on this host, or it is older than `staleMs`); breaking is a rename to a unique
 *   name, never an unlink of whatever is there, and a holder whose lock was broken finds out in `verify()`,
 *   which the store calls immediately before its commit (rename). So a wrongly broken lock (a live holder
 *   paused past `staleMs`, or two breakers racing) costs a retry, not a lost update -- except if the break
 *   lands in the microseconds between a holder's verify and its rename.
 * - Waiting is bounded by `waitMs` (then CP003, retryable) and stops at once on `signal` (RT001).
 */

/** How long to wait, when a lock counts as stale, and what to name in messages. */
export interface FileLockOptions {
  waitMs: number;
  staleMs: number;
  /** The key (or lease) the lock guards, for messages and logs. */
  what: string;
  logger: Logger;
  signal?: AbortSignal;
}

/** A lock we created; valid until `release()` or until someone breaks it as stale (then `verify()` throws). */
export interface HeldLock {
  /** True when acquiring had to break a stale lock: a writer died here, so its temp files may be left. */
  readonly brokeStale: boolean;
  /** Throws {@link LockLostError} when the lock file is no longer ours. */
  verify(): Promise<void>;
  /** Removes the lock when it is still ours; never throws (a failed release only delays others). */
  release(): Promise<void>;
}

/** Raised by `verify()`: someone broke our lock; the store retries the whole read-decide-write. */
export class LockLostError extends FerryError {
  constructor(what: string) {
    super('CP003', `checkpoint: lost the lock on "${what}" before committing (it was broken as stale)`, { details: { key: what } });
  }
}

interface Seen {
  ino: number;
  mtimeMs: number;
  pid?: number;
  host?: string;
  token?: string;
}

const HOST = hostname();
const MAX_POLL_MS = 25;
/** A lock file without a readable body older than this is a dead creator's (see staleReason). */
export const TORN_LOCK_GRACE_MS = 200;

/** Takes the lock at `lockPath` (its directory must exist), waiting and breaking stale locks as needed. */
export async function acquireFileLock(lockPath: string, o: FileLockOptions): Promise<HeldLock> {
  const token = randomBytes(12).toString('hex');
  const body = JSON.stringify({ pid: process.pid, host: HOST, token, at: Date.now() });
  const deadline = Date.now() + o.waitMs;
  let brokeStale = false;
  let delay = 1;
  for (;;) {
    throwIfAborted(o.signal);
    if (await tryCreate(lockPath, body, o.what)) return held(lockPath, token, brokeStale, o);
    const seen = await inspect(lockPath, o.what);
    if (!seen) continue; // released between our attempt and the look: try again at once
    const why = staleReason(seen, o.staleMs);
    if (why) {
      await breakLock(lockPath, seen, why, o);
      brokeStale = true;
      continue;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const holder = seen.pid === undefined ? 'an unknown process' : `pid ${seen.pid} on ${seen.host}`;
      throw new FerryError('CP003', `checkpoint: timed out after ${o.waitMs}ms waiting for the lock on "${o.what}" (held by ${holder} for ${Math.round(Date.now() - seen.mtimeMs)}ms; lock file ${lockPath})`, {
        details: { key: o.what, lock: lockPath, holderPid: seen.pid },
      });
    }
    // Jitter keeps many waiters from polling in lock-step.
    await sleep(Math.min(delay, left) * (0.5 + Math.random()), o.signal);
    delay = Math.min(delay * 2, MAX_POLL_MS);
  }
}

async function tryCreate(lockPath: string, body: string, what: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(lockPath, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw ioError(e, 'lock', what);
  }
  try {
    await fh.writeFile(body);
    await fh.close();
    return true;
  } catch (e) {
    // A lock we created but could not fill would otherwise block everyone until it goes stale.
    await fh.close().catch(() => {});
    await unlink(lockPath).catch(() => {});
    throw ioError(e, 'lock', what);
  }
}

async function inspect(path: string, what: string): Promise<Seen | undefined> {
  try {
    const st = await stat(path);
    const seen: Seen = { ino: st.ino, mtimeMs: st.mtimeMs };
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<Seen>;
      if (typeof parsed.pid === 'number') seen.pid = parsed.pid;
      if (typeof parsed.host === 'string') seen.host = parsed.host;
      if (typeof parsed.token === 'string') seen.token = parsed.token;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      // Empty or torn (its creator is mid-write, or crashed there): judged by age alone (see staleReason).
    }
    return seen;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(e, 'lock', what);
  }
}

function staleReason(seen: Seen, staleMs: number): string | undefined {
  if (seen.host === HOST && seen.pid !== undefined && seen.pid !== process.pid && !processAlive(seen.pid)) {
    return `holder pid ${seen.pid} is gone`;
  }
  const age = Date.now() - seen.mtimeMs;
  // No readable body: its creator was killed between creating the file and writing into it (a live creator
  // writes a few dozen bytes right after the create). Breaking a live one by mistake costs it a retry, never
  // a lost write: its verify() fails before the commit.
  if (seen.token === undefined && age > TORN_LOCK_GRACE_MS) return `empty or torn for ${Math.round(age)}ms (its creator died mid-write)`;
  if (age > staleMs) return `held for ${Math.round(age)}ms (stale after ${staleMs}ms)`;
  return undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Moves the stale lock aside (atomic), then checks that what moved is the lock we judged: two breakers may
 * race, and the later one would otherwise remove the fresh lock of the earlier one. If we did move a fresh
 * lock, its holder fails `verify()` and retries; we do not put it back, because its holder may already have
 * given up on it and a restored lock would then block everyone until stale.
 */
async function breakLock(lockPath: string, seen: Seen, why: string, o: FileLockOptions): Promise<void> {
  const grave = `${lockPath}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(lockPath, grave);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw ioError(e, 'lock', o.what);
  }
  const moved = await inspect(grave, o.what);
  await unlink(grave).catch(() => {});
  const same = moved !== undefined && (seen.token !== undefined ? moved.token === seen.token : moved.ino === seen.ino && moved.mtimeMs === seen.mtimeMs);
  o.logger.warn(same ? 'checkpoint: broke a stale lock' : 'checkpoint: raced another process breaking a stale lock', {
    key: o.what,
    lock: lockPath,
    reason: why,
    holderPid: seen.pid,
  });
}

function held(lockPath: string, token: string, brokeStale: boolean, o: FileLockOptions): HeldLock {
  const ours = async (): Promise<boolean> => {
    try {
      return (JSON.parse(await readFile(lockPath, 'utf8')) as { token?: unknown }).token === token;
    } catch {
      return false;
    }
  };
  return {
    brokeStale,
    async verify() {
      if (!(await ours())) throw new LockLostError(o.what);
    },
    async release() {
      try {
        if (await ours()) await unlink(lockPath);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          o.logger.warn('checkpoint: could not remove lock file; others wait until it is stale', { key: o.what, lock: lockPath, err: e as Error });
        }
      }
    },
  };
}
