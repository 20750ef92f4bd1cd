import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A V8 .cpuprofile (what `node --cpu-prof` writes): a call tree plus the node id sampled at each tick. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  name: string;
  ms: number;
  /** Share of the profile's non-idle time. */
  pct: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  /** Self time by function (where the CPU actually was). */
  frames: ProfileRow[];
  /** Self time by area: a package in node_modules, a folder of lib/, node internals, GC. */
  areas: ProfileRow[];
}

const shortUrl = (url: string, root: string): string => {
  if (!url) return '';
  const p = url.startsWith('file://') ? fileURLToPath(url) : url;
  return p.startsWith('/') ? relative(root, p) : p;
};

/** Which part of the code a frame belongs to, so the summary says "mysql2 row parsing" rather than 400 frames. */
function areaOf(name: string, file: string): string {
  if (name === '(idle)' || name === '(garbage collector)' || name === '(program)') return name;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (nm) return nm[1];
  if (file.startsWith('node:') || !file) return 'node internals / native';
  const lib = /^(lib\/[^/]+)\//.exec(file);
  return lib ? lib[1] : file;
}

/** Self time per function and per area, top `top` of each, idle excluded from the percentages. */
export function summarizeCpuProfile(file: string, root: string, top = 15): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const frames = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  prof.samples.forEach((id, i) => {
    const us = prof.timeDeltas[i] ?? 0;
    const n = byId.get(id);
    if (!n) return;
    const name = n.callFrame.functionName || '(anonymous)';
    const f = shortUrl(n.callFrame.url, root);
    total += us;
    if (name === '(idle)') {
      idle += us;
      return;
    }
    // No line numbers: under tsx they point into the transformed code, not the .ts file.
    const key = f ? `${name} ${f}` : name;
    frames.set(key, (frames.get(key) ?? 0) + us);
    const a = areaOf(name, f);
    areas.set(a, (areas.get(a) ?? 0) + us);
  });
  const busy = Math.max(1, total - idle);
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), pct: Math.round((1000 * us) / busy) / 10 }));
  return { totalMs: Math.round(total / 1000), idleMs: Math.round(idle / 1000), frames: rows(frames), areas: rows(areas) };
}

export function formatProfile(label: string, p: ProfileSummary): string {
  const lines = [`cpu profile ${label}: ${p.totalMs} ms sampled, ${p.idleMs} ms idle (waiting on the databases)`];
  lines.push('  by area (self time, % of busy):');
  for (const r of p.areas) lines.push(`    ${String(r.pct).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.name}`);
  lines.push('  top frames (self time):');
  for (const r of p.frames) lines.push(`    ${String(r.pct).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.name}`);
  return lines.join('\n');
}
