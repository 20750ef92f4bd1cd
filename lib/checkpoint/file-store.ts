import { randomBytes } from 'node:crypto';
import { readdir, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { CheckpointStore, Lease, PutOptions, Versioned } from '../core/checkpoint.ts';
import { FerryError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import { throwIfAborted } from '../core/signal.ts';
import { atomicReplace, ensureDir, ioError, readRecord, removeFile } from './file-io.ts';
import { acquireFileLock, LockLostError, type HeldLock } from './file-lock.ts';
import { keyPaths, prefixWalk, type KeyPaths } from './file-paths.ts';
import { compareKeys } from './keys.ts';
import { checkFence, decideAcquire, decideRelease, decideRenew } from './lease-rules.ts';
import { itemRecordSchema, leaseStateSchema, type ItemRecord, type LeaseState } from './records.ts';

/** Options of {@link FileCheckpointStore.open}; the defaults suit operations that hold a lock for milliseconds. */
export interface FileCheckpointStoreOptions {
  /** Root directory; created when missing. Items live under `items/`, leases under `leases/`. */
  dir: string;
  logger?: Logger;
  /** Longest wait for a per-key lock before CP003 (default 10 s). */
  lockWaitMs?: number;
  /** A lock older than this is broken even if its holder's PID still exists (default 10 s; ops hold ms). */
  staleLockMs?: number;
}

/** Attempts of one read-decide-write when our lock was broken under us (rare: see file-lock.ts). */
const LOCK_LOST_ATTEMPTS = 5;
/** Files read in parallel by `list`. */
const LIST_PARALLEL = 32;

/**
 * {@link CheckpointStore} on a local directory, safe between async calls and between OS processes on one host.
 *
 * Invariants (beyond the interface's):
 * - One JSON record per key (`items/<encoded segments>.json`, see file-paths.ts) holding the full key, the value,
 *   the version (`<counter>.<random>`) and the writer's fence; leases are the same records under `leases/`.
 * - Every write is read-decide-write under the key's lock file, committed by rename of an fsynced temp file:
 *   readers never lock and never see a torn record; a crashed writer leaves at most a temp file and a lock
 *   that the next writer breaks (dead PID at once, an empty lock file after 200 ms, otherwise after `staleLockMs`).
 * - A fenced write also holds the lease's lock from its epoch check to its commit, so it can never land after
 *   a takeover (stronger than the interface asks).
 * - Values must be JSON (no bigint, no undefined, Dates come back as strings); anything else is RT002.
 * Limits: local disks only -- not NFS/SMB, where O_EXCL, rename and PID checks do not hold across hosts.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly kind = 'file';
  private readonly items: string;
  private readonly leases: string;
  private readonly logger: Logger;
  private readonly lockWaitMs: number;
  private readonly staleLockMs: number;
  private closed = false;

  private constructor(o: FileCheckpointStoreOptions) {
    this.items = join(o.dir, 'items');
    this.leases = join(o.dir, 'leases');
    this.logger = o.logger ?? silentLogger;
    this.lockWaitMs = o.lockWaitMs ?? 10_000;
    this.staleLockMs = o.staleLockMs ?? 10_000;
  }

  /** Opens (creating) the store directory; CP003 when it cannot be created. */
  static async open(o: FileCheckpointStoreOptions): Promise<FileCheckpointStore> {
    const store = new FileCheckpointStore(o);
    await ensureDir(store.items, o.dir);
    await ensureDir(store.leases, o.dir);
    return store;
  }

  async get<T = unknown>(key: string, signal?: AbortSignal): Promise<Versioned<T> | undefined> {
    this.check(key, signal);
    const rec = await this.readItem(keyPaths(this.items, key), key);
    return rec && { value: rec.value as T, version: rec.version };
  }

  async list<T = unknown>(prefix: string, signal?: AbortSignal): Promise<Array<Versioned<T> & { key: string }>> {
    this.check(undefined, signal);
    const { dir, matches } = prefixWalk(this.items, prefix);
    const files: string[] = [];
    await collect(dir, matches, files, signal, prefix);
    const out: Array<Versioned<T> & { key: string }> = [];
    for (let i = 0; i < files.length; i += LIST_PARALLEL) {
      throwIfAborted(signal);
      // A file deleted since readdir reads as undefined and is skipped.
      const recs = await Promise.all(files.slice(i, i + LIST_PARALLEL).map((f) => readRecord(f, itemRecordSchema, f)));
      for (const r of recs) if (r?.key.startsWith(prefix)) out.push({ key: r.key, value: r.value as T, version: r.version });
    }
    return out.sort((a, b) => compareKeys(a.key, b.key));
  }

  async put<T = unknown>(key: string, value: T, opts: PutOptions = {}): Promise<string> {
    this.check(key, opts.signal);
    const { expectedVersion, fence } = opts;
    const paths = keyPaths(this.items, key);
    serialise(key, value); // fail fast, before taking a lock, on values that are not JSON
    return this.locked(paths, key, opts.signal, async (lock) => {
      const current = await this.readItem(paths, key);
      const decideAndWrite = async (verify: () => Promise<void>): Promise<string> => {
        if (expectedVersion === null && current) throw casLost(key, 'it already exists', current.version);
        if (typeof expectedVersion === 'string' && current?.version !== expectedVersion) {
          throw casLost(key, `expected version ${expectedVersion}`, current?.version);
        }
        const rec: ItemRecord = { format: 1, key, version: nextVersion(current), value, writtenAt: Date.now() };
        if (fence) rec.fence = { lease: fence.lease, epoch: fence.epoch };
        await atomicReplace(paths.file, paths.tmpBase, serialise(key, rec), key, verify);
        return rec.version;
      };
      if (!fence) return decideAndWrite(() => lock.verify());
      // Fencing first: a fenced-out writer must stop, whatever its version says. Checked once without the
      // lease's lock (a never-acquired lease has no directory to lock in), then again holding it, which makes
      // "epoch still ours, then commit" atomic against a takeover. Lock order is always item, then lease, and
      // lease calls never lock items, so this cannot deadlock.
      checkFence(fence, (await this.readLease(fence.lease))?.value, current?.fence, key);
      const leaseLock = await this.lockKey(keyPaths(this.leases, fence.lease), fence.lease, opts.signal);
      try {
        checkFence(fence, (await this.readLease(fence.lease))?.value, current?.fence, key);
        return await decideAndWrite(async () => {
          await lock.verify();
          await leaseLock.verify();
        });
      } finally {
        await leaseLock.release();
      }
    });
  }

  async delete(key: string, opts: { expectedVersion?: string; signal?: AbortSignal } = {}): Promise<void> {
    this.check(key, opts.signal);
    const paths = keyPaths(this.items, key);
    const decide = (current: ItemRecord | undefined): boolean => {
      if (opts.expectedVersion !== undefined && current?.version !== opts.expectedVersion) {
        throw casLost(key, `expected version ${opts.expectedVersion} to delete`, current?.version);
      }
      return current !== undefined;
    };
    // Absent keys need no lock (and no directories created just to find nothing).
    if (!decide(await this.readItem(paths, key))) return;
    await this.locked(paths, key, opts.signal, async (lock) => {
      if (!decide(await this.readItem(paths, key))) return;
      await lock.verify();
      await removeFile(paths.file, key);
    });
  }

  async acquireLease(name: string, owner: string, ttlMs: number, signal?: AbortSignal): Promise<Lease | null> {
    this.check(name, signal);
    if (owner === '') throw new FerryError('RT002', `checkpoint: lease "${name}" needs a non-empty owner`);
    // Pollers of a held lease are answered without taking its lock.
    const seen = await this.readLease(name);
    if (decideAcquire(seen?.value, owner, ttlMs, Date.now()) === null) return null;
    return this.writeLease(name, signal, (cur) => decideAcquire(cur, owner, ttlMs, Date.now()) ?? undefined);
  }

  async renewLease(lease: Lease, ttlMs: number, signal?: AbortSignal): Promise<Lease> {
    this.check(lease.name, signal);
    return (await this.writeLease(lease.name, signal, (cur) => decideRenew(cur, lease, ttlMs, Date.now())))!;
  }

  async releaseLease(lease: Lease, signal?: AbortSignal): Promise<void> {
    this.check(lease.name, signal);
    await this.writeLease(lease.name, signal, (cur) => decideRelease(cur, lease));
  }

  /** Marks the store closed: later calls throw RT002. Holds no handles between calls, so nothing to flush. */
  async close(): Promise<void> {
    this.closed = true;
  }

  /** Read-decide-write of a lease under its lock; `decide` returns undefined to leave it unchanged. */
  private async writeLease(name: string, signal: AbortSignal | undefined, decide: (cur: LeaseState | undefined) => LeaseState | undefined): Promise<Lease | null> {
    const paths = keyPaths(this.leases, name);
    return this.locked(paths, name, signal, async (lock) => {
      const current = await this.readLease(name);
      const next = decide(current?.value);
      if (!next) return null;
      const rec: ItemRecord = { format: 1, key: name, version: nextVersion(current), value: next, writtenAt: Date.now() };
      await atomicReplace(paths.file, paths.tmpBase, JSON.stringify(rec), name, () => lock.verify());
      return { name, owner: next.owner!, epoch: next.epoch, expiresAt: next.expiresAt };
    });
  }

  private async readLease(name: string): Promise<(ItemRecord & { value: LeaseState }) | undefined> {
    const rec = await this.readItem(keyPaths(this.leases, name), name);
    if (!rec) return undefined;
    const state = leaseStateSchema.safeParse(rec.value);
    if (!state.success) throw new FerryError('CP003', `checkpoint: lease record "${name}" has an unexpected shape`, { details: { lease: name } });
    return { ...rec, value: state.data };
  }

  private async readItem(paths: KeyPaths, key: string): Promise<ItemRecord | undefined> {
    const rec = await readRecord(paths.file, itemRecordSchema, key);
    // Hashed file names could in theory collide; the record's own key is the truth.
    if (rec && rec.key !== key) {
      throw new FerryError('CP003', `checkpoint: file ${paths.file} holds key "${rec.key}", not "${key}"`, { details: { key, file: paths.file } });
    }
    return rec;
  }

  /** Runs `step` holding the key's lock; retries it when a lock was broken under us before the commit. */
  private async locked<R>(paths: KeyPaths, key: string, signal: AbortSignal | undefined, step: (lock: HeldLock) => Promise<R>): Promise<R> {
    await ensureDir(paths.dir, key);
    for (let attempt = 1; ; attempt++) {
      const lock = await this.lockKey(paths, key, signal);
      try {
        return await step(lock);
      } catch (e) {
        if (e instanceof LockLostError && attempt < LOCK_LOST_ATTEMPTS) continue;
        throw e;
      } finally {
        await lock.release();
      }
    }
  }

  /** Takes one key's lock (its directory must exist), sweeping a crashed writer's temp files. */
  private async lockKey(paths: KeyPaths, key: string, signal: AbortSignal | undefined): Promise<HeldLock> {
    const lock = await acquireFileLock(paths.lock, { waitMs: this.lockWaitMs, staleMs: this.staleLockMs, what: key, logger: this.logger, signal });
    if (lock.brokeStale) await sweepTemps(paths);
    return lock;
  }

  private check(key: string | undefined, signal: AbortSignal | undefined): void {
    if (this.closed) throw new FerryError('RT002', 'checkpoint: the file store is closed');
    if (key === '') throw new FerryError('RT002', 'checkpoint: keys and lease names must not be empty');
    throwIfAborted(signal);
  }
}

function casLost(key: string, why: string, current: string | undefined): FerryError {
  return new FerryError('CP001', `checkpoint: compare-and-swap on "${key}" lost: ${why}, found ${current ?? 'no item'}`, {
    details: { key, currentVersion: current },
  });
}

/** `<counter>.<random>`: the counter keeps versions readable and ordered, the random part unique after deletes. */
function nextVersion(current: { version: string } | undefined): string {
  const n = current ? Number.parseInt(current.version, 10) : 0;
  return `${Number.isSafeInteger(n) ? n + 1 : 1}.${randomBytes(6).toString('hex')}`;
}

function serialise(key: string, value: unknown): string {
  try {
    if (value === undefined) throw new TypeError('undefined is not a JSON value');
    return JSON.stringify(value);
  } catch (e) {
    throw new FerryError('RT002', `checkpoint: value for "${key}" is not JSON-serialisable: ${(e as Error).message}`, { cause: e, details: { key } });
  }
}

/** Walks `dir` for record files; at the top level only entries passing `matches` (the partial segment). */
async function collect(dir: string, matches: (name: string) => boolean, out: string[], signal: AbortSignal | undefined, prefix: string): Promise<void> {
  throwIfAborted(signal);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw ioError(e, 'list', prefix);
  }
  for (const ent of entries) {
    if (ent.isDirectory()) {
      if (matches(ent.name)) await collect(join(dir, ent.name), () => true, out, signal, prefix);
    } else if (ent.name.endsWith('.json')) {
      // Encoded names hold no '.', so this skips locks, temp files and moved-aside stale locks.
      const base = ent.name.slice(0, -'.json'.length);
      if (!base.includes('.') && matches(base)) out.push(join(dir, ent.name));
    }
  }
}

/** Removes temp files a crashed writer of this key left behind (called holding the key's lock). */
async function sweepTemps(paths: KeyPaths): Promise<void> {
  const stem = basename(paths.tmpBase);
  const names = await readdir(paths.dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(stem)).map((n) => unlink(join(paths.dir, n)).catch(() => {})));
}
