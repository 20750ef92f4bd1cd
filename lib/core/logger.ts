import { pino, destination, stdTimeFunctions, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { redactSecrets } from './errors.ts';

/**
 * The logger every lib module receives (never imports). Structured: `msg` plus a flat object of fields.
 * Invariant: no implementation emits a password; fields named like secrets are censored and string values
 * pass through {@link redactSecrets}.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose every line carries `bindings` (e.g. `{ taskId, stage, connector }`). */
  child(bindings: Record<string, unknown>): Logger;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

const SECRET_PATHS = ['password', '*.password', 'url', '*.url', 'secret', '*.secret', 'token', '*.token'];

function scrub(fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!fields) return fields;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) out[k] = { message: redactSecrets(v.message), code: (v as { code?: unknown }).code };
    else out[k] = typeof v === 'string' ? redactSecrets(v) : v;
  }
  return out;
}

/**
 * Children are made from the root with merged bindings, and a line's own fields are merged over them, so every
 * key appears once in a line (the most specific value wins) and the JSON has no duplicate keys.
 */
function wrap(root: PinoLogger, bindings: Record<string, unknown> = {}): Logger {
  const line = (f?: Record<string, unknown>) => ({ ...bindings, ...scrub(f) });
  return {
    debug: (msg, f) => root.debug(line(f), redactSecrets(msg)),
    info: (msg, f) => root.info(line(f), redactSecrets(msg)),
    warn: (msg, f) => root.warn(line(f), redactSecrets(msg)),
    error: (msg, f) => root.error(line(f), redactSecrets(msg)),
    child: (b) => wrap(root, { ...bindings, ...scrub(b) }),
  };
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where JSON lines go; default stderr (stdout is kept for reports). A path string opens a file. */
  destination?: NodeJS.WritableStream | string;
}

/** Creates the JSON-lines logger used by the CLI, functions and the CDC container. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const dest =
    typeof opts.destination === 'string'
      ? destination({ dest: opts.destination, mkdir: true, sync: false })
      : (opts.destination ?? destination(2));
  const p = pino(
    {
      level: opts.level ?? 'info',
      base: undefined,
      timestamp: stdTimeFunctions.isoTime,
      redact: { paths: SECRET_PATHS, censor: '***' },
      formatters: { level: (label) => ({ level: label }) },
    },
    dest as DestinationStream,
  );
  return wrap(p);
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/** A logger that records lines in memory; tests assert on what was (and was not) logged. */
export function memoryLogger(lines: Array<Record<string, unknown>> = []): Logger & { lines: typeof lines } {
  const make = (bindings: Record<string, unknown>): Logger => {
    const emit = (level: string) => (msg: string, f?: Record<string, unknown>) => {
      lines.push({ level, msg: redactSecrets(msg), ...bindings, ...scrub(f) });
    };
    return {
      debug: emit('debug'),
      info: emit('info'),
      warn: emit('warn'),
      error: emit('error'),
      child: (b) => make({ ...bindings, ...scrub(b) }),
    };
  };
  return Object.assign(make({}), { lines });
}
