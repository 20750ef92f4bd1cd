/**
 * The container image's entry (dist/entry.mjs, the Dockerfile's ENTRYPOINT). The first argument picks the role:
 *
 *   entry.mjs cdc                                  the CDC container (functions/cdc/main.ts; config from env)
 *   entry.mjs chunk <config> [chunkId]             one chunk, or this task's share of chunks (Cloud Run job)
 *   entry.mjs <any ferry command> ...              the ferry CLI (run, plan, status, --help ...)
 *
 * Only the bundle the role needs is loaded (cli.mjs or cdc.mjs beside this file), so a start stays cheap.
 */
const [role, ...rest] = process.argv.slice(2);
const beside = (name: string): string => new URL(`./${name}.mjs`, import.meta.url).href;

if (role === 'cdc') {
  const { main } = (await import(beside('cdc'))) as { main: () => Promise<number> };
  const code = await main();
  process.exitCode = code;
  setTimeout(() => process.exit(code), 500).unref();
} else {
  const { run } = (await import(beside('cli'))) as { run: (argv: string[]) => Promise<number> };
  const argv = role === undefined ? ['--help'] : [role, ...rest];
  await run(argv);
  if (role === undefined || role === '--help' || role === '-h') process.stdout.write('\nImage roles: cdc (CDC container, config from FERRY_CONFIG / FERRY_CONFIG_JSON), or any ferry command above.\n');
}
