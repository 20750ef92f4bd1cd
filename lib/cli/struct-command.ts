import { FerryError } from '../core/errors.ts';
import { runStruct, type StructSummary } from '../struct/struct-task.ts';
import { runStructCheck } from '../struct/struct-check.ts';
import { openContext, stopOnSignals, type CommonFlags } from './context.ts';

const out = (s: string): void => {
  process.stdout.write(s + '\n');
};

/** The DDL script a struct task runs (or would run), flagged conversions as SQL comments first. */
export function formatStructPlan(s: StructSummary): string {
  const lines: string[] = [];
  for (const f of s.flags) lines.push(`-- FLAG ${f.object}: ${f.from} -> ${f.to} (${f.reason})`);
  for (const f of s.failed) lines.push(`-- FAILED ${f.object}: ${f.code} ${f.message}`);
  for (const st of s.statements) lines.push(`-- ${st.phase} ${st.object}`, `${st.sql};`);
  return lines.join('\n');
}

/**
 * `ferry struct <config>` and `ferry run` on an extract_type=struct task. sink_type=struct creates the
 * structure (`--dry-run`: print the DDL and the flagged conversions, touch nothing); sink_type=check compares
 * source and target structures and writes miss.log / diff.log / summary.log (exit 1 when they differ).
 */
export async function structCommand(configPath: string, flags: CommonFlags & { dryRun?: boolean; json?: boolean }): Promise<number> {
  const ctx = await openContext(configPath, { ...flags, progress: false });
  const stop = stopOnSignals(ctx.logger);
  try {
    if (ctx.cfg.extractor.extractType !== 'struct') {
      throw new FerryError('CF001', `extractor.extract_type: ferry struct needs extract_type=struct, got "${ctx.cfg.extractor.extractType}"`, {
        details: { key: 'extractor.extract_type' },
      });
    }
    if (ctx.cfg.sinker.sinkType === 'check') {
      const r = await runStructCheck(ctx.cfg, { logger: ctx.logger, signal: stop.signal });
      const { miss: _m, diff: _d, ...summary } = r;
      out(flags.json ? JSON.stringify(summary) : `task ${ctx.cfg.taskId}: structure ${r.is_consistent ? 'consistent' : 'differs'}: ${r.miss_count} missing, ${r.diff_count} different (logs in ${r.dir})`);
      return r.is_consistent ? 0 : 1;
    }
    const s = await runStruct(ctx.cfg, { logger: ctx.logger, signal: stop.signal, dryRun: flags.dryRun || ctx.cfg.sinker.sinkType === 'dummy' });
    if (flags.json) out(JSON.stringify(s));
    else if (s.dryRun) out(formatStructPlan(s));
    else out(`task ${s.taskId}: struct ${s.failed.length ? 'done with failures' : 'done'}: ${s.executed} created, ${s.skipped.length} existed, ${s.failed.length} failed, ${s.flags.length} flagged`);
    return s.failed.length ? 1 : 0;
  } finally {
    await ctx.store.close();
  }
}
