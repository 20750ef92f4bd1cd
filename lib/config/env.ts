import { FerryError } from '../core/errors.ts';

export type EnvMap = Record<string, string | undefined>;

// `$${` first so an escaped `${` is consumed before it can look like a reference.
const REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${NAME}` with `env.NAME` and `${NAME:-fallback}` with `env.NAME` or, when unset or empty, the
 * fallback; `$${` is written as a literal `${`. Text like `${1,2}` (not a variable name) is left alone, so
 * regex values pass through.
 * Invariant: a reference to an unset variable without fallback throws CF002 naming `where` (the
 * `section.key`) and the variable -- never the value of any variable.
 */
export function substituteEnv(value: string, env: EnvMap, where: string): string {
  if (!value.includes('${')) return value;
  return value.replace(REF, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    const v = env[name!];
    if (fallback !== undefined) return v === undefined || v === '' ? fallback : v;
    if (v === undefined) {
      throw new FerryError('CF002', `${where}: expected environment variable ${name} to be set, got nothing`, {
        details: { key: where, variable: name },
      });
    }
    return v;
  });
}

/** {@link substituteEnv} over every string inside a TOML/JSON value (arrays and tables included). */
export function substituteEnvDeep(value: unknown, env: EnvMap, where: string): unknown {
  if (typeof value === 'string') return substituteEnv(value, env, where);
  if (Array.isArray(value)) return value.map((v) => substituteEnvDeep(v, env, where));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnvDeep(v, env, where)]));
  }
  return value;
}
