import type { CheckpointStore, Lease, Logger } from '../core/index.ts';
import { FerryError, isFerryError } from '../core/errors.ts';
import { sleep } from '../core/signal.ts';

export interface LeaseKeeperOptions {
  ttlMs: number;
  /** How long to wait for a held lease before giving up (0: fail at once). */
  waitMs: number;
  signal: AbortSignal;
  logger: Logger;
}

/**
 * Holds a lease for a long-lived worker (the CDC container): acquires it (waiting up to `waitMs` while
 * another owner holds it), renews it every ttl/3, and fires `lost` when a renewal is refused (CP002: a
 * newer epoch took over) so the worker stops applying at once. Invariant: while `lost` has not fired, the
 * lease was renewed less than `ttlMs` ago; every position write must be fenced with `lease`.
 */
export class LeaseKeeper {
  readonly lost = new AbortController();
  private timer?: NodeJS.Timeout;
  private constructor(private store: CheckpointStore, public lease: Lease, private o: LeaseKeeperOptions) {}

  static async acquire(store: CheckpointStore, name: string, owner: string, o: LeaseKeeperOptions): Promise<LeaseKeeper> {
    const until = Date.now() + o.waitMs;
    for (let waited = false; ; waited = true) {
      const lease = await store.acquireLease(name, owner, o.ttlMs, o.signal);
      if (lease) {
        const k = new LeaseKeeper(store, lease, o);
        k.schedule();
        o.logger.info('lease acquired', { lease: name, epoch: lease.epoch, owner });
        return k;
      }
      if (Date.now() >= until) {
        throw new FerryError('CP002', `lease ${name} is held by another worker${waited ? ` (waited ${Math.round(o.waitMs / 1000)} s)` : ''}; only one CDC worker per task runs`, {
          details: { lease: name },
        });
      }
      if (!waited) o.logger.warn('lease held by another worker; waiting', { lease: name, waitMs: o.waitMs });
      await sleep(Math.min(1000, Math.max(50, o.ttlMs / 5)), o.signal);
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.renew(), Math.max(50, this.o.ttlMs / 3));
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    try {
      this.lease = await this.store.renewLease(this.lease, this.o.ttlMs, this.o.signal);
      this.schedule();
    } catch (e) {
      if (this.o.signal.aborted) return;
      if (isFerryError(e) && e.code === 'CP002') {
        this.o.logger.error('lease lost: another worker took over; stopping', { lease: this.lease.name, epoch: this.lease.epoch });
        this.lost.abort(e);
        return;
      }
      this.o.logger.warn('lease renewal failed; retrying', { error: (e as Error).message });
      if (Date.now() > this.lease.expiresAt) {
        this.lost.abort(new FerryError('CP002', `lease ${this.lease.name} expired while the store was unreachable`));
        return;
      }
      this.timer = setTimeout(() => void this.renew(), 500);
      this.timer.unref();
    }
  }

  async release(): Promise<void> {
    clearTimeout(this.timer);
    if (!this.lost.signal.aborted) await this.store.releaseLease(this.lease).catch(() => undefined);
  }
}
