import { z } from 'zod';
import { FerryError, redactSecrets } from '../core/errors.ts';

/**
 * Typed config fields: each is a zod schema that accepts the INI string form (`"200"`, `"true"`,
 * `json:[...]`) as well as the native TOML/JSON form (`200`, `true`, `[...]`), plus the words that say
 * what was expected. {@link readSection} turns a failure into ONE line: `section.key: expected X, got Y`.
 */
export interface Field<T = unknown> {
  schema: z.ZodType<T, z.ZodTypeDef, unknown>;
  expected: string;
  required?: boolean;
}

const INT = /^\+?\d+$/;

const toInt = (v: unknown): unknown => (typeof v === 'string' && INT.test(v.trim()) ? Number(v.trim()) : v);
const toBool = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  return s === 'true' ? true : s === 'false' ? false : v;
};
const toText = (v: unknown): unknown => (typeof v === 'number' || typeof v === 'bigint' ? String(v) : v);

/** A string, trimmed (numbers from TOML/JSON are accepted as their text). */
export const text = (expected = 'a string'): Field<string> => ({
  schema: z.preprocess(toText, z.string().transform((s) => s.trim())),
  expected,
});

/** An integer >= min (default 1). */
export const int = (min = 1): Field<number> => ({
  schema: z.preprocess(toInt, z.number().int().min(min).max(Number.MAX_SAFE_INTEGER)),
  expected: min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`,
});

/** `true` or `false` (any letter case). */
export const bool = (): Field<boolean> => ({ schema: z.preprocess(toBool, z.boolean()), expected: 'true or false' });

/** One of `values`, compared lower-cased. */
export const oneOf = <T extends string>(values: readonly [T, ...T[]]): Field<T> => ({
  schema: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(values)),
  expected: `one of ${values.join(', ')}`,
});

/** A comma list as INI writes it, or a TOML/JSON array of items (joined with `,` for the tokenizer). */
export const list = (expected: string): Field<string> => ({
  schema: z.preprocess((v) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.join(',') : v), z.string()),
  expected,
});

/** A map written `src:dst,...`, or a TOML/JSON table `{ src = "dst" }` / array of `src:dst` strings. */
export const mapping = (expected: string): Field<string> => ({
  schema: z.preprocess((v) => {
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(',');
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const e = Object.entries(v);
      if (e.every(([, d]) => typeof d === 'string')) return e.map(([s, d]) => `${s}:${d}`).join(',');
    }
    return v;
  }, z.string()),
  expected,
});

const NOT_JSON = Symbol('not json');

/** ape-dts `json:` values: a string with an optional `json:` prefix, or the native TOML/JSON value. */
export const json = <T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, expected: string): Field<T> => ({
  schema: z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    const body = v.trim().replace(/^json:/, '');
    try {
      return JSON.parse(body);
    } catch {
      return NOT_JSON;
    }
  }, schema),
  expected,
});

const SENSITIVE = /pass(word|wd)?|pwd|secret|token|credential/i;

/** How a value is echoed in a message: secrets as ***, URLs without their password, long text cut. */
export function showValue(key: string, v: unknown): string {
  if (SENSITIVE.test(key)) return '"***"';
  let s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  if (key === 'url' || key.endsWith('_url') || /:\/\//.test(s)) s = redactSecrets(s);
  if (s.length > 80) s = `${s.slice(0, 77)}...`;
  return JSON.stringify(s);
}

export const isBlank = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

type Out<F> = { [K in keyof F]: F[K] extends Field<infer T> ? T | undefined : never };

/**
 * Reads the `fields` of one section. Invariants: a blank value counts as absent (ape-dts: empty = default);
 * an absent `required` field throws CF002, a value its schema refuses throws CF001, each naming
 * `section.key` with what was expected and (redacted) what was got.
 */
export function readSection<F extends Record<string, Field<any>>>(section: string, fields: F, raw: Record<string, unknown>): Out<F> {
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(fields)) {
    const v = raw[key];
    if (isBlank(v)) {
      if (f.required) throw missing(`${section}.${key}`, f.expected);
      continue;
    }
    const r = f.schema.safeParse(v);
    if (!r.success) throw invalid(`${section}.${key}`, f.expected, v);
    out[key] = r.data;
  }
  return out as Out<F>;
}

/** CF002 for a required key that is absent or empty. */
export const missing = (where: string, expected: string): FerryError =>
  new FerryError('CF002', `${where}: expected ${expected}, got nothing (key missing or empty)`, { details: { key: where } });

/** CF001 for a value of the wrong type, range or format. */
export const invalid = (where: string, expected: string, got: unknown): FerryError =>
  new FerryError('CF001', `${where}: expected ${expected}, got ${showValue(where.split('.').pop()!, got)}`, {
    details: { key: where },
  });

/** CF003 for keys that contradict each other. */
export const contradiction = (message: string, keys: string[]): FerryError =>
  new FerryError('CF003', message, { details: { keys } });
