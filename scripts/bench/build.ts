/**
 * `npm run bench -- build [--runs N]`: builds the bundles (scripts/build.ts) into a temp dir, prints each
 * bundle's size against the Lambda budget (5 MB), and times a cold `import()` of each bundle in a fresh node
 * process, side by side with peers: a bare node start, and importing the plain AWS SDK DynamoDB client from
 * node_modules (what any Lambda using the SDK pays). Target: module load under 300 ms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { buildAll, LAMBDA_BUDGET_BYTES, mb } from '../build.ts';
import { coldImport } from './build/cold-import.ts';

const LOAD_BUDGET_MS = 300;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write('usage: npm run bench -- build [--runs N]   (default 7 runs per measurement, median reported)\n');
    return 0;
  }
  const i = argv.indexOf('--runs');
  const runs = i >= 0 ? Math.max(1, Number(argv[i + 1])) : 7;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const out = await mkdtemp(join(tmpdir(), 'ferry-bench-build-'));
  try {
    const t0 = Date.now();
    const built = await buildAll(out);
    process.stdout.write(`build: ${built.length} bundles in ${Date.now() - t0} ms (node ${process.version}, ${runs} runs each, median)\n\n`);
    process.stdout.write(`${'what'.padEnd(34)}${'size'.padStart(10)}${'import ms'.padStart(11)}${'process ms'.padStart(12)}  verdict\n`);
    let code = 0;
    const row = (what: string, size: string, m: { importMs: number; processMs: number }, verdict: string) =>
      process.stdout.write(`${what.padEnd(34)}${size.padStart(10)}${String(m.importMs).padStart(11)}${String(m.processMs).padStart(12)}  ${verdict}\n`);
    // The bundles are imported from the temp dir: no node_modules above it, as in Lambda.
    for (const b of built) {
      // The image entry runs the CLI when imported; it is a few lines that import cli.mjs or cdc.mjs (timed above).
      if (b.name === 'entry') {
        process.stdout.write(`${'dist/entry.mjs'.padEnd(34)}${mb(b.bytes).padStart(10)}${'-'.padStart(11)}${'-'.padStart(12)}  loads cli.mjs or cdc.mjs\n`);
        continue;
      }
      const m = coldImport(pathToFileURL(b.file).href, runs, out);
      const over = (b.lambda && b.packageBytes > LAMBDA_BUDGET_BYTES) || m.importMs > LOAD_BUDGET_MS;
      if (over && b.lambda) code = 1;
      row(`dist/${b.name}.mjs`, mb(b.lambda ? b.packageBytes : b.bytes), m, b.lambda ? (over ? 'OVER BUDGET' : 'ok (< 5 MB, < 300 ms)') : m.importMs > LOAD_BUDGET_MS ? 'slow' : 'ok');
    }
    process.stdout.write('peers:\n');
    row('  bare node start', '-', coldImport(undefined, runs, out), '');
    row('  @aws-sdk/client-dynamodb (plain)', '-', coldImport('@aws-sdk/client-dynamodb', runs, root), '');
    row('  pg (plain)', '-', coldImport('pg', runs, root), '');
    row('  mysql2 (plain)', '-', coldImport('mysql2', runs, root), '');
    return code;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
