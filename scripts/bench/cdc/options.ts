import { parseArgs } from 'node:util';

/** The two CDC paths, each against the engine's own replication. */
export const CDC_PATH_IDS = ['pp', 'mm'] as const;
export type CdcPathId = (typeof CDC_PATH_IDS)[number];

export interface CdcBenchOptions {
  rows: number;
  /** Single-row update transactions in the backlog (apply-rate phase). */
  updates: number;
  fresh: boolean;
  /** parallelizer.parallel_size for ferry, and the native replica's parallel apply threads (MariaDB). */
  parallel: number;
  /** sinker.batch_size: source transactions are grouped up to this many changes per apply. */
  batch: number;
  parallelType: string;
  /** Client connections that write the backlog and the steady load. */
  writers: number;
  lagSecs: number;
  /** Target rate of the steady load (updates/s). */
  lagRate: number;
  /** Rows changed by the one-transaction burst of the memory phase; default = every row. */
  burstRows: number;
  paths: CdcPathId[];
  peers: boolean;
  /** Also measure the native replication's lag under the same steady load (adds lag-secs per path). */
  nativeLag: boolean;
  json: boolean;
  quick: boolean;
  cpuProf: boolean;
  /** Extra node flags for the ferry child (investigations: --max-semi-space-size=, --trace-gc ...). */
  nodeFlags: string[];
  /** Rounds of the apply phase (backlog, native, ferry); the median of each is reported. */
  repeat: number;
  /** Seconds before a catch-up counts as hung and the phase fails. */
  timeout: number;
  set: Array<{ section: string; key: string; value: string }>;
}

export const CDC_USAGE = `npm run bench -- cdc [options]
  --rows N          rows in sbtest1 (default 1000000; --quick 200000)
  --updates N       single-row UPDATE transactions in the backlog (default 200000; --quick 50000)
  --quick           200k rows, 50k updates, 20 s of steady load
  --fresh           regenerate the source tables even when they already hold N rows
  --parallel N      ferry parallelizer.parallel_size and MariaDB slave_parallel_threads (default 4)
  --parallel-type T ferry parallelizer.parallel_type (default rdb_merge; serial, rdb_partition, table)
  --batch N         ferry sinker.batch_size: changes per applied group of transactions (default 2000)
  --writers N       client connections generating updates (default 16)
  --lag-secs S      seconds of steady load for the lag phase (default 60; --quick 20; 0 skips it)
  --lag-rate R      updates/s of the steady load (default 5000)
  --burst-rows N    rows of the one-transaction burst of the memory phase (default: all rows; 0 skips it)
  --paths pp,mm     pg->pg, mysql->mysql (default both)
  --no-peers        ferry only (no subscription, no replica)
  --native-lag      also measure the native replication's lag under the same steady load (adds --lag-secs per path)
  --cpu-prof        run ferry under --cpu-prof and print where its CPU went
  --node-flags=F    extra node flags for the ferry process, space-separated (e.g. --node-flags="--trace-gc")
  --repeat N        rounds of the apply phase, each on a new backlog, order alternating; medians reported (default 1)
  --timeout S       a catch-up that takes longer than S seconds fails (default 600)
  --set S.K=V       add a key to ferry's task_config.ini (repeatable)
  --json            print the results as JSON instead of a table
Servers: the project's own (npm run services -- up); FERRY_MYSQL_PORT / FERRY_PG_PORT / FERRY_SERVICES_DIR
select another instance, as for scripts/services.sh. The MariaDB replica is a temporary second server.`;

const int = (s: string, name: string, min = 1): number => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}, got "${s}"`);
  return n;
};

function parseSet(s: string): { section: string; key: string; value: string } {
  const m = /^([a-z_]+)\.([a-z_0-9]+)=(.*)$/.exec(s);
  if (!m) throw new Error(`--set: expected section.key=value, got "${s}"`);
  return { section: m[1], key: m[2], value: m[3] };
}

/** Parses the CDC bench's argv; returns undefined after printing usage for --help. */
export function parseCdcOptions(argv: string[]): CdcBenchOptions | undefined {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rows: { type: 'string' },
      updates: { type: 'string' },
      quick: { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
      parallel: { type: 'string', default: '4' },
      'parallel-type': { type: 'string', default: 'rdb_merge' },
      batch: { type: 'string', default: '2000' },
      writers: { type: 'string', default: '16' },
      'lag-secs': { type: 'string' },
      'lag-rate': { type: 'string', default: '5000' },
      'burst-rows': { type: 'string' },
      paths: { type: 'string', default: CDC_PATH_IDS.join(',') },
      'no-peers': { type: 'boolean', default: false },
      'native-lag': { type: 'boolean', default: false },
      'cpu-prof': { type: 'boolean', default: false },
      'node-flags': { type: 'string', default: '' },
      timeout: { type: 'string', default: '600' },
      repeat: { type: 'string', default: '1' },
      set: { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (v.help) {
    process.stdout.write(CDC_USAGE + '\n');
    return undefined;
  }
  const quick = v.quick!;
  const paths = v.paths!.split(',').map((p) => p.trim());
  for (const p of paths) if (!(CDC_PATH_IDS as readonly string[]).includes(p)) throw new Error(`--paths: unknown path "${p}" (use ${CDC_PATH_IDS.join(',')})`);
  const types = ['serial', 'rdb_merge', 'rdb_partition', 'table'];
  if (!types.includes(v['parallel-type']!)) throw new Error(`--parallel-type: expected one of ${types.join(', ')}`);
  const rows = int(v.rows ?? (quick ? '200000' : '1000000'), 'rows');
  return {
    rows,
    updates: int(v.updates ?? (quick ? '50000' : '200000'), 'updates'),
    quick,
    fresh: v.fresh!,
    parallel: int(v.parallel!, 'parallel'),
    parallelType: v['parallel-type']!,
    batch: int(v.batch!, 'batch'),
    writers: int(v.writers!, 'writers'),
    lagSecs: int(v['lag-secs'] ?? (quick ? '20' : '60'), 'lag-secs', 0),
    lagRate: int(v['lag-rate']!, 'lag-rate'),
    burstRows: Math.min(rows, int(v['burst-rows'] ?? String(rows), 'burst-rows', 0)),
    paths: paths as CdcPathId[],
    peers: !v['no-peers'],
    nativeLag: v['native-lag']!,
    json: v.json!,
    cpuProf: v['cpu-prof']!,
    nodeFlags: v['node-flags']!.split(/\s+/).filter(Boolean),
    timeout: int(v.timeout!, 'timeout'),
    repeat: int(v.repeat!, 'repeat'),
    set: v.set!.map(parseSet),
  };
}
