/**
 * `npm run bench -- <name> [options]`: runs the benchmark in scripts/bench/<name>.ts.
 * Each benchmark module exports `run(argv): Promise<number>` (the exit code), so adding one (cdc, check...)
 * is one new file and nothing here changes.
 */
import { existsSync } from 'node:fs';

const here = new URL('./bench/', import.meta.url);
const [name, ...argv] = process.argv.slice(2);

const usage = (): number => {
  process.stderr.write('usage: npm run bench -- <snapshot|...> [options]   (npm run bench -- snapshot --help)\n');
  return 2;
};

async function main(): Promise<number> {
  if (!name || name.startsWith('-') || !/^[a-z][a-z0-9-]*$/.test(name)) return usage();
  const file = new URL(`${name}.ts`, here);
  if (!existsSync(file)) {
    process.stderr.write(`bench: no benchmark "${name}" (expected scripts/bench/${name}.ts)\n`);
    return usage();
  }
  const mod = (await import(file.href)) as { run?: (argv: string[]) => Promise<number> };
  if (typeof mod.run !== 'function') throw new Error(`scripts/bench/${name}.ts does not export run(argv)`);
  return mod.run(argv);
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`bench failed: ${e?.stack ?? e}\n`);
    process.exit(1);
  },
);
