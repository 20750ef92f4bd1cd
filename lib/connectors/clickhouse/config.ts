/**
 * An ape-dts ClickHouse sinker endpoint (`url=http://host:8123`, `username`, `password`) -> client options.
 *
 * Invariant: the password lives only in the resolved options; `address` (scheme://host:port) is what
 * messages and logs name.
 */
import { FerryError } from '../../core/errors.ts';
import type { EndpointConfig } from '../../config/types.ts';

export interface ResolvedClickhouseConfig {
  /** `http://host:port`, safe to print. */
  address: string;
  url: string;
  username: string;
  password: string;
  /** Parallel HTTP connections (sinker.max_connections). */
  maxConnections: number;
  /** Request timeout (ms): URL parameter `request_timeout`, default 300 s (large inserts and mutations). */
  requestTimeoutMs: number;
}

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** Parses the endpoint. CF001 naming `url` when it is not an http(s):// URL (the text itself is not echoed). */
export function resolveClickhouseConfig(ep: Pick<EndpointConfig, 'url' | 'username' | 'password' | 'maxConnections'>): ResolvedClickhouseConfig {
  let u: URL;
  try {
    u = new URL(ep.url);
  } catch {
    throw new FerryError('CF001', 'url: not a valid http:// URL for ClickHouse', { details: { key: 'url' } });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new FerryError('CF001', `url: expected scheme http:// or https:// (ClickHouse HTTP interface), got ${u.protocol}//`, { details: { key: 'url' } });
  }
  const port = u.port || (u.protocol === 'https:' ? '8443' : '8123');
  const address = `${u.protocol}//${u.hostname}:${port}`;
  const timeout = Number(u.searchParams.get('request_timeout') ?? 300_000);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new FerryError('CF001', 'url: request_timeout must be a positive number of milliseconds', { details: { key: 'url' } });
  return {
    address,
    url: address,
    username: ep.username ?? (u.username ? decode(u.username) : 'default'),
    password: ep.password ?? (u.password ? decode(u.password) : ''),
    maxConnections: Math.max(1, ep.maxConnections || 1),
    requestTimeoutMs: timeout,
  };
}
