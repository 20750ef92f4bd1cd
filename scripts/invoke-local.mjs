#!/usr/bin/env node
// Invokes a ferry function locally as Lambda would (ferry's `serverless invoke local`), with plain node:
//
//   node scripts/invoke-local.mjs <plan|chunk|finalize|status|path/to/bundle.mjs> [event.json | -] [--timeout-ms N]
//
// <name> loads dist/<name>.mjs (run `npm run build` first); the event is a JSON file (events/<name>.json by
// default) or `-` for stdin; `${VAR}` in the config is filled from the environment as usual. Prints the
// handler's result as one JSON line; exit 0, or the error as `CODE message` on stderr and exit 1.
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const t = args.indexOf('--timeout-ms');
const timeoutMs = t >= 0 ? Number(args.splice(t, 2)[1]) : 900_000;
const [fn, eventArg] = args;
if (!fn) {
  process.stderr.write('usage: node scripts/invoke-local.mjs <plan|chunk|finalize|status|bundle.mjs> [event.json | -] [--timeout-ms N]\n');
  process.exit(2);
}
const bundle = /[/.]/.test(fn) ? (isAbsolute(fn) ? fn : resolve(fn)) : resolve(root, 'dist', `${fn}.mjs`);
const eventFile = eventArg ?? resolve(root, 'events', `${fn}.json`);
const text = eventFile === '-' ? await new Promise((ok) => { let s = ''; process.stdin.on('data', (d) => (s += d)).on('end', () => ok(s)); }) : await readFile(eventFile, 'utf8');
const deadline = Date.now() + timeoutMs;
const context = {
  functionName: `ferry-local-${fn}`,
  awsRequestId: `local-${process.pid}-${Date.now()}`,
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};
try {
  const { handler } = await import(pathToFileURL(bundle).href);
  const result = await handler(JSON.parse(text), context);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
} catch (e) {
  process.stderr.write(`${e?.code ?? 'ERROR'} ${e?.message ?? e}\n`);
  process.exit(1);
}
