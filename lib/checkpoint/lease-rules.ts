import { FerryError } from '../core/errors.ts';
import type { Fence, Lease } from '../core/checkpoint.ts';
import type { LeaseState } from './records.ts';

/**
 * The lease and fencing rules, as pure functions over the stored state, so that every store (file, S3 with
 * conditional writes) applies the same decisions and only differs in how it makes read-decide-write atomic.
 *
 * Invariants: epochs only rise; an acquisition by a new owner, or after expiry, or after release, gets
 * epoch + 1; only the current owner of an unexpired lease keeps its epoch when acquiring again.
 */

/** The new state when `owner` asks for the lease at `now`, or null when someone else holds it unexpired. */
export function decideAcquire(current: LeaseState | undefined, owner: string, ttlMs: number, now: number): LeaseState | null {
  checkTtl(ttlMs);
  if (current && current.owner !== null && current.expiresAt > now) {
    if (current.owner !== owner) return null;
    return { owner, epoch: current.epoch, expiresAt: now + ttlMs };
  }
  return { owner, epoch: (current?.epoch ?? 0) + 1, expiresAt: now + ttlMs };
}

/**
 * The new state when the holder of `lease` renews it. Throws CP002 when the lease moved on (another epoch or
 * owner, or released). A lease that lapsed but was not taken over may still be renewed: nobody else could
 * have written under a newer epoch.
 */
export function decideRenew(current: LeaseState | undefined, lease: Lease, ttlMs: number, now: number): LeaseState {
  checkTtl(ttlMs);
  if (!current || current.epoch !== lease.epoch || current.owner !== lease.owner) {
    throw lost(lease.name, lease.epoch, current, 'renew');
  }
  return { owner: lease.owner, epoch: lease.epoch, expiresAt: now + ttlMs };
}

/** The released state, or undefined when the lease is no longer ours (releasing then is a no-op). */
export function decideRelease(current: LeaseState | undefined, lease: Lease): LeaseState | undefined {
  if (!current || current.epoch !== lease.epoch || current.owner !== lease.owner) return undefined;
  // Keep the epoch: the next holder must get a higher one, so writes fenced with this epoch stay refused.
  return { owner: null, epoch: lease.epoch, expiresAt: 0 };
}

/**
 * Throws CP002 unless a write fenced with `fence` may land on `key`: the lease's current epoch must equal the
 * fence's (higher = taken over; lower or absent = the fence did not come from this store), and the item must
 * not have been written under a higher epoch of the same lease.
 */
export function checkFence(fence: Fence, current: LeaseState | undefined, itemFence: Fence | undefined, key: string): void {
  if (!current || current.epoch !== fence.epoch) {
    throw new FerryError('CP002', `checkpoint: write to "${key}" fenced out: lease "${fence.lease}" is at epoch ${current?.epoch ?? 'none'}, writer holds ${fence.epoch}`, {
      details: { key, lease: fence.lease, epoch: fence.epoch, currentEpoch: current?.epoch },
    });
  }
  if (itemFence && itemFence.lease === fence.lease && itemFence.epoch > fence.epoch) {
    throw new FerryError('CP002', `checkpoint: write to "${key}" fenced out: it was written under epoch ${itemFence.epoch} of lease "${fence.lease}", writer holds ${fence.epoch}`, {
      details: { key, lease: fence.lease, epoch: fence.epoch, itemEpoch: itemFence.epoch },
    });
  }
}

function lost(name: string, epoch: number, current: LeaseState | undefined, op: string): FerryError {
  const now = current ? `epoch ${current.epoch}, owner ${current.owner ?? '(released)'}` : 'absent';
  return new FerryError('CP002', `checkpoint: cannot ${op} lease "${name}" at epoch ${epoch}: lease lost (now ${now})`, {
    details: { lease: name, epoch, currentEpoch: current?.epoch },
  });
}

function checkTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new FerryError('RT002', `checkpoint: lease ttlMs must be a positive number, got ${ttlMs}`);
}
