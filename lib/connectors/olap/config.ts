/**
 * The `[sinker]` keys of a StarRocks / Doris endpoint (ape-dts names, plus a few ferry additions):
 *
 *   url=mysql://root:pw@fe-host:9030          FE query port (MySQL protocol): metadata, DDL
 *   stream_load_url=mysql://root:pw@host:8030 FE (or BE) HTTP port for Stream Load; ape-dts writes it with a
 *                                             mysql:// scheme and the credentials; http:// and https:// work too
 *   username= / password=                     override the URLs' user info
 *   stream_load_max_bytes=67108864            ferry: JSON body bytes per Stream Load (a batch is cut to fit)
 *   stream_load_label_prefix=ferry            ferry: label prefix (labels dedupe retries, see label.ts)
 *   stream_load_timeout_secs=600              ferry: per-request timeout (also sent as the `timeout` header)
 *   replication_num=1, buckets=auto           ferry: table properties for structure migration
 *
 * Invariant: `ResolvedOlapConfig.feUrl` / `loadUrl` never carry the password; it lives in `password` only.
 */
import { FerryError } from '../../core/errors.ts';
import type { EndpointConfig } from '../../config/types.ts';

export interface ResolvedOlapConfig {
  /** FE MySQL-protocol address. */
  fe: { host: string; port: number; database?: string };
  /** `http(s)://host:port` of the Stream Load endpoint, no credentials. */
  loadUrl: string;
  user: string;
  password: string;
  maxConnections: number;
  maxBodyBytes: number;
  labelPrefix: string;
  timeoutSecs: number;
  replicationNum: number;
  /** Bucket count for CREATE TABLE, or 'auto'. */
  buckets: number | 'auto';
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
/** The FE's default HTTP port (StarRocks and Doris). */
export const DEFAULT_FE_HTTP_PORT = 8030;

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

function parseUrl(text: string, key: string, schemes: string[]): URL {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new FerryError('CF001', `sinker.${key}: not a valid URL (expected ${schemes.map((s) => `${s}//`).join(' or ')})`, { details: { key: `sinker.${key}` } });
  }
  if (!schemes.includes(u.protocol)) {
    throw new FerryError('CF001', `sinker.${key}: expected scheme ${schemes.map((s) => `${s}//`).join(' or ')}, got ${u.protocol}//`, { details: { key: `sinker.${key}` } });
  }
  return u;
}

function positiveInt(raw: Record<string, string>, key: string, dflt: number, min = 1): number {
  const v = raw[key]?.trim();
  if (v === undefined || v === '') return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new FerryError('CF001', `sinker.${key}: expected an integer >= ${min}, got "${v.slice(0, 40)}"`, { details: { key: `sinker.${key}` } });
  return Number(v);
}

/** Endpoint -> resolved config; CF001 naming `sinker.<key>` for a bad value (the value itself not echoed for URLs). */
export function resolveOlapConfig(ep: Pick<EndpointConfig, 'url' | 'username' | 'password' | 'maxConnections' | 'raw'>): ResolvedOlapConfig {
  const raw = ep.raw ?? {};
  const fe = parseUrl(ep.url, 'url', ['mysql:']);
  const feHost = fe.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const loadText = raw.stream_load_url?.trim();
  const load = loadText ? parseUrl(loadText, 'stream_load_url', ['mysql:', 'http:', 'https:']) : undefined;
  const scheme = load?.protocol === 'https:' ? 'https:' : 'http:';
  const loadHost = load ? load.host : `${fe.hostname}:${DEFAULT_FE_HTTP_PORT}`;
  const user = ep.username ?? (fe.username ? decode(fe.username) : load?.username ? decode(load.username) : 'root');
  const password = ep.password ?? (fe.password ? decode(fe.password) : load?.password ? decode(load.password) : '');
  const bucketsText = raw.buckets?.trim().toLowerCase();
  return {
    fe: { host: feHost, port: fe.port ? Number(fe.port) : 9030, database: fe.pathname.length > 1 ? decode(fe.pathname.slice(1)) : undefined },
    loadUrl: `${scheme}//${loadHost}`,
    user,
    password,
    maxConnections: Math.max(1, ep.maxConnections || 1),
    maxBodyBytes: positiveInt(raw, 'stream_load_max_bytes', DEFAULT_MAX_BODY_BYTES, 1024),
    labelPrefix: labelPrefix(raw.stream_load_label_prefix),
    timeoutSecs: positiveInt(raw, 'stream_load_timeout_secs', 600),
    replicationNum: positiveInt(raw, 'replication_num', 1),
    buckets: !bucketsText || bucketsText === 'auto' ? 'auto' : positiveInt(raw, 'buckets', 0),
  };
}

function labelPrefix(v: string | undefined): string {
  const p = (v ?? 'ferry').trim() || 'ferry';
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(p)) {
    throw new FerryError('CF001', 'sinker.stream_load_label_prefix: expected 1-40 characters of A-Z a-z 0-9 _ -', { details: { key: 'sinker.stream_load_label_prefix' } });
  }
  return p;
}
