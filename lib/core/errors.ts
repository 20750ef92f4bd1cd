/**
 * The one error class of ferry. Codes follow ape-dts-style groups so operators can grep and alert on them.
 *
 * Invariant: `code` is stable across releases (documented in docs/errors.md); `message` never contains a
 * password or secret (callers pass values through {@link redactSecrets} when echoing user input).
 */
export const ERROR_CODES = {
  /** config: a value has the wrong type, range or format (`section.key` named). */
  CF001: { group: 'config', retryable: false, exit: 2 },
  /** config: a required key is missing. */
  CF002: { group: 'config', retryable: false, exit: 2 },
  /** config: the file cannot be read or parsed, or keys contradict each other. */
  CF003: { group: 'config', retryable: false, exit: 2 },
  /** connection: host unreachable / refused / timed out (after retries). */
  CN001: { group: 'connection', retryable: true, exit: 1 },
  /** auth: credentials refused. */
  AU001: { group: 'auth', retryable: false, exit: 1 },
  /** prerequisite: a server setting or privilege ferry needs is missing. */
  PR001: { group: 'prerequisite', retryable: false, exit: 1 },
  /** metadata: a database, table or column does not exist or has no usable shape. */
  MD001: { group: 'metadata', retryable: false, exit: 1 },
  /** metadata: a source type the target cannot carry (structure migration names `db.tb.column` and the type). */
  MD002: { group: 'metadata', retryable: false, exit: 1 },
  /** metadata: a target object already exists and `conflict_policy=interrupt` (structure migration). */
  MD003: { group: 'metadata', retryable: false, exit: 1 },
  /** statement: the target or source rejected a statement (syntax, lock, deadlock...). */
  ST001: { group: 'statement', retryable: true, exit: 1 },
  /** integrity: a value does not fit the target column, or violates a constraint. */
  IN001: { group: 'integrity', retryable: false, exit: 1 },
  /** checkpoint: compare-and-swap lost (someone else wrote first). */
  CP001: { group: 'checkpoint', retryable: true, exit: 1 },
  /** checkpoint: our lease was taken over (fenced out); the holder must stop. */
  CP002: { group: 'checkpoint', retryable: false, exit: 1 },
  /** checkpoint: the store itself failed (I/O, permissions, throttling). */
  CP003: { group: 'checkpoint', retryable: true, exit: 1 },
  /** runtime: aborted by signal / deadline (not a failure: work is saved). */
  RT001: { group: 'runtime', retryable: true, exit: 1 },
  /** runtime: an unsupported feature or internal invariant broke. */
  RT002: { group: 'runtime', retryable: false, exit: 1 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FerryErrorOptions {
  cause?: unknown;
  /** Overrides the code's default retryability (e.g. a deadlock is a retryable ST001, a syntax error is not). */
  retryable?: boolean;
  /** Structured context safe to log: table, key, column, config key. Never secrets. */
  details?: Record<string, unknown>;
}

/** A classified failure. `retryable` tells the runner whether backing off and trying again can help. */
export class FerryError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: FerryErrorOptions = {}) {
    super(redactSecrets(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'FerryError';
    this.code = code;
    this.retryable = opts.retryable ?? ERROR_CODES[code].retryable;
    this.details = opts.details ?? {};
  }

  /** Process exit code for the CLI: 2 for config errors, 1 otherwise. */
  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  /** One line for humans: `CF001 extractor.batch_size: expected a positive integer, got "abc"`. */
  toLine(): string {
    return `${this.code} ${this.message}`;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, retryable: this.retryable, ...this.details };
  }
}

export const isFerryError = (e: unknown): e is FerryError => e instanceof FerryError;

/** Wraps anything thrown into a FerryError, keeping an existing one as is. */
export function asFerryError(e: unknown, fallback: ErrorCode = 'RT002', message?: string): FerryError {
  if (e instanceof FerryError) return e;
  const msg = message ?? (e instanceof Error ? e.message : String(e));
  return new FerryError(fallback, msg, { cause: e });
}

const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^:@/\s]*):([^@\s]*)@/gi;
// `password=x`, `"password":"x"`, `password: x` -- but not `extractor.password: expected ...` (a config key name in a message).
const KEY_VALUE_SECRET = /((?<![.\w])"?(?:password|passwd|pwd|secret|token|secret_access_key)"?\s*[=:]\s*)("[^"]*"|'[^']*'|(?!expected\b)[^\s,;&]+)/gi;

/**
 * Removes credentials from text: `scheme://user:pw@` becomes `scheme://user:***@`, and `password=x` becomes
 * `password=***`. Applied to every error message and every log line.
 */
export function redactSecrets(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1$2:***@').replace(KEY_VALUE_SECRET, '$1***');
}
