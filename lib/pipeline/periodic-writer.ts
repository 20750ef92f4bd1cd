import type { Logger } from '../core/logger.ts';

/**
 * Runs `write` every `intervalMs` (never two at once) until stopped: the loop behind the CDC heartbeat-table
 * writers of every connector. A failure is logged once per streak (and the recovery once) and retried at the
 * next tick: a missed heartbeat only delays position progress, it loses nothing.
 * Invariant: after `stop()` resolves no write is running and none will start.
 */
export abstract class PeriodicWriter {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private failing = false;
  protected readonly ctrl = new AbortController();

  protected constructor(
    private readonly label: string,
    private readonly intervalMs: number,
    protected readonly logger: Logger,
  ) {}

  /** One write; aborted through `signal` when the writer stops. */
  protected abstract write(signal: AbortSignal): Promise<void>;

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.beat().finally(() => (this.running = null));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One write now (also used by tests); never throws. */
  async beat(): Promise<void> {
    try {
      await this.write(this.ctrl.signal);
      if (this.failing) this.logger.info(`${this.label}: writes work again`);
      this.failing = false;
    } catch (e) {
      if (!this.failing && !this.ctrl.signal.aborted) this.logger.warn(`${this.label}: write failed`, { error: e as Error });
      this.failing = true;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.ctrl.abort(new Error(`${this.label} stopped`));
    await this.running;
  }
}
