import { FerryError } from './errors.ts';

/** Resolves after `ms`, or rejects with RT001 as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortError(signal: AbortSignal): FerryError {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
  return new FerryError('RT001', `aborted: ${reason}`, { cause: signal.reason });
}

/** Throws RT001 when the signal has fired. Call between batches. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}

export const isAbort = (e: unknown): boolean => e instanceof FerryError && e.code === 'RT001';

/**
 * A signal that fires `marginMs` before `deadlineMs` (epoch ms), or when `parent` fires.
 * Built from a controller and a timer rather than AbortSignal.any(AbortSignal.timeout()): Node 20 holds the
 * sources of an `any` signal weakly, so after a garbage collection the timeout could be lost and the deadline
 * never fire (seen in a 120k-row chunk).
 */
export function deadlineSignal(deadlineMs: number, marginMs: number, parent?: AbortSignal): AbortSignal {
  const ac = new AbortController();
  const ms = Math.max(0, Math.floor(deadlineMs - Date.now() - marginMs));
  const timer = setTimeout(() => ac.abort(new Error(`deadline: stopped ${marginMs} ms before it`)), ms);
  timer.unref();
  if (parent) {
    if (parent.aborted) ac.abort(parent.reason);
    else parent.addEventListener('abort', () => ac.abort(parent.reason), { once: true });
  }
  ac.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  return ac.signal;
}

/** Like AbortSignal.any, with strong references to its sources (see deadlineSignal). */
export function anySignal(signals: AbortSignal[]): AbortSignal {
  const ac = new AbortController();
  for (const s of signals) {
    if (s.aborted) {
      ac.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => ac.abort(s.reason), { once: true });
  }
  return ac.signal;
}

export interface RetryOptions {
  /** Attempts in total (first try included). */
  attempts: number;
  baseMs: number;
  maxMs: number;
  signal?: AbortSignal;
  /** Called before each wait; for logging. */
  onRetry?: (err: unknown, attempt: number, waitMs: number) => void;
  /** Decides whether an error is worth another try (default: FerryError.retryable). */
  isRetryable?: (err: unknown) => boolean;
}

/** Runs `fn` with exponential backoff and full jitter on retryable errors. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const retryable = o.isRetryable ?? ((e: unknown) => e instanceof FerryError && e.retryable && e.code !== 'RT001');
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt >= o.attempts || !retryable(e) || o.signal?.aborted) throw e;
      const wait = Math.min(o.maxMs, o.baseMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      o.onRetry?.(e, attempt, Math.round(wait));
      await sleep(wait, o.signal);
    }
  }
}

/**
 * The retry policy for opening connections: `FERRY_CONNECT_RETRIES` attempts (default 5) with exponential
 * backoff from 500 ms up to 10 s. An operational knob (env, not task config) so tests and impatient
 * operators can shorten it without editing an ape-dts config.
 */
export function connectRetryOptions(signal?: AbortSignal): RetryOptions {
  const attempts = Number(process.env.FERRY_CONNECT_RETRIES ?? 5);
  return { attempts: Number.isFinite(attempts) && attempts > 0 ? attempts : 5, baseMs: 500, maxMs: 10_000, signal };
}

/**
 * Resolves when the callback handed to `register` is called (a producer's "item ready" wake-up) or when
 * `signal` aborts -- whichever comes first; never rejects. For push-driven queues that a consumer awaits.
 */
export function untilWoken(signal: AbortSignal, register: (wake: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    register(done);
    signal.addEventListener('abort', done, { once: true });
  });
}
