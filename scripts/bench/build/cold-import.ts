import { spawnSync } from 'node:child_process';

export interface ColdImport {
  /** Milliseconds spent in `await import(target)` inside a fresh node process (median over the runs). */
  importMs: number;
  /** Wall time of the whole `node` process: start, import, exit (median). */
  processMs: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Times a cold `import()` of `target` (a file URL or a package name) in `runs` fresh node processes started
 * in `cwd` (where package names resolve). `target` undefined times a bare node start (import of nothing).
 */
export function coldImport(target: string | undefined, runs: number, cwd: string): ColdImport {
  const code = `const t = performance.now(); ${target ? `await import(${JSON.stringify(target)});` : ''} process.stdout.write(String(performance.now() - t)); process.exit(0);`;
  const imports: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd, encoding: 'utf8' });
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`import of ${target} failed: ${r.stderr.slice(0, 500)}`);
    imports.push(Number(r.stdout));
  }
  return { importMs: Math.round(median(imports)), processMs: Math.round(median(wall)) };
}
