import { randomBytes } from 'node:crypto';
import type { CheckpointStore, Fence, Lease, PutOptions, Versioned } from '../core/checkpoint.ts';
import { FerryError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { throwIfAborted } from '../core/signal.ts';
import { checkKeyText } from './aws-common.ts';
import { compareKeys } from './keys.ts';
import { checkFence, decideAcquire, decideRelease, decideRenew } from './lease-rules.ts';
import type { ItemRecord, LeaseState } from './records.ts';

/** A record and the backend's compare-and-swap token for it (DynamoDB: the `ver` attribute; S3: the ETag). */
export interface Stored<T> {
  value: T;
  version: string;
}

/**
 * `null`: only if absent; a string: only if the stored version equals it; `undefined`: unconditionally.
 */
export type Expect = string | null | undefined;

/**
 * The single-key conditional operations a remote store offers. Each call is atomic on its one key; nothing
 * spans two keys (no transactions), which is what DynamoDB without TransactWriteItems and S3 give.
 * Invariant: a write whose condition does not hold changes nothing and returns null / false.
 */
export interface CasBackend {
  readonly kind: string;
  getItem(key: string, signal?: AbortSignal): Promise<Stored<ItemRecord> | undefined>;
  /** Every item whose key starts with `prefix` (any order); pagination is the backend's business. */
  listItems(prefix: string, signal?: AbortSignal): Promise<Array<Stored<ItemRecord>>>;
  /** The new version, or null when `expect` did not hold. A fenced record may add its own fence condition. */
  putItem(key: string, rec: ItemRecord, expect: Expect, signal?: AbortSignal): Promise<string | null>;
  /** False when `expect` (a version) did not hold; deleting an absent key without `expect` is true. */
  deleteItem(key: string, expect: string | undefined, signal?: AbortSignal): Promise<boolean>;
  getLease(name: string, signal?: AbortSignal): Promise<Stored<LeaseState> | undefined>;
  putLease(name: string, state: LeaseState, expect: string | null, signal?: AbortSignal): Promise<string | null>;
  close(): Promise<void>;
}

/** Read-decide-write attempts before a contended lease or fenced write gives up with CP003. */
const MAX_ATTEMPTS = 50;

/**
 * {@link CheckpointStore} over a {@link CasBackend}: the CAS, lease and fencing logic shared by the DynamoDB
 * and S3 stores, with the same decisions as the file store (lease-rules.ts).
 *
 * Fencing without multi-key transactions: a fenced `put` reads the lease (its epoch must be the fence's),
 * reads the item (it must not carry a higher epoch of the same lease), then writes conditioned on the item's
 * version. So once a newer holder has written an item, no older holder's write can land on it, whatever the
 * timing; what is not excluded is an older holder's write landing between the takeover and the newer holder's
 * first write to that item (the lease check and the item write are two requests). A new holder therefore
 * writes (or re-reads) what it resumes from *after* acquiring -- see docs/checkpoint.md.
 */
export class ConditionalCheckpointStore implements CheckpointStore {
  readonly kind: string;
  private closed = false;

  constructor(private readonly backend: CasBackend, private readonly logger: Logger) {
    this.kind = backend.kind;
  }

  async get<T = unknown>(key: string, signal?: AbortSignal): Promise<Versioned<T> | undefined> {
    this.check(key, signal);
    const got = await this.backend.getItem(key, signal);
    return got && { value: got.value.value as T, version: got.version };
  }

  async list<T = unknown>(prefix: string, signal?: AbortSignal): Promise<Array<Versioned<T> & { key: string }>> {
    this.check(undefined, signal);
    const items = await this.backend.listItems(prefix, signal);
    return items
      .filter((i) => i.value.key.startsWith(prefix))
      .map((i) => ({ key: i.value.key, value: i.value.value as T, version: i.version }))
      .sort((a, b) => compareKeys(a.key, b.key));
  }

  async put<T = unknown>(key: string, value: T, opts: PutOptions = {}): Promise<string> {
    this.check(key, opts.signal);
    const { expectedVersion, fence, signal } = opts;
    const rec = newRecord(key, value, fence);
    if (!fence) {
      const v = await this.backend.putItem(key, rec, expectedVersion, signal);
      if (v !== null) return v;
      throw casLost(key, expectedVersion, (await this.backend.getItem(key, signal))?.version);
    }
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      // Fencing first: a fenced-out writer must stop, whatever its version says.
      const current = await this.fenceCheck(key, fence, signal);
      if (expectedVersion !== undefined && (current?.version ?? null) !== expectedVersion) throw casLost(key, expectedVersion, current?.version);
      const v = await this.backend.putItem(key, rec, current?.version ?? null, signal);
      if (v !== null) return v;
      // Someone wrote in between: find out whether it fenced us out (CP002) or only won the race (CP001).
      const now = await this.fenceCheck(key, fence, signal);
      if (expectedVersion !== undefined) throw casLost(key, expectedVersion, now?.version);
    }
    throw contended(key);
  }

  async delete(key: string, opts: { expectedVersion?: string; signal?: AbortSignal } = {}): Promise<void> {
    this.check(key, opts.signal);
    if (await this.backend.deleteItem(key, opts.expectedVersion, opts.signal)) return;
    throw casLost(key, opts.expectedVersion, (await this.backend.getItem(key, opts.signal))?.version, 'delete');
  }

  async acquireLease(name: string, owner: string, ttlMs: number, signal?: AbortSignal): Promise<Lease | null> {
    this.check(name, signal);
    if (owner === '') throw new FerryError('RT002', `checkpoint: lease "${name}" needs a non-empty owner`);
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.backend.close();
  }

  /** Throws CP002 when `fence` may not write `key` now; returns the item as read. */
  private async fenceCheck(key: string, fence: Fence, signal?: AbortSignal): Promise<Stored<ItemRecord> | undefined> {
    const lease = await this.backend.getLease(fence.lease, signal);
    checkFence(fence, lease?.value, undefined, key);
    const current = await this.backend.getItem(key, signal);
    checkFence(fence, lease?.value, current?.value.fence, key);
    return current;
  }

  /** Read-decide-conditional-write of a lease, retried while others win the race; `decide` undefined = no change. */
  private async writeLease(name: string, signal: AbortSignal | undefined, decide: (cur: LeaseState | undefined) => LeaseState | undefined): Promise<Lease | null> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const current = await this.backend.getLease(name, signal);
      const next = decide(current?.value);
      if (!next) return null;
      if ((await this.backend.putLease(name, next, current?.version ?? null, signal)) !== null) {
        return { name, owner: next.owner!, epoch: next.epoch, expiresAt: next.expiresAt };
      }
      this.logger.debug('lease write lost a race; re-reading', { lease: name, attempt });
    }
    throw contended(name);
  }

  private check(key: string | undefined, signal: AbortSignal | undefined): void {
    if (this.closed) throw new FerryError('RT002', `checkpoint: the ${this.kind} store is closed`);
    if (key !== undefined) checkKeyText(key);
    throwIfAborted(signal);
  }
}

/** A fresh record: the random `version` makes every write's content (and so an S3 ETag) unique. */
function newRecord(key: string, value: unknown, fence: Fence | undefined): ItemRecord {
  if (value === undefined) throw new FerryError('RT002', `checkpoint: value for "${key}" is not JSON-serialisable: undefined is not a JSON value`, { details: { key } });
  const rec: ItemRecord = { format: 1, key, version: newVersion(), value, writtenAt: Date.now() };
  if (fence) rec.fence = { lease: fence.lease, epoch: fence.epoch };
  return rec;
}

/** JSON text of `value` (a value or a whole record) stored under `key`, or RT002 naming the key (bigint, cycles). */
export function serialiseValue(key: string, value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (e) {
    throw new FerryError('RT002', `checkpoint: value for "${key}" is not JSON-serialisable: ${(e as Error).message}`, { cause: e, details: { key } });
  }
}

/** A new opaque version token: time-ordered for humans, 64 random bits for uniqueness (no reuse after a delete). */
export const newVersion = (): string => `${Date.now().toString(36)}.${randomBytes(8).toString('hex')}`;

function casLost(key: string, expected: Expect, current: string | undefined, op = 'compare-and-swap'): FerryError {
  const want = expected === null ? 'no item' : `version ${expected}`;
  return new FerryError('CP001', `checkpoint: ${op} on "${key}" lost: expected ${want}, found ${current ?? 'no item'}`, {
    details: { key, currentVersion: current },
  });
}

function contended(key: string): FerryError {
  return new FerryError('CP003', `checkpoint: "${key}" stayed contended for ${MAX_ATTEMPTS} read-decide-write attempts`, { details: { key } });
}
