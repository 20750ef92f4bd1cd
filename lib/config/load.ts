import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { FerryError } from '../core/errors.ts';
import type { TaskConfig } from './types.ts';
import type { EnvMap } from './env.ts';
import { parseIni } from './ini.ts';
import { taskConfigFromSections } from './task.ts';

export type ConfigFormat = 'ini' | 'toml' | 'json';
export type TaskConfigInput = string | { text: string; format: ConfigFormat } | Record<string, unknown>;

export interface LoadOptions {
  /** Where `${VAR}` references are looked up; default process.env. */
  env?: EnvMap;
  /** Resolves relative checkpoint.dir / runtime.log_dir; unset keeps them relative to the working directory. */
  baseDir?: string;
}

const BY_EXTENSION: Record<string, ConfigFormat> = { '.ini': 'ini', '.conf': 'ini', '.cfg': 'ini', '.toml': 'toml', '.json': 'json' };

/** Parses config text of a known format into sections; CF003 naming `source` (and line) when unparseable. */
export function parseConfigText(text: string, format: ConfigFormat, source = 'config'): Record<string, unknown> {
  if (format === 'ini') return parseIni(text, source);
  if (format === 'toml') {
    try {
      return parseToml(text) as Record<string, unknown>;
    } catch (e) {
      // First line only: the rest of smol-toml's message quotes the offending line, which may hold a secret.
      const msg = e instanceof Error ? e.message.split('\n')[0].replace(/^Invalid TOML document: /, '') : String(e);
      const at = e instanceof TomlError ? `:${e.line}:${e.column}` : '';
      throw new FerryError('CF003', `${source}${at}: expected valid TOML, got ${msg}`, { cause: e });
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    // V8 quotes a snippet of the text in its message; never echo it.
    const end = e instanceof Error && e.message.startsWith('Unexpected end');
    throw new FerryError('CF003', `${source}: expected valid JSON, got ${end ? 'an unexpected end of input' : 'a syntax error'}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new FerryError('CF003', `${source}: expected a JSON object of sections, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  return parsed as Record<string, unknown>;
}

/** Guesses the format of a file without a known extension: JSON object, else TOML if it parses, else INI. */
export function sniffFormat(text: string): ConfigFormat {
  if (text.trimStart().startsWith('{')) return 'json';
  try {
    parseToml(text);
    return 'toml';
  } catch {
    return 'ini';
  }
}

const isTextInput = (x: unknown): x is { text: string; format: ConfigFormat } =>
  !!x && typeof x === 'object' && typeof (x as { text?: unknown }).text === 'string' &&
  ['ini', 'toml', 'json'].includes((x as { format?: unknown }).format as string);

/**
 * Loads a task config: a file path (format from the extension `.ini`/`.toml`/`.json`, else sniffed), a
 * `{ text, format }` pair, or the sections as an object (a Lambda payload).
 * Invariants: resolves to a complete, valid TaskConfig plus the warnings for keys ferry does not use;
 * rejects with exactly one FerryError -- CF003 when the file cannot be read or parsed, otherwise as
 * {@link taskConfigFromSections} -- whose message is one line and holds no password.
 * The task id, when not set, is derived from the file name and the task's identity (see docs/config.md).
 */
export async function loadTaskConfig(input: TaskConfigInput, opts: LoadOptions = {}): Promise<{ config: TaskConfig; warnings: string[] }> {
  const env = opts.env ?? process.env;
  if (typeof input === 'string') {
    let text: string;
    try {
      text = await readFile(input, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'unknown error';
      throw new FerryError('CF003', `${input}: expected a readable config file, got ${code}`, { cause: e });
    }
    const format = BY_EXTENSION[extname(input).toLowerCase()] ?? sniffFormat(text);
    const name = basename(input);
    return taskConfigFromSections(parseConfigText(text, format, name), env, { sourceName: name, baseDir: opts.baseDir });
  }
  if (isTextInput(input)) {
    return taskConfigFromSections(parseConfigText(input.text, input.format), env, { baseDir: opts.baseDir });
  }
  return taskConfigFromSections(input, env, { baseDir: opts.baseDir });
}
