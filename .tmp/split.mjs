import { build } from 'esbuild';
const r = await build({
  bundle: true, platform: 'node', target: 'node20', format: 'esm', minify: true, keepNames: true, splitting: true,
  entryPoints: { cli: 'functions/cli/main.ts', chunk: 'functions/chunk/handler.ts', plan: 'functions/plan/handler.ts' }, outdir: '/tmp/split', metafile: true, outExtension: { '.js': '.mjs' },
  external: ['pg-native', 'pg-cloudflare'], logLevel: 'warning',
  banner: { js: "import { createRequire as __ferryRequire } from 'node:module'; const require = __ferryRequire(import.meta.url);" },
});
for (const [f, o] of Object.entries(r.metafile.outputs)) if (!f.endsWith('.map')) console.log((o.bytes/1024).toFixed(0).padStart(6), f, o.imports.filter(i=>i.kind==='import-statement').length, 'static imports');
