import { FerryError, type ErrorCode } from '../../core/errors.ts';

/** The fields node-postgres puts on a server error (DatabaseError) or a socket error. */
export interface PgDriverError {
  code?: string;
  message?: string;
  column?: string;
  table?: string;
  schema?: string;
  constraint?: string;
  detail?: string;
  where?: string;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/**
 * Maps a driver error to a ferry error code by SQLSTATE class, so the runner knows whether backing off helps.
 * 08 connection / network -> CN001 (retryable); 28 auth -> AU001; 42P01/3F000/42703 missing objects -> MD001;
 * 42501 privilege -> PR001; 22 data exceptions and 23 integrity violations -> IN001 (a retry cannot fix data);
 * 40001/40P01/55P03/57014 serialization, deadlock, lock or statement timeout, 53 resources -> ST001 retryable;
 * everything else ST001 not retryable.
 */
export function classifyCode(e: unknown): { code: ErrorCode; retryable: boolean } {
  if (e instanceof FerryError) return { code: e.code, retryable: e.retryable };
  const err = (e ?? {}) as PgDriverError;
  const c = typeof err.code === 'string' ? err.code : '';
  const msg = err.message ?? '';
  if (NETWORK_CODES.has(c) || c.startsWith('08') || /Connection terminated|timeout expired|connect ETIMEDOUT/i.test(msg)) {
    return { code: 'CN001', retryable: true };
  }
  if (c === '57P01' || c === '57P02' || c === '57P03') return { code: 'CN001', retryable: true };
  if (c === '28P01' || c === '28000') return { code: 'AU001', retryable: false };
  if (c === '42P01' || c === '3F000' || c === '42703' || c === '3D000') return { code: 'MD001', retryable: false };
  if (c === '42501') return { code: 'PR001', retryable: false };
  if (c.startsWith('22') || c.startsWith('23')) return { code: 'IN001', retryable: false };
  // 57014: statement_timeout / lock_timeout cancels (ferry's own aborts surface as RT001 before this).
  if (c === '40001' || c === '40P01' || c === '55P03' || c === '57014' || c.startsWith('53')) return { code: 'ST001', retryable: true };
  return { code: 'ST001', retryable: false };
}

/** SQLSTATE of a wrapped driver error (FerryError.details.sqlstate), if any. */
export const sqlstateOf = (e: unknown): string | undefined =>
  e instanceof FerryError ? (e.details.sqlstate as string | undefined) : undefined;

/** 23505: the batch met a key the table already has. */
export const isUniqueViolation = (e: unknown): boolean => sqlstateOf(e) === '23505';

/**
 * 40P01 / 40001: deadlock or serialization failure; the whole transaction rolled back, so running the same
 * batch again is safe.
 */
export const isTransientConflict = (e: unknown): boolean => {
  const s = sqlstateOf(e);
  return s === '40P01' || s === '40001';
};

/** True for errors a batch locator should pin to one row (IN001 class). */
export const isDataError = (e: unknown): boolean => classifyCode(e).code === 'IN001';

/** Wraps a driver error as a FerryError with `context` (e.g. `target public.t`) in front of the server text. */
export function toFerryError(e: unknown, context: string, details: Record<string, unknown> = {}): FerryError {
  if (e instanceof FerryError) return e;
  const { code, retryable } = classifyCode(e);
  const err = (e ?? {}) as PgDriverError;
  const text = err.message || String(e);
  return new FerryError(code, `${context}: ${text}`, {
    cause: e,
    retryable,
    details: { ...details, sqlstate: err.code, ...(err.constraint ? { constraint: err.constraint } : {}) },
  });
}
