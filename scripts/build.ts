/**
 * `npm run build [-- --outdir dir]`: one esbuild build of every deployable entry into dist/ (ESM, node20,
 * minified, with source maps): `dist/<name>.mjs` per entry plus the code they share, split into `dist/shared/`.
 * Connectors and checkpoint stores are imported on demand (lib/connectors/registry.ts, create-store.ts), so a
 * process loads only the ones its task names: a PostgreSQL-only run never compiles mysql2 or the AWS SDK.
 * Each entry runs with plain `node` and no node_modules, given `shared/` beside it. Prints what a Lambda
 * package holds (its entry + `shared/`) and fails when that exceeds the budget.
 *
 * Externals: only `pg-native` (pg's optional native driver, loaded in a try/catch only when asked for) and
 * `pg-cloudflare` (Workers only). Everything else is bundled.
 */
import { build, type BuildOptions } from 'esbuild';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
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
  /** The entry file alone. */
  bytes: number;
  /** What a package of this entry holds: the entry and every file under shared/ (what serverless.yml ships). */
  packageBytes: number;
  lambda: boolean;
}

/** The folder (under outdir) of the code entries share and load on demand. */
export const SHARED_DIR = 'shared';

/** Builds every entry into `outdir` (emptied first); returns what was written. */
export async function buildAll(outdir = join(root, 'dist')): Promise<BuiltBundle[]> {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const options: BuildOptions = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    splitting: true,
    outdir,
    entryPoints: Object.fromEntries(bundles.map((b) => [b.name, join(root, b.entry)])),
    entryNames: '[name]',
    chunkNames: `${SHARED_DIR}/[name]-[hash]`,
    outExtension: { '.js': '.mjs' },
    minify: true,
    // Class and function names stay: zongji tells binlog events apart by their class names.
    keepNames: true,
    sourcemap: 'linked',
    legalComments: 'none',
    // The image entry loads the cli/cdc entry beside it at run time: never inline them.
    external: [...EXTERNAL, './cli.mjs', './cdc.mjs'],
    logLevel: 'warning',
    // CommonJS dependencies call require() for node built-ins; an ESM file has no require of its own.
    banner: { js: "import { createRequire as __ferryRequire } from 'node:module'; const require = __ferryRequire(import.meta.url);" },
  };
  await build(options);
  let shared = 0;
  for (const f of await readdir(join(outdir, SHARED_DIR))) if (f.endsWith('.mjs')) shared += (await stat(join(outdir, SHARED_DIR, f))).size;
  const out: BuiltBundle[] = [];
  for (const b of bundles) {
    const file = join(outdir, `${b.name}.mjs`);
    const bytes = (await stat(file)).size;
    out.push({ name: b.name, file, bytes, packageBytes: bytes + shared, lambda: b.lambda });
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
    const over = b.lambda && b.packageBytes > LAMBDA_BUDGET_BYTES;
    if (over) code = 1;
    const pkg = b.lambda ? `  package with ${SHARED_DIR}/ ${mb(b.packageBytes)} (Lambda, budget ${mb(LAMBDA_BUDGET_BYTES)})` : '';
    process.stdout.write(`${b.file.padEnd(40)} ${mb(b.bytes).padStart(9)}${pkg}${over ? '  OVER BUDGET' : ''}\n`);
  }
  process.stdout.write(`built ${built.length} entries in ${Date.now() - t0} ms\n`);
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
