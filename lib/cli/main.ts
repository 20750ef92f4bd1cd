import { Command } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import { asFerryError } from '../core/errors.ts';
import { chunkCommand, planCommand, runCommand, statusCommand, workerCommand } from './commands.ts';
import { structCommand } from './struct-command.ts';

/**
 * The `ferry` CLI. Every command prints its result on stdout, logs JSON lines on stderr (or runtime.log_dir),
 * and exits 0 on success, 2 on a config error, 1 on any other error (one line: `CODE message`), 130 when
 * stopped by a signal with progress saved.
 */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command()
    .name('ferry')
    .description('Data transfer: structure, snapshot and CDC from MySQL / PostgreSQL to MySQL, PostgreSQL, ClickHouse, StarRocks, Doris and TiDB; ape-dts configs unchanged')
    .version(pkg.version, '-V, --version', 'print the ferry version')
    .option('--log-level <level>', 'override runtime.log_level')
    .option('--no-progress', 'no progress bars even on a TTY')
    .exitOverride()
    .showHelpAfterError();
  const flags = () => program.opts<{ logLevel?: string; progress?: boolean }>();
  program
    .command('run <configs...>')
    .description('run the task (plan + chunks) on this machine; rerun continues where it stopped. Several configs run one after another in this process (e.g. struct, snapshot, struct indexes), stopping at the first that fails')
    .option('--init', 'forget stored plan and progress, start over (each task)')
    .option('--json', 'print the summary as JSON')
    .option('--snapshot-and-cdc', 'snapshot, then CDC from the position recorded before it (no loss, no duplicates)')
    .option('--wait-lease <seconds>', 'CDC: wait this long for another worker to release the task lease')
    .action(async (configs: string[], o) => {
      for (const config of configs) {
        code = await runCommand(config, { ...flags(), ...o });
        if (code !== 0) break;
      }
    });
  program
    .command('plan <config>')
    .description('discover tables, cut chunks, store the plan; print chunk ids')
    .option('--init', 'forget stored plan and progress first')
    .action(async (config, o) => {
      code = await planCommand(config, { ...flags(), ...o });
    });
  program
    .command('chunk <config> [chunkId]')
    .description('copy one chunk of the stored plan; without a chunk id, this task\'s share (task i of n runs chunks i, i+n, ...)')
    .option('--deadline-ms <ms>', 'stop cleanly after this many ms and report partial')
    .option('--task-index <i>', 'this task\'s index (default: CLOUD_RUN_TASK_INDEX)')
    .option('--task-count <n>', 'number of tasks (default: CLOUD_RUN_TASK_COUNT)')
    .action(async (config, chunkId, o) => {
      code = await chunkCommand(config, chunkId, { ...flags(), ...o });
    });
  program
    .command('worker <config>')
    .description('one of N processes sharing a dynamodb/s3 [checkpoint] store: claim chunks of the plan until all are done')
    .option('--slots <n>', 'chunks this process copies at once (default 1)')
    .option('--claim-ttl <seconds>', 'a dead worker\'s chunk is claimed again this long after its last renewal (default FERRY_LEASE_TTL_SECS or 30)')
    .option('--json', 'print the summary as JSON')
    .action(async (config, o) => {
      code = await workerCommand(config, { ...flags(), ...o });
    });
  program
    .command('struct <config>')
    .description('structure migration (extract_type=struct): create it, or with sink_type=check compare it')
    .option('--dry-run', 'print the DDL and the flagged conversions; touch nothing')
    .option('--json', 'print the result as JSON')
    .action(async (config, o) => {
      code = await structCommand(config, { ...flags(), ...o });
    });
  program
    .command('status <config>')
    .description('show plan and progress from the checkpoint store')
    .option('--json', 'print as JSON')
    .action(async (config, o) => {
      code = await statusCommand(config, { ...flags(), ...o });
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    const ce = e as { code?: string; exitCode?: number };
    if (typeof ce.code === 'string' && ce.code.startsWith('commander.')) return ce.exitCode ?? 2;
    const fe = asFerryError(e);
    process.stderr.write(fe.toLine() + '\n');
    return fe.exitCode;
  }
}
