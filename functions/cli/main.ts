/**
 * The `ferry` CLI as a self-contained entry (bundled to dist/cli.mjs; bin/ferry.mjs runs the sources through
 * tsx instead). Running the file starts the CLI with the process arguments; importing it only exports `run`.
 */
import { main } from '../../lib/cli/main.ts';

/** Runs the CLI; sets the exit code, and exits shortly after in case pools or timers keep the loop alive. */
export async function run(argv: string[]): Promise<number> {
  const code = await main(argv);
  process.exitCode = code;
  setTimeout(() => process.exit(code), 200).unref();
  return code;
}

if (import.meta.url === `file://${process.argv[1]}`) void run(process.argv.slice(2));
