/**
 * The Stream Load answer -> success or a classified FerryError.
 *
 * | answer                                             | outcome                                             |
 * |----------------------------------------------------|-----------------------------------------------------|
 * | Status Success                                     | done                                                |
 * | Status Publish Timeout                             | done (committed; visible shortly), logged            |
 * | Status Label Already Exists, job FINISHED/VISIBLE/COMMITTED (or unnamed) | done: an earlier try of this very body committed |
 * | Status Label Already Exists, job RUNNING/PREPARE   | ST001 retryable (the earlier try is still running)   |
 * | HTTP 401/403, or a message about access/password   | AU001                                               |
 * | Fail naming a missing privilege                    | PR001                                               |
 * | Status Fail with ErrorURL (rows filtered)          | IN001 naming the table and the first error line      |
 * | Status Fail naming an unknown table/database       | MD001                                               |
 * | any other Fail, HTTP 5xx, unreadable answer        | ST001 retryable                                      |
 */
import { z } from 'zod';
import { FerryError } from '../../core/errors.ts';
import type { HttpAnswer } from './http.ts';

export const loadResultSchema = z
  .object({
    Status: z.string(),
    Message: z.string().optional(),
    Label: z.string().optional(),
    TxnId: z.number().optional(),
    ExistingJobStatus: z.string().optional(),
    NumberTotalRows: z.number().optional(),
    NumberLoadedRows: z.number().optional(),
    NumberFilteredRows: z.number().optional(),
    ErrorURL: z.string().optional(),
    // Doris spells some fields differently in older versions.
    msg: z.string().optional(),
  })
  .passthrough();

export type LoadResult = z.infer<typeof loadResultSchema>;

export type LoadOutcome =
  | { kind: 'done'; result: LoadResult; note?: 'publish_timeout' | 'label_exists' }
  /** Fail with an ErrorURL: the caller fetches the first error line and raises IN001. */
  | { kind: 'rejected'; result: LoadResult; errorUrl: string }
  | { kind: 'error'; error: FerryError };

const AUTH = /access denied|authenticat|password|not authori[sz]ed|unauthori[sz]ed/i;
const PRIVILEGE = /privilege/i;
const MISSING = /unknown (table|database)|(table|database) .* (does not|doesn't|not) exist|not found table|table not found/i;
const DONE_JOB = new Set(['FINISHED', 'VISIBLE', 'COMMITTED']);

/** Classifies an answer; `table` (db.tb) is named in every error. */
export function classifyAnswer(a: HttpAnswer, table: string): LoadOutcome {
  const where = `stream load into ${table}`;
  if (a.status === 401 || a.status === 403) {
    return { kind: 'error', error: new FerryError('AU001', `${where}: credentials refused (HTTP ${a.status} from ${a.url})`, { details: { table, status: a.status } }) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(a.body);
  } catch {
    parsed = undefined;
  }
  const r = loadResultSchema.safeParse(parsed);
  if (!r.success) {
    const text = a.body.replace(/\s+/g, ' ').slice(0, 200);
    if (AUTH.test(text)) return { kind: 'error', error: new FerryError('AU001', `${where}: credentials refused (${text})`, { details: { table } }) };
    return { kind: 'error', error: new FerryError('ST001', `${where}: unexpected answer HTTP ${a.status} from ${a.url}: ${text || '(empty)'}`, { retryable: true, details: { table, status: a.status } }) };
  }
  const res = r.data;
  const msg = (res.Message ?? res.msg ?? '').replace(/\s+/g, ' ').slice(0, 300);
  switch (res.Status.toLowerCase()) {
    case 'success':
      return { kind: 'done', result: res };
    case 'publish timeout':
      return { kind: 'done', result: res, note: 'publish_timeout' };
    case 'label already exists': {
      const job = (res.ExistingJobStatus ?? '').toUpperCase();
      if (!job || DONE_JOB.has(job)) return { kind: 'done', result: res, note: 'label_exists' };
      return {
        kind: 'error',
        error: new FerryError('ST001', `${where}: label ${res.Label ?? ''} is still ${job} from an earlier try`, { retryable: true, details: { table, label: res.Label } }),
      };
    }
    default:
      break;
  }
  if (PRIVILEGE.test(msg)) return { kind: 'error', error: new FerryError('PR001', `${where}: ${msg}`, { details: { table } }) };
  if (AUTH.test(msg)) return { kind: 'error', error: new FerryError('AU001', `${where}: credentials refused (${msg})`, { details: { table } }) };
  if (res.ErrorURL) return { kind: 'rejected', result: res, errorUrl: res.ErrorURL };
  if (MISSING.test(msg)) return { kind: 'error', error: new FerryError('MD001', `${where}: ${msg}`, { details: { table } }) };
  if ((res.NumberFilteredRows ?? 0) > 0) {
    return { kind: 'error', error: new FerryError('IN001', `${where}: ${res.NumberFilteredRows} row(s) rejected (${msg || 'no error detail'})`, { details: { table } }) };
  }
  return { kind: 'error', error: new FerryError('ST001', `${where}: ${res.Status}${msg ? ` (${msg})` : ''}`, { retryable: true, details: { table, label: res.Label } }) };
}

/** The first meaningful line of an ErrorURL page (`Error: ... Row: ...`), cut to 300 characters. */
export function firstErrorLine(text: string): string | undefined {
  const line = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  return line ? line.slice(0, 300) : undefined;
}
