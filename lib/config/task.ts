import { createHash } from 'node:crypto';
import { FerryError } from '../core/errors.ts';
import type { TaskConfig } from './types.ts';
import { substituteEnvDeep, type EnvMap } from './env.ts';
import { buildExtractor, buildSinker, EXTRACTOR_FIELDS, SINKER_FIELDS } from './endpoints.ts';
import { buildFilter, FILTER_FIELDS } from './filter-config.ts';
import { buildRouter, ROUTER_FIELDS } from './router-config.ts';
import {
  buildCheckpoint, buildParallelizer, buildPipeline, buildRuntime, readTaskId,
  CHECKPOINT_FIELDS, GLOBAL_FIELDS, PARALLELIZER_FIELDS, PIPELINE_FIELDS, RUNTIME_FIELDS,
} from './sections.ts';
import { contradiction } from './fields.ts';
import { collectWarnings } from './warnings.ts';

export type Sections = Record<string, Record<string, unknown>>;

/** The keys each section turns into typed TaskConfig fields. */
export const IMPLEMENTED: Record<string, ReadonlySet<string>> = {
  extractor: new Set(Object.keys(EXTRACTOR_FIELDS)),
  sinker: new Set(Object.keys(SINKER_FIELDS)),
  filter: new Set(Object.keys(FILTER_FIELDS)),
  router: new Set(Object.keys(ROUTER_FIELDS)),
  pipeline: new Set(Object.keys(PIPELINE_FIELDS)),
  parallelizer: new Set(Object.keys(PARALLELIZER_FIELDS)),
  runtime: new Set(Object.keys(RUNTIME_FIELDS)),
  global: new Set(Object.keys(GLOBAL_FIELDS)),
  checkpoint: new Set(Object.keys(CHECKPOINT_FIELDS)),
  resumer: new Set(),
};

/** Which sink types each extract type can run with (ape-dts TaskConfig::build_task_type, plus dummy). */
const SINKS_FOR: Record<TaskConfig['extractor']['extractType'], string[]> = {
  snapshot: ['write', 'check', 'dummy'],
  cdc: ['write', 'dummy'],
  snapshot_and_cdc: ['write', 'dummy'],
  struct: ['struct', 'check', 'dummy'],
  check_log: ['write', 'check'],
};

export interface FromSectionsOptions {
  /** The config file's name (no directory): the readable part of a derived task id. */
  sourceName?: string;
  /** Relative checkpoint.dir and runtime.log_dir are resolved against it when given. */
  baseDir?: string;
}

/**
 * Lower-cases section and key names (configparser does for INI, so TOML/JSON behave the same) and checks
 * every section is a table of keys (CF003 otherwise).
 */
export function normalizeSections(input: Record<string, unknown>, source = 'config'): Sections {
  const out: Sections = {};
  for (const [name, body] of Object.entries(input)) {
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      const got = Array.isArray(body) ? 'an array' : body === null ? 'null' : `a ${typeof body}`;
      throw new FerryError('CF003', `${source}: expected section [${name}] to be a table of keys, got ${got}`);
    }
    const section = (out[name.toLowerCase()] ??= {});
    for (const [k, v] of Object.entries(body)) section[k.toLowerCase()] = v;
  }
  return out;
}

/**
 * ape-dts-style identity of a task: where from, where to, what and how routed -- never credentials.
 * Built from the typed config so INI, TOML and JSON spellings of one task give one identity.
 */
function identity(c: Pick<TaskConfig, 'extractor' | 'sinker' | 'filter' | 'router'>): string {
  const bare = (url: string) => {
    try {
      const u = new URL(url);
      return `${u.protocol}//${u.hostname}:${u.port}${u.pathname}`;
    } catch {
      return url.replace(/\/\/[^@/]*@/, '//').replace(/\?.*$/, '');
    }
  };
  return JSON.stringify(
    [
      [c.extractor.dbType, c.extractor.extractType, bare(c.extractor.url)],
      [c.sinker.dbType, c.sinker.sinkType, bare(c.sinker.url)],
      // do_structures only selects struct phases: two struct tasks of one migration (before and after the
      // data) and the ids derived before the key existed stay the same.
      { ...c.filter, doStructures: undefined },
      c.router,
    ],
    (_k, v) => (v instanceof RegExp ? undefined : v),
  );
}

/**
 * The task id when [global] task_id is unset: `<file stem>-<8 hex>`, the hash taken over the task's
 * identity (endpoints without credentials, filter, router), so it stays the same when batch sizes or
 * passwords change but differs between two tasks that share a file name (every ape-dts task_config.ini).
 */
export function deriveTaskId(sourceName: string | undefined, idText: string): string {
  const stem = (sourceName ?? '').replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64) || 'task';
  return `${stem}-${createHash('sha256').update(idText).digest('hex').slice(0, 8)}`;
}

/**
 * Builds a validated TaskConfig from config sections -- the object form of a task_config.ini, as a Lambda
 * event carries it. Values may be INI strings or native TOML/JSON values; `${ENV}` references are
 * resolved from `env` first.
 * Invariants: the result is complete (every default applied) and valid; any problem throws one FerryError
 * (CF001 wrong value, CF002 missing key or env variable, CF003 contradiction) whose message is one line
 * naming `section.key` and never contains a password; keys ferry does not use come back as `warnings`.
 */
export function taskConfigFromSections(
  input: Record<string, unknown>,
  env: EnvMap = process.env,
  opts: FromSectionsOptions = {},
): { config: TaskConfig; warnings: string[] } {
  const normalized = normalizeSections(input, opts.sourceName);
  const s: Sections = {};
  for (const [name, body] of Object.entries(normalized)) {
    s[name] = {};
    for (const [k, v] of Object.entries(body)) s[name][k] = substituteEnvDeep(v, env, `${name}.${k}`);
  }
  const sec = (name: string) => s[name] ?? {};
  if (!s.extractor) throw new FerryError('CF002', 'extractor: expected an [extractor] section, got nothing');
  if (!s.sinker) throw new FerryError('CF002', 'sinker: expected a [sinker] section, got nothing');

  const pipeline = buildPipeline(sec('pipeline'));
  const { runtime, legacyParallelSize } = buildRuntime(sec('runtime'), opts.baseDir);
  const { extractor, chunkRows } = buildExtractor(sec('extractor'), { bufferSize: pipeline.bufferSize, legacyParallelSize });
  const sinker = buildSinker(sec('sinker'), extractor.dbType);
  const allowed = SINKS_FOR[extractor.extractType];
  if (!allowed.includes(sinker.sinkType)) {
    throw contradiction(
      `sinker.sink_type: expected ${allowed.join(' or ')} with extractor.extract_type=${extractor.extractType}, got "${sinker.sinkType}"`,
      ['sinker.sink_type', 'extractor.extract_type'],
    );
  }
  const filter = buildFilter(sec('filter'), extractor.dbType);
  const router = buildRouter(sec('router'), extractor.dbType);
  const { parallelizer, renamed } = buildParallelizer(sec('parallelizer'));
  const explicitId = readTaskId(sec('global'));
  const taskId = explicitId ?? deriveTaskId(opts.sourceName, identity({ extractor, sinker, filter, router }));
  const checkpoint = buildCheckpoint(sec('checkpoint'), taskId, opts.baseDir);

  const warnings = collectWarnings(s, IMPLEMENTED);
  if (renamed) warnings.push('parallelizer.parallel_type: rdb_check is read as snapshot by ferry');
  if (!explicitId && (extractor.extractType === 'cdc' || extractor.extractType === 'snapshot_and_cdc')) {
    warnings.push(`global.task_id: not set; derived "${taskId}" -- set it to keep CDC checkpoints when the filter or endpoints change`);
  }
  const config: TaskConfig = { taskId, extractor, sinker, filter, router, pipeline, parallelizer, runtime, checkpoint, chunkRows };
  return { config, warnings };
}

/** Chunks a process runs at once: the larger of ape-dts's extractor.parallel_size and parallelizer.parallel_size. */
export const workerCount = (cfg: TaskConfig): number => Math.max(1, cfg.extractor.parallelSize, cfg.parallelizer.parallelSize);
