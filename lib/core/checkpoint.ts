/**
 * The checkpoint store: where plans, chunk progress, CDC positions and leases live.
 *
 * Invariants every implementation (file, DynamoDB, S3) upholds, checked by one contract test suite:
 * - `put` with `expectedVersion: null` succeeds only if the key is absent; with a string only if the stored
 *   version equals it; otherwise it throws FerryError CP001 and changes nothing. Without `expectedVersion`
 *   it writes unconditionally (last writer wins) -- use only for data no one races on.
 * - Versions are opaque strings; every successful write yields a new one.
 * - A fenced write (`fence`) is refused with CP002 when the item was last written under a higher epoch of the
 *   same lease, or when the lease's current epoch is higher than the fence's: a stale worker cannot overwrite.
 * - Lease epochs only rise: each acquisition by a new owner (or after expiry) gets epoch = previous + 1.
 */
export interface CheckpointStore {
  readonly kind: string;
  get<T = unknown>(key: string, signal?: AbortSignal): Promise<Versioned<T> | undefined>;
  /** All items whose key starts with `prefix`, sorted by key. */
  list<T = unknown>(prefix: string, signal?: AbortSignal): Promise<Array<Versioned<T> & { key: string }>>;
  put<T = unknown>(key: string, value: T, opts?: PutOptions): Promise<string>;
  /** Deletes a key (no error when absent). With `expectedVersion`, only if it matches (CP001 otherwise). */
  delete(key: string, opts?: { expectedVersion?: string; signal?: AbortSignal }): Promise<void>;
  /**
   * Takes the lease `name` for `owner` when it is free, expired, or already ours (then renews it with the
   * same epoch). Returns null when someone else holds it unexpired.
   */
  acquireLease(name: string, owner: string, ttlMs: number, signal?: AbortSignal): Promise<Lease | null>;
  /** Extends our lease; throws CP002 when it was taken over (epoch moved on). */
  renewLease(lease: Lease, ttlMs: number, signal?: AbortSignal): Promise<Lease>;
  /** Gives the lease up (no error when already lost). */
  releaseLease(lease: Lease, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export interface Versioned<T> {
  value: T;
  version: string;
}

export interface PutOptions {
  /** null: create only; string: compare-and-swap; undefined: unconditional. */
  expectedVersion?: string | null;
  /** Write as the holder of this lease epoch (fencing token). */
  fence?: Fence;
  signal?: AbortSignal;
}

export interface Fence {
  lease: string;
  epoch: number;
}

export interface Lease {
  name: string;
  owner: string;
  epoch: number;
  /** Epoch ms when the lease lapses unless renewed. */
  expiresAt: number;
}

export const fenceOf = (l: Lease): Fence => ({ lease: l.name, epoch: l.epoch });
