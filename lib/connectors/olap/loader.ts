/**
 * Sends one Stream Load body to `{loadUrl}/api/{db}/{tb}/_stream_load` and waits for its outcome.
 *
 * Invariants:
 * - Idempotent by label: a retry (network error, timeout, retryable Fail) resends the same body under the
 *   same label, so a body the server already committed is answered "Label Already Exists" and counts as done.
 * - Strict: `max_filter_ratio: 0` and `strict_mode: true`, so a value the target cannot convert fails the
 *   whole load (IN001 with the first line of the server's ErrorURL) instead of becoming NULL or being skipped.
 */
import { FerryError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { retry } from '../../core/signal.ts';
import type { ResolvedOlapConfig } from './config.ts';
import { getText, putFollowing } from './http.ts';
import { classifyAnswer, firstErrorLine, type LoadResult } from './response.ts';

export interface LoadRequest {
  db: string;
  tb: string;
  /** Target column names in the JSON objects, op column included when present. */
  columns: string[];
  body: Buffer;
  label: string;
  /** Extra headers (partial update, hidden columns...). */
  headers?: Record<string, string>;
}

export interface LoaderOptions {
  /** Attempts per body for retryable failures (default 4). */
  attempts?: number;
  baseMs?: number;
  maxMs?: number;
}

/** Backticked names for the `columns` header (both engines parse it as an SQL column list). */
export const columnsHeader = (names: string[]): string => names.map((n) => '`' + n.replace(/`/g, '``') + '`').join(',');

export class StreamLoader {
  constructor(
    private readonly cfg: Pick<ResolvedOlapConfig, 'loadUrl' | 'user' | 'password' | 'timeoutSecs'>,
    private readonly logger: Logger,
    private readonly o: LoaderOptions = {},
  ) {}

  url(db: string, tb: string): string {
    return `${this.cfg.loadUrl}/api/${encodeURIComponent(db)}/${encodeURIComponent(tb)}/_stream_load`;
  }

  headers(req: LoadRequest): Record<string, string> {
    return {
      label: req.label,
      format: 'json',
      strip_outer_array: 'true',
      columns: columnsHeader(req.columns),
      max_filter_ratio: '0',
      strict_mode: 'true',
      timezone: 'UTC',
      timeout: String(this.cfg.timeoutSecs),
      'Content-Type': 'application/json; charset=utf-8',
      ...req.headers,
    };
  }

  async load(req: LoadRequest, signal: AbortSignal): Promise<LoadResult> {
    const table = `${req.db}.${req.tb}`;
    return retry(
      async () => {
        const answer = await putFollowing(this.url(req.db, req.tb), {
          headers: this.headers(req),
          body: req.body,
          auth: { user: this.cfg.user, password: this.cfg.password },
          signal,
          timeoutMs: this.cfg.timeoutSecs * 1000 + 30_000,
        });
        const out = classifyAnswer(answer, table);
        if (out.kind === 'done') {
          if (out.note === 'publish_timeout') this.logger.warn('stream load committed, publish pending', { table, label: req.label });
          if (out.note === 'label_exists') this.logger.info('stream load label already committed: earlier try kept', { table, label: req.label });
          return out.result;
        }
        if (out.kind === 'error') throw out.error;
        const detail = firstErrorLine(await getText(out.errorUrl, signal).catch(() => '')) ?? (out.result.Message ?? 'rows rejected');
        throw new FerryError('IN001', `target ${table}: ${detail} (see ${out.errorUrl})`, {
          details: { table, label: req.label, errorUrl: out.errorUrl, filteredRows: out.result.NumberFilteredRows },
        });
      },
      {
        attempts: this.o.attempts ?? 4,
        baseMs: this.o.baseMs ?? 200,
        maxMs: this.o.maxMs ?? 5_000,
        signal,
        onRetry: (e, attempt) => this.logger.warn('stream load retry', { table, label: req.label, attempt, error: (e as Error).message }),
      },
    );
  }
}
