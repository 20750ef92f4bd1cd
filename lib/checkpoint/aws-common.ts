import { FerryError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { abortError } from '../core/signal.ts';

/**
 * What the DynamoDB and S3 stores share: client settings and the mapping of AWS SDK failures to ferry codes.
 * Invariant: no message built here contains a credential (the SDK's own messages never echo secrets; we never
 * add the client config to a message or log line).
 */

/** Connection settings of an AWS-backed store. Credentials default to the SDK chain (env, profile, role). */
export interface AwsStoreConnection {
  region?: string;
  /** A stand-in or VPC endpoint (`http://127.0.0.1:4566`); omitted for the real service. */
  endpoint?: string;
  /** Explicit credentials (tests, stand-ins); otherwise the SDK default chain. Never logged. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** SDK attempts per call, throttling and network errors included (default 3). */
  maxAttempts?: number;
  /** Per-request socket timeout (default 10 s) and connect timeout (default 3 s). */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** Client config for an SDK v3 client from {@link AwsStoreConnection}. */
export function clientConfig(c: AwsStoreConnection) {
  const region = c.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? (c.endpoint ? 'us-east-1' : undefined);
  if (!region) {
    throw new FerryError('CF002', 'checkpoint.region: expected an AWS region (or AWS_REGION in the environment), got nothing', {
      details: { key: 'checkpoint.region' },
    });
  }
  return {
    region,
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    ...(c.credentials ? { credentials: c.credentials } : {}),
    maxAttempts: c.maxAttempts ?? 3,
    requestHandler: { requestTimeout: c.requestTimeoutMs ?? 10_000, connectionTimeout: c.connectTimeoutMs ?? 3_000 },
  };
}

const THROTTLED = new Set([
  'ThrottlingException', 'Throttling', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'SlowDown',
  'TooManyRequestsException', 'InternalServerError', 'InternalError', 'ServiceUnavailable', 'RequestTimeout',
]);
const AUTH = new Set([
  'UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidSignatureException', 'SignatureDoesNotMatch',
  'AccessDenied', 'AccessDeniedException', 'InvalidAccessKeyId', 'ExpiredToken', 'ExpiredTokenException',
  'CredentialsProviderError', 'MissingAuthenticationTokenException',
]);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** Where a failure happened, for the message: `DynamoDB table ferry-checkpoints`, the op and the key. */
export interface AwsFailureContext {
  store: string;
  /** The config key naming the resource (`checkpoint.table` / `checkpoint.bucket`). */
  resourceKey: string;
  endpoint?: string;
  op: string;
  key: string;
  signal?: AbortSignal;
}

/**
 * Maps an SDK failure: abort -> RT001; throttling, 5xx, timeouts and unreachable endpoints -> CP003 retryable;
 * refused credentials -> AU001; a missing table/bucket -> CP003 not retryable naming the config key.
 */
export function awsFailure(e: unknown, c: AwsFailureContext): FerryError {
  if (e instanceof FerryError) return e;
  if (c.signal?.aborted) return abortError(c.signal);
  const err = e as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const name = err.name ?? 'Error';
  const what = `checkpoint: ${c.store} ${c.op} of "${c.key}"`;
  const details = { key: c.key, op: c.op, awsError: name, httpStatus: err.$metadata?.httpStatusCode };
  const netCode = err.code && NETWORK.has(err.code) ? err.code : findNetworkCode(e);
  if (netCode || name === 'TimeoutError' || name === 'RequestTimeoutError') {
    const where = c.endpoint ? `endpoint ${c.endpoint}` : 'the AWS endpoint';
    return new FerryError('CP003', `${what} failed: ${where} unreachable (${netCode ?? name})`, { cause: e, details: { ...details, errno: netCode } });
  }
  if (AUTH.has(name) || err.$metadata?.httpStatusCode === 403) {
    return new FerryError('AU001', `${what} refused: credentials not accepted (${name}); check the AWS credentials and the policy on ${c.resourceKey}`, {
      cause: e,
      details,
    });
  }
  if (name === 'ResourceNotFoundException' || name === 'NoSuchBucket') {
    return new FerryError('CP003', `${what} failed: ${c.resourceKey} names a ${c.store} that does not exist (${name})`, {
      cause: e,
      retryable: false,
      details: { ...details, configKey: c.resourceKey },
    });
  }
  const throttled = THROTTLED.has(name) || (err.$metadata?.httpStatusCode ?? 0) >= 500;
  return new FerryError('CP003', `${what} failed: ${name}: ${err.message ?? String(e)}`, { cause: e, retryable: throttled || Boolean(err.$retryable), details });
}

/** Node's network errno may sit on a nested cause (AggregateError of a dual-stack connect). */
function findNetworkCode(e: unknown, depth = 0): string | undefined {
  if (!e || typeof e !== 'object' || depth > 4) return undefined;
  const o = e as { code?: unknown; cause?: unknown; errors?: unknown[] };
  if (typeof o.code === 'string' && NETWORK.has(o.code)) return o.code;
  for (const inner of [o.cause, ...(Array.isArray(o.errors) ? o.errors : [])]) {
    const found = findNetworkCode(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}

const LONE_SURROGATE = /\p{Cs}/u;

/** RT002 unless `key` is a non-empty, well-formed UTF-16 string (lone surrogates would collide once encoded). */
export function checkKeyText(key: string, what = 'key'): void {
  if (key === '') throw new FerryError('RT002', `checkpoint: ${what}s must not be empty`);
  if (LONE_SURROGATE.test(key)) throw new FerryError('RT002', `checkpoint: ${what} ${JSON.stringify(key)} holds a lone surrogate (not valid UTF-8)`);
}

/** `call` runs one SDK request and maps its failure; `failure` maps (and debug-logs) one already caught. */
export function awsCalls(where: Pick<AwsFailureContext, 'store' | 'resourceKey' | 'endpoint'>, logger: Logger) {
  const failure = (e: unknown, op: string, key: string, signal: AbortSignal | undefined): FerryError => {
    const err = awsFailure(e, { ...where, op, key, signal });
    logger.debug('checkpoint store call failed', { store: where.store, op, key, code: err.code, retryable: err.retryable });
    return err;
  };
  const call = async <R>(op: string, key: string, signal: AbortSignal | undefined, send: () => Promise<R>): Promise<R> => {
    try {
      return await send();
    } catch (e) {
      throw failure(e, op, key, signal);
    }
  };
  return { call, failure };
}
