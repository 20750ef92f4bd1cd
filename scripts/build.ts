/**
 * `npm run build [-- --outdir dir]`: one esbuild bundle per deployable entry in dist/ (ESM, node20, minified,
 * with source maps), each runnable with plain `node` and no node_modules. Prints each bundle's size and fails
 * when a Lambda bundle exceeds its budget.
 *
 * Externals: only `pg-native` (pg's optional native driver, loaded in a try/catch only when asked for) and
 * `pg-cloudflare` (Workers only). Everything else is bundled.
 */
import { build, type BuildOptions } from 'esbuild';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** dist/<name>.mjs <- entry. `lambda: true` bundles are checked against the 5 MB budget. */
export const bundles = [
  { name: 'plan', entry: 'functions/plan/handler.ts', lambda: true },
  { name: 'chunk', entry: 'functions/chunk/handler.ts', lambda: true },
  { name: 'finalize', entry: 'functions/finalize/handler.ts', lambda: true },
  { name: 'status', entry: 'functions/status/handler.ts', lambda: true },
  { name: 'cdc', entry: 'functions/cdc/main.ts', lambda: false },
  { name: 'cli', entry: 'functions/cli/main.ts', lambda: false },
  { name: 'entry', entry: 'functions/image/entry.ts', lambda: false },
] as const;

export const LAMBDA_BUDGET_BYTES = 5 * 1024 * 1024;
export const EXTERNAL = ['pg-native', 'pg-cloudflare'];

export interface BuiltBundle {
  name: string;
  file: string;
  bytes: number;
  lambda: boolean;
}

/** Builds every bundle into `outdir` (emptied first); returns what was written. */
export async function buildAll(outdir = join(root, 'dist')): Promise<BuiltBundle[]> {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const common: BuildOptions = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    // Class and function names stay: zongji tells binlog events apart by their class names.
    keepNames: true,
    sourcemap: 'linked',
    legalComments: 'none',
    external: EXTERNAL,
    logLevel: 'warning',
    // CommonJS dependencies call require() for node built-ins; an ESM bundle has no require of its own.
    banner: { js: "import { createRequire as __ferryRequire } from 'node:module'; const require = __ferryRequire(import.meta.url);" },
  };
  await Promise.all(
    bundles.map((b) =>
      build({
        ...common,
        entryPoints: [join(root, b.entry)],
        outfile: join(outdir, `${b.name}.mjs`),
        // The image entry loads the cli/cdc bundle beside it at run time: never inline them.
        ...(b.name === 'entry' ? { external: [...EXTERNAL, './cli.mjs', './cdc.mjs'] } : {}),
      }),
    ),
  );
  const out: BuiltBundle[] = [];
  for (const b of bundles) {
    const file = join(outdir, `${b.name}.mjs`);
    out.push({ name: b.name, file, bytes: (await stat(file)).size, lambda: b.lambda });
  }
  return out;
}

export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MB`;

async function main(): Promise<number> {
  const i = process.argv.indexOf('--outdir');
  const outdir = i > 0 ? resolve(process.argv[i + 1]) : join(root, 'dist');
  const t0 = Date.now();
  const built = await buildAll(outdir);
  let code = 0;
  for (const b of built) {
    const over = b.lambda && b.bytes > LAMBDA_BUDGET_BYTES;
    if (over) code = 1;
    process.stdout.write(`${b.file.padEnd(40)} ${mb(b.bytes).padStart(9)}${b.lambda ? `  (Lambda, budget ${mb(LAMBDA_BUDGET_BYTES)})` : ''}${over ? '  OVER BUDGET' : ''}\n`);
  }
  process.stdout.write(`built ${built.length} bundles in ${Date.now() - t0} ms\n`);
  return code;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`build failed: ${e?.message ?? e}\n`);
      process.exit(1);
    },
  );
}
