import { parseArgs } from 'node:util';

/** The three snapshot paths, each compared with the peer tool a user would otherwise reach for. */
export const PATH_IDS = ['mm', 'pp', 'mp'] as const;
export type PathId = (typeof PATH_IDS)[number];

export interface SnapshotBenchOptions {
  rows: number;
  fresh: boolean;
  /** ferry runs once per (parallel, batch) pair, so a sweep is one command. */
  parallel: number[];
  batch: number[];
  /** Rows per planned chunk; undefined = rows / (4 x parallel), so every worker gets several chunks. */
  chunkRows?: number;
  /** pipeline.buffer_size; undefined = ferry's default (16000 rows). */
  buffer?: number;
  paths: PathId[];
  peers: boolean;
  json: boolean;
  cpuProf: boolean;
  keep: boolean;
  /** Extra task_config.ini keys (`section.key=value`), e.g. a connector's write mode. */
  set: Array<{ section: string; key: string; value: string }>;
  /** Runs of each copy; the median is reported. */
  repeat: number;
  /** Seconds before a copy is considered hung and stopped. */
  timeout: number;
  /**
   * ferry creates its own target as ape-dts users do (struct database,table -> snapshot -> struct
   * constraint,index), all three timed, instead of copying into a table the bench made with every index.
   */
  struct: boolean;
  /** With `struct`: the three tasks in one `ferry run struct1.ini copy.ini struct2.ini` process instead of three. */
  oneCommand: boolean;
}

export const SNAPSHOT_USAGE = `npm run bench -- snapshot [options]
  --rows N          rows in sbtest1 (default 1000000)
  --fresh           regenerate the source tables even when they already hold N rows
  --parallel N[,N]  ferry chunks copied at once (default 4); a list runs ferry once per value
  --batch N[,N]     extractor and sinker batch_size (default 5000); a list runs once per value
  --chunk-rows N    rows per planned chunk (default rows / (4 x parallel))
  --buffer N        pipeline.buffer_size in rows (default: ferry's, 16000)
  --paths mm,pp,mp  mysql->mysql, pg->pg, mysql->pg (default all three)
  --no-peers        time ferry only (no mysqldump, pg_dump, pgloader)
  --cpu-prof        run ferry under --cpu-prof and print the top frames
  --keep            keep the target tables and ferry's work folder (default: dropped)
  --repeat N        run every copy N times and report the median (default 1)
  --timeout S       stop a copy that takes longer than S seconds (default 3600)
  --struct          ferry creates the target itself: struct (database,table), snapshot, struct (constraint,index),
                    all timed as ferry's run -- secondary indexes built after the data, as pg_dump and pgloader do
  --one-command     with --struct: the three tasks as one command, ferry run struct1.ini copy.ini struct2.ini
                    (one process start instead of three)
  --set S.K=V       add a key to ferry's task_config.ini, e.g. --set sinker.pg_write_mode=copy (repeatable)
  --json            print the results as JSON instead of a table (npm run -s keeps npm quiet)
Servers: the project's own (npm run services -- up); FERRY_MYSQL_PORT / FERRY_PG_PORT / FERRY_SERVICES_DIR
select another instance, as for scripts/services.sh.`;

const list = (s: string, name: string): number[] => {
  const out = s.split(',').map((x) => Number(x.trim()));
  if (out.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--${name}: expected positive integers, got "${s}"`);
  return out;
};

function parseSet(s: string): { section: string; key: string; value: string } {
  const m = /^([a-z_]+)\.([a-z_0-9]+)=(.*)$/.exec(s);
  if (!m) throw new Error(`--set: expected section.key=value, got "${s}"`);
  return { section: m[1], key: m[2], value: m[3] };
}

/** Parses the snapshot bench's argv; returns undefined after printing usage for --help. */
export function parseSnapshotOptions(argv: string[]): SnapshotBenchOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rows: { type: 'string', default: '1000000' },
      fresh: { type: 'boolean', default: false },
      parallel: { type: 'string', default: '4' },
      batch: { type: 'string', default: '5000' },
      'chunk-rows': { type: 'string' },
      buffer: { type: 'string' },
      paths: { type: 'string', default: PATH_IDS.join(',') },
      'no-peers': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      struct: { type: 'boolean', default: false },
      'one-command': { type: 'boolean', default: false },
      timeout: { type: 'string', default: '3600' },
      repeat: { type: 'string', default: '1' },
      set: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(SNAPSHOT_USAGE + '\n');
    return undefined;
  }
  const paths = values.paths!.split(',').map((p) => p.trim());
  for (const p of paths) if (!(PATH_IDS as readonly string[]).includes(p)) throw new Error(`--paths: unknown path "${p}" (use ${PATH_IDS.join(',')})`);
  return {
    rows: list(values.rows!, 'rows')[0],
    fresh: values.fresh!,
    parallel: list(values.parallel!, 'parallel'),
    batch: list(values.batch!, 'batch'),
    chunkRows: values['chunk-rows'] ? list(values['chunk-rows'], 'chunk-rows')[0] : undefined,
    buffer: values.buffer ? list(values.buffer, 'buffer')[0] : undefined,
    paths: paths as PathId[],
    peers: !values['no-peers'],
    json: values.json!,
    cpuProf: values['cpu-prof']!,
    keep: values.keep!,
    struct: values.struct! || values['one-command']!,
    oneCommand: values['one-command']!,
    timeout: list(values.timeout!, 'timeout')[0],
    repeat: list(values.repeat!, 'repeat')[0],
    set: values.set!.map(parseSet),
  };
}
