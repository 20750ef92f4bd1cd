/**
 * One Stream Load request (`PUT /api/{db}/{table}/_stream_load`) over node:http, shared by the StarRocks and
 * Doris connectors.
 *
 * Why node:http and not fetch: fetch (undici) refuses an `Expect: 100-continue` header, and on the FE's
 * 307 to a BE on another host:port it drops `Authorization` (a cross-origin redirect), so the BE answers
 * 401. Here the body is sent only after `100 Continue`; a redirect answered before that costs no upload, and
 * the request is replayed to `Location` with the same headers, Basic auth included.
 *
 * Invariant: the password travels only in the Authorization header; no URL, log field or error message
 * built here contains it.
 */
import http from 'node:http';
import https from 'node:https';
import { FerryError } from '../../core/errors.ts';
import { abortError } from '../../core/signal.ts';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The URL that answered (after redirects), without credentials. */
  url: string;
}

export interface PutOptions {
  headers: Record<string, string>;
  body: Buffer;
  /** Basic auth; sent to every hop of the redirect chain. */
  auth: { user: string; password: string };
  signal: AbortSignal;
  /** Per-request timeout in ms (socket idle and total wait for an answer); default 600 s. */
  timeoutMs?: number;
  /** Redirects followed at most (FE -> BE is one); default 3. */
  maxRedirects?: number;
  /** How long to wait for `100 Continue` before sending the body anyway (curl: 1 s). */
  continueWaitMs?: number;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/** PUT with `Expect: 100-continue`, following 307/308 (and 301/302/303 as the FE never sends them) by hand. */
export async function putFollowing(url: string, o: PutOptions): Promise<HttpAnswer> {
  let target = new URL(url);
  const max = o.maxRedirects ?? 3;
  for (let hop = 0; ; hop++) {
    const answer = await putOnce(target, o);
    if (answer.status >= 300 && answer.status < 400 && answer.headers.location) {
      if (hop >= max) throw new FerryError('CN001', `stream load: more than ${max} redirects from ${safeUrl(target)}`, { retryable: false });
      target = new URL(answer.headers.location, target);
      continue;
    }
    return answer;
  }
}

function putOnce(target: URL, o: PutOptions): Promise<HttpAnswer> {
  if (o.signal.aborted) return Promise.reject(abortError(o.signal));
  const lib = target.protocol === 'https:' ? https : http;
  const auth = 'Basic ' + Buffer.from(`${o.auth.user}:${o.auth.password}`).toString('base64');
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      o.signal.removeEventListener('abort', onAbort);
      f();
    };
    const req = lib.request(
      {
        protocol: target.protocol,
        hostname: target.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: target.port,
        path: target.pathname + target.search,
        method: 'PUT',
        headers: { ...o.headers, Authorization: auth, Expect: '100-continue', 'Content-Length': String(o.body.length) },
        agent: false,
        timeout: o.timeoutMs ?? 600_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), url: safeUrl(target) }));
          // An answer before 100 Continue (the FE's redirect, an auth refusal): the body was never sent, and
          // this connection (promised Content-Length bytes) cannot be reused.
          if (!req.writableEnded) req.destroy();
        });
        res.on('error', (e) => finish(() => reject(networkError(e, target))));
      },
    );
    const onAbort = () => {
      req.destroy();
      finish(() => reject(abortError(o.signal)));
    };
    o.signal.addEventListener('abort', onAbort, { once: true });
    let answered = false;
    req.on('response', () => (answered = true));
    const send = () => {
      clearTimeout(fallback);
      if (!answered && !req.writableEnded && !req.destroyed) req.end(o.body);
    };
    // As curl does: a server that ignores Expect gets the body after a short wait anyway.
    const fallback = setTimeout(send, o.continueWaitMs ?? 1_000);
    req.on('continue', send);
    req.on('close', () => clearTimeout(fallback));
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => finish(() => reject(networkError(e, target))));
    req.flushHeaders();
  });
}

/** A GET (the ErrorURL a failed load names); answers the body's first `maxBytes`. */
export function getText(url: string, signal: AbortSignal, maxBytes = 64 * 1024, timeoutMs = 10_000): Promise<string> {
  const target = new URL(url);
  const lib = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(target, { timeout: timeoutMs, signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        if (text.length >= maxBytes) res.destroy();
      });
      res.on('close', () => resolve(text.slice(0, maxBytes)));
      res.on('error', () => resolve(text));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => reject(networkError(e, target)));
  });
}

/** CN001 (retryable) naming host:port; the URL printed has no credentials. */
export function networkError(e: unknown, target: URL): FerryError {
  if (e instanceof FerryError) return e;
  const code = (e as { code?: string }).code;
  const msg = (e as Error).message ?? String(e);
  return new FerryError('CN001', `stream load: ${safeUrl(target)} unreachable (${code ?? msg})`, {
    cause: e,
    retryable: true,
    details: { address: target.host, driverCode: code, network: code ? NETWORK_CODES.has(code) : undefined },
  });
}

/** `http://host:port/path` without user info or query. */
export const safeUrl = (u: URL): string => `${u.protocol}//${u.host}${u.pathname}`;
