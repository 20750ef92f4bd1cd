/**
 * mysql2 / server errors -> FerryError codes. The one place that knows MySQL error names.
 * Invariant: messages and details never carry the URL, the password or the failing SQL text.
 */
import { FerryError, type ErrorCode } from '../../core/errors.ts';

/** The fields of a mysql2 error that classification reads. */
export interface DriverError {
  code?: string;
  errno?: number;
  sqlMessage?: string;
  message?: string;
  fatal?: boolean;
}

const CONNECTION = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_CLIENT_INTERACTION_TIMEOUT',
]);

const AUTH = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR', 'ER_NOT_SUPPORTED_AUTH_MODE']);

const PRIVILEGE = new Set([
  'ER_DBACCESS_DENIED_ERROR',
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
  'HANDSHAKE_NO_SSL_SUPPORT',
  'ER_CLIENT_LOCAL_FILES_DISABLED',
]);

const METADATA = new Set(['ER_NO_SUCH_TABLE', 'ER_BAD_DB_ERROR', 'ER_BAD_FIELD_ERROR']);

/** A value that the target column cannot hold, or a constraint it breaks: IN001, and we look for the row. */
const INTEGRITY = new Set([
  'ER_DATA_TOO_LONG',
  'ER_WARN_DATA_OUT_OF_RANGE',
  'ER_TRUNCATED_WRONG_VALUE',
  'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
  'WARN_DATA_TRUNCATED',
  'ER_BAD_NULL_ERROR',
  'ER_WARN_NULL_TO_NOTNULL',
  'ER_NO_DEFAULT_FOR_FIELD',
  'ER_DUP_ENTRY',
  'ER_DUP_ENTRY_WITH_KEY_NAME',
  'ER_INVALID_CHARACTER_STRING',
  'ER_CANT_CREATE_GEOMETRY_OBJECT',
  'ER_INVALID_JSON_TEXT',
  'ER_INVALID_JSON_TEXT_IN_PARAM',
  'ER_CONSTRAINT_FAILED',
  'ER_CHECK_CONSTRAINT_VIOLATED',
  'ER_NO_REFERENCED_ROW',
  'ER_NO_REFERENCED_ROW_2',
  'ER_ROW_IS_REFERENCED',
  'ER_ROW_IS_REFERENCED_2',
  'ER_WRONG_VALUE_FOR_TYPE',
  'ER_ILLEGAL_VALUE_FOR_TYPE',
  'ER_DATETIME_FUNCTION_OVERFLOW',
  'ER_DIVISION_BY_ZERO',
  'ER_WRONG_VALUE',
  'ER_NET_PACKET_TOO_LARGE',
]);
// Some codes are missing from older mysql2 name tables; match the numbers too.
const INTEGRITY_ERRNO = new Set([1406, 1264, 1292, 1366, 1265, 1048, 1263, 1364, 1062, 1300, 1416, 3140, 4025, 3819, 1452, 1451, 1411, 1367, 1441, 1365, 1525, 1153]);

const RETRYABLE_STATEMENT = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_CHECKREAD', 'ER_QUERY_INTERRUPTED']);
/**
 * TiDB's own transient errors (no mysql2 code name): 9007 write conflict (optimistic transactions), 8002
 * SELECT FOR UPDATE write conflict, 8022 transaction retry failed, 9001-9006 TiKV/PD unavailable or busy.
 */
const RETRYABLE_ERRNO = new Set([8002, 8022, 9001, 9002, 9003, 9004, 9005, 9006, 9007]);

/** The short reason of a server message: `Data too long for column 'c' at row 3` -> `Data too long`. */
export function shortReason(e: DriverError): string {
  const m = e.sqlMessage ?? e.message ?? String(e);
  const cut = m.search(/ for column | at row \d+/);
  return (cut > 0 ? m.slice(0, cut) : m).trim();
}

/** The column a server message names (`for column 'c'`, ``for column `db`.`t`.`c` ``, `Column 'c' cannot be null`). */
export function columnOf(e: DriverError): string | undefined {
  const m = e.sqlMessage ?? '';
  const quoted = /for column (?:`(?:[^`]|``)*`\.`(?:[^`]|``)*`\.)?[`']((?:[^`']|``)*)[`']/.exec(m) ?? /^Column '((?:[^']|'')*)'/.exec(m);
  if (quoted) return quoted[1].replace(/``/g, '`');
  const check = /^CONSTRAINT `(?:[^`]*\.)?([^`]*)` failed/.exec(m);
  return check?.[1];
}

/** The 1-based row of a multi-row statement a server message names (`at row 3`), if any. */
export function rowOf(e: DriverError): number | undefined {
  const m = /at row (\d+)/.exec(e.sqlMessage ?? '');
  return m ? Number(m[1]) : undefined;
}

export function codeOf(e: DriverError): ErrorCode {
  const code = e.code ?? '';
  if (CONNECTION.has(code)) return 'CN001';
  if (AUTH.has(code)) return 'AU001';
  if (PRIVILEGE.has(code)) return 'PR001';
  if (METADATA.has(code)) return 'MD001';
  if (INTEGRITY.has(code) || (e.errno !== undefined && INTEGRITY_ERRNO.has(e.errno))) return 'IN001';
  if (e.fatal) return 'CN001';
  return 'ST001';
}

export const isIntegrity = (e: unknown): boolean => !(e instanceof FerryError) && codeOf(e as DriverError) === 'IN001';

/**
 * Wraps a driver error. `context` leads the message (`target db.tb`, `source db.tb`, `connect host:port`).
 * FerryErrors pass through unchanged.
 */
export function classify(err: unknown, context: string): FerryError {
  if (err instanceof FerryError) return err;
  const e = (err ?? {}) as DriverError;
  const code = codeOf(e);
  // "(using password: YES)" would be mangled by secret redaction; say it in words.
  const reason = (e.sqlMessage ?? e.message ?? String(err)).replace(/\(using password: (YES|NO)\)/, (_m, y) => (y === 'YES' ? '(with a password)' : '(without a password)'));
  const retryable = code === 'ST001' ? RETRYABLE_STATEMENT.has(e.code ?? '') || RETRYABLE_ERRNO.has(e.errno ?? 0) : undefined;
  return new FerryError(code, `${context}: ${reason}${e.code ? ` (${e.code})` : ''}`, {
    cause: err,
    retryable,
    details: { driverCode: e.code, errno: e.errno },
  });
}
