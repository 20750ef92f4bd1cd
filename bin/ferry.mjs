#!/usr/bin/env node
// The `ferry` command. Runs the TypeScript sources through tsx (a dependency), so `npx ferry` works right
// after `npm ci`; the Docker image and Lambda use the esbuild bundles in dist/ instead.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lib/cli/main.ts');
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Pools and timers may keep the loop alive after a failure; the result is already printed.
setTimeout(() => process.exit(code), 200).unref();
