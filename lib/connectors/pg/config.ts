import { readFileSync } from 'node:fs';
import type { PoolConfig } from 'pg';
import { FerryError } from '../../core/errors.ts';
import type { EndpointConfig } from '../../config/types.ts';

/**
 * Session settings every ferry connection starts with. They make text output deterministic, which the
 * codecs in type-map.ts rely on: UTC for timestamptz, ISO dates, postgres-style intervals, shortest-exact
 * floats (extra_float_digits > 0 on 12+, exact on older servers), hex bytea, literal backslashes in strings.
 */
const SESSION_DEFAULTS: Record<string, string> = {
  TimeZone: 'UTC',
  DateStyle: 'ISO, YMD',
  IntervalStyle: 'postgres',
  extra_float_digits: '3',
  bytea_output: 'hex',
  standard_conforming_strings: 'on',
  client_encoding: 'UTF8',
};

/**
 * The startup `options` of a replication connection: ferry's output formats only. pgoutput prints values
 * with the walsender's settings, so they must match the snapshot sessions'; the URL's own `options[...]`
 * (statement_timeout and the like) are left out, as ape-dts strips them from its replication connection.
 */
export const replicationSessionOptions = (): string => Object.entries(SESSION_DEFAULTS).map(([k, v]) => `-c ${k}=${escapeOpt(v)}`).join(' ');

/** Where a pool connects, without secrets: for messages (`host:port/db`). */
export interface PgTarget {
  host: string;
  port: number;
  database: string;
  label: string;
}

export interface PgPoolSettings {
  pool: PoolConfig;
  target: PgTarget;
}

/** Escapes a value for the startup `options` string (libpq: backslash before spaces and backslashes). */
const escapeOpt = (v: string): string => v.replace(/\\/g, '\\\\').replace(/ /g, '\\ ');

function sslFromMode(mode: string | null, params: URLSearchParams, key: string): PoolConfig['ssl'] {
  if (!mode) return undefined;
  switch (mode) {
    case 'disable':
    case 'allow':
    case 'prefer':
      // node-postgres cannot fall back from TLS to plain text, so allow/prefer behave as disable (documented).
      return false;
    case 'require':
    case 'no-verify':
      return { rejectUnauthorized: false };
    case 'verify-ca':
    case 'verify-full': {
      const ca = params.get('sslrootcert');
      return {
        rejectUnauthorized: true,
        ...(ca ? { ca: readFileSync(ca, 'utf8') } : {}),
        ...(mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
      };
    }
    default:
      throw new FerryError('CF001', `${key}: unsupported sslmode "${mode}" (disable|prefer|require|verify-ca|verify-full)`, {
        details: { key },
      });
  }
}

/**
 * Reads an ape-dts PostgreSQL URL: `postgres[ql]://user:pw@host:port/db?options[statement_timeout]=10s&sslmode=require`.
 * `options[name]=value` become session settings (`-c name=value`); a libpq-style `options=-c a=b` is kept too.
 * `username`/`password` of the endpoint section win over the URL's. Never echoes the password.
 */
export function parsePgUrl(endpoint: Pick<EndpointConfig, 'url' | 'username' | 'password' | 'maxConnections'>, key = 'url'): PgPoolSettings {
  let u: URL;
  try {
    u = new URL(endpoint.url);
  } catch {
    throw new FerryError('CF001', `${key}: not a valid PostgreSQL URL (expected postgres://user:password@host:port/database)`, {
      details: { key },
    });
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new FerryError('CF001', `${key}: expected a postgres:// or postgresql:// URL, got "${u.protocol}//"`, { details: { key } });
  }
  const params = u.searchParams;
  const userSettings: Record<string, string> = {};
  const extraOptions: string[] = [];
  for (const [k, v] of params) {
    const m = /^options\[(.+)\]$/.exec(k);
    if (m) userSettings[m[1]] = v;
    else if (k === 'options') extraOptions.push(v);
  }
  // The codecs depend on these output formats, so a URL cannot change them (statement_timeout etc. it can).
  const settings: Record<string, string> = { ...userSettings, ...SESSION_DEFAULTS };
  const user = endpoint.username ?? (decodeURIComponent(u.username) || params.get('user') || 'postgres');
  const password = endpoint.password ?? (u.password ? decodeURIComponent(u.password) : (params.get('password') ?? undefined));
  const host = params.get('host') ?? (u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost');
  const port = Number(params.get('port') ?? (u.port || 5432));
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || params.get('dbname') || user;
  const options = [...extraOptions, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${escapeOpt(v)}`)].join(' ');
  const connectTimeout = Number(params.get('connect_timeout') ?? 10);
  const sslmode = params.get('sslmode');

  const pool: PoolConfig = {
    host,
    port,
    database,
    user,
    password,
    options,
    max: Math.max(1, endpoint.maxConnections || 1),
    ssl: sslFromMode(sslmode, params, key),
    application_name: params.get('application_name') ?? 'ferry',
    connectionTimeoutMillis: Math.max(1, connectTimeout) * 1000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  };
  return { pool, target: { host, port, database, label: `${host}:${port}/${database}` } };
}
