import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './servers.ts';

let built = false;

/**
 * The ferry entry a benchmark runs. Default: the esbuild bundle `dist/cli.mjs` -- the artifact the Docker image
 * and the Lambda functions run -- built once per bench process from the working tree, so the figures never
 * come from a stale build. `FERRY_BENCH_RUNTIME=tsx` runs `bin/ferry.mjs` instead (TypeScript compiled on the
 * fly by tsx, as `npx ferry` in a checkout does: about 0.3-1 CPU s more per process start and 15 MB more RSS).
 */
export function ferryEntry(): string {
  if (process.env.FERRY_BENCH_RUNTIME === 'tsx') return join(repoRoot, 'bin/ferry.mjs');
  if (!built) {
    execFileSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts/build.ts')], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
    built = true;
  }
  return join(repoRoot, 'dist/cli.mjs');
}

/** How the report names the runtime: `bundle` or `tsx`. */
export const ferryRuntime = (): string => (process.env.FERRY_BENCH_RUNTIME === 'tsx' ? 'tsx' : 'bundle');
