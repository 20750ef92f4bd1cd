/**
 * An ape-dts MySQL URL (`mysql://root:pw@127.0.0.1:3307?ssl-mode=disabled`) plus the endpoint's
 * `username`/`password` -> mysql2 pool options.
 *
 * Invariant: the resolved options are the only place the password lives; `address` (host:port) is what
 * messages and logs name.
 */
import { readFileSync } from 'node:fs';
import type { PoolOptions, SslOptions } from 'mysql2/promise';
import { FerryError } from '../../core/errors.ts';
import type { EndpointConfig } from '../../config/types.ts';
import { typeCast } from './type-map.ts';

export type SslMode = 'disabled' | 'preferred' | 'required' | 'verify_ca' | 'verify_identity';

export interface ResolvedMysqlConfig {
  /** `host:port`, safe to print. */
  address: string;
  sslMode: SslMode;
  /** Database from the URL path, if any (ape-dts URLs usually have none). */
  database?: string;
  pool: PoolOptions;
}

const SSL_MODES: Record<string, SslMode> = {
  disabled: 'disabled',
  disable: 'disabled',
  preferred: 'preferred',
  prefer: 'preferred',
  required: 'required',
  require: 'required',
  verify_ca: 'verify_ca',
  'verify-ca': 'verify_ca',
  verify_identity: 'verify_identity',
  'verify-identity': 'verify_identity',
  'verify-full': 'verify_identity',
};

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** Parses the endpoint. CF001 naming `url` when it is not a mysql:// URL (the text itself is not echoed). */
export function resolveMysqlConfig(ep: Pick<EndpointConfig, 'url' | 'username' | 'password' | 'maxConnections'>): ResolvedMysqlConfig {
  let u: URL;
  try {
    u = new URL(ep.url);
  } catch {
    throw new FerryError('CF001', 'url: not a valid mysql:// URL', { details: { key: 'url' } });
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') {
    throw new FerryError('CF001', `url: expected scheme mysql://, got ${u.protocol}//`, { details: { key: 'url' } });
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = u.port ? Number(u.port) : 3306;
  const params = new Map<string, string>();
  for (const [k, v] of u.searchParams) params.set(k.toLowerCase().replace(/_/g, '-'), v);

  const rawMode = (params.get('ssl-mode') ?? params.get('sslmode') ?? 'preferred').toLowerCase();
  const sslMode = SSL_MODES[rawMode];
  if (!sslMode) {
    throw new FerryError('CF001', `url: ssl-mode must be one of disabled, preferred, required, verify_ca, verify_identity (got "${rawMode}")`, {
      details: { key: 'url' },
    });
  }
  const database = u.pathname.length > 1 ? decode(u.pathname.slice(1)) : undefined;
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;

  const pool: PoolOptions = {
    host,
    port,
    user: ep.username ?? (u.username ? decode(u.username) : 'root'),
    password: ep.password ?? (u.password ? decode(u.password) : undefined),
    database,
    connectionLimit: Math.max(1, ep.maxConnections || 1),
    maxIdle: Math.max(1, ep.maxConnections || 1),
    idleTimeout: 60_000,
    waitForConnections: true,
    queueLimit: 0,
    enableKeepAlive: true,
    connectTimeout: Number(params.get('connect-timeout') ?? 10) * 1000 || 10_000,
    charset: 'utf8mb4_general_ci',
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    dateStrings: true,
    jsonStrings: true,
    multipleStatements: false,
    typeCast: typeCast as PoolOptions['typeCast'],
    ssl: sslOptions(sslMode, params),
  };
  return { address, sslMode, database, pool };
}

/**
 * mysql2 has no opportunistic TLS: `preferred` starts with TLS (unverified) and client.ts falls back to a
 * plain connection when the server answers HANDSHAKE_NO_SSL_SUPPORT -- what the mysql CLI does.
 */
export function sslOptions(mode: SslMode, params: Map<string, string>): SslOptions | undefined {
  if (mode === 'disabled') return undefined;
  const caPath = params.get('ssl-ca');
  const ca = caPath ? readCa(caPath) : undefined;
  const cert = params.get('ssl-cert');
  const key = params.get('ssl-key');
  const base: SslOptions = { ca, cert: cert ? readCa(cert) : undefined, key: key ? readCa(key) : undefined };
  if (mode === 'preferred' || mode === 'required') return { ...base, rejectUnauthorized: false };
  // verify_ca: the chain must check out, the host name need not match.
  if (mode === 'verify_ca') return { ...base, rejectUnauthorized: true, verifyIdentity: false };
  return { ...base, rejectUnauthorized: true, verifyIdentity: true };
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new FerryError('CF001', `url: cannot read TLS file ${path}: ${(e as Error).message}`, { cause: e, details: { key: 'url' } });
  }
}
