import { FerryError, type ErrorCode } from '../../core/errors.ts';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'UND_ERR_SOCKET']);

/** ClickHouse server error numbers (ErrorCodes.cpp) ferry tells apart. */
const MISSING = new Set([60, 81, 16, 47]); // UNKNOWN_TABLE, UNKNOWN_DATABASE, NO_SUCH_COLUMN_IN_TABLE, UNKNOWN_IDENTIFIER
const AUTH = new Set([192, 193, 194, 516]); // UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD, AUTHENTICATION_FAILED
const ACCESS = new Set([497, 164]); // ACCESS_DENIED, READONLY
const EXISTS = new Set([57, 82]); // TABLE_ALREADY_EXISTS, DATABASE_ALREADY_EXISTS
// CANNOT_PARSE_*, TYPE_MISMATCH, ARGUMENT_OUT_OF_BOUND, DECIMAL_OVERFLOW, CANNOT_CONVERT_TYPE, VALUE_IS_OUT_OF_RANGE...
const DATA = new Set([6, 26, 27, 32, 38, 41, 53, 69, 70, 72, 117, 131, 321, 407]);
// TOO_MANY_PARTS, TIMEOUT_EXCEEDED, TOO_MANY_SIMULTANEOUS_QUERIES, MEMORY_LIMIT_EXCEEDED, NETWORK_ERROR, SOCKET_TIMEOUT
const RETRYABLE = new Set([252, 159, 202, 241, 210, 209, 425]);

/** The server's error number from a client error (`code` field, or `Code: N` in old servers' text). */
export function serverCode(e: unknown): number | undefined {
  const err = (e ?? {}) as { code?: unknown; message?: string };
  if (typeof err.code === 'string' && /^\d+$/.test(err.code)) return Number(err.code);
  const m = /Code: (\d+)/.exec(err.message ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Maps a @clickhouse/client / socket error to a ferry code, so the runner knows whether backing off helps. */
export function classifyCode(e: unknown): { code: ErrorCode; retryable: boolean } {
  if (e instanceof FerryError) return { code: e.code, retryable: e.retryable };
  const err = (e ?? {}) as { code?: unknown; message?: string; cause?: { code?: string } };
  const sys = typeof err.code === 'string' ? err.code : err.cause?.code ?? '';
  if (NETWORK_CODES.has(sys) || /socket hang up|Timeout error|ECONNREFUSED|ECONNRESET/i.test(err.message ?? '')) return { code: 'CN001', retryable: true };
  const n = serverCode(e);
  if (n === undefined) return { code: 'ST001', retryable: false };
  if (AUTH.has(n)) return { code: 'AU001', retryable: false };
  if (MISSING.has(n)) return { code: 'MD001', retryable: false };
  if (EXISTS.has(n)) return { code: 'MD003', retryable: false };
  if (ACCESS.has(n)) return { code: 'PR001', retryable: false };
  if (DATA.has(n)) return { code: 'IN001', retryable: false };
  if (RETRYABLE.has(n)) return { code: 'ST001', retryable: true };
  return { code: 'ST001', retryable: false };
}

/** Wraps a client error as a FerryError with `context` (e.g. `target db.t`) in front of the server text. */
export function toFerryError(e: unknown, context: string, details: Record<string, unknown> = {}): FerryError {
  if (e instanceof FerryError) return e;
  const { code, retryable } = classifyCode(e);
  const text = ((e as Error)?.message ?? String(e)).replace(/, e\.what\(\) = DB::Exception\s*$/, '').trim();
  return new FerryError(code, `${context}: ${text}`, { cause: e, retryable, details: { ...details, serverCode: serverCode(e) } });
}
