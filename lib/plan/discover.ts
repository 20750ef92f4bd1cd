import type { MetadataAccessor, TableMeta, Logger } from '../core/index.ts';
import { FerryError } from '../core/errors.ts';
import type { TaskConfig } from '../config/types.ts';
import { createFilter } from '../pipeline/filter.ts';

/**
 * Lists the source tables the task covers, after `filter` (do/ignore dbs and tables), with their metadata.
 * Invariant: the result is sorted by (db, tb) so plans and chunk ids are stable across reruns.
 * A `do_tbs` entry naming a table literally (no wildcard) that does not exist is an MD001 error, not a silent skip.
 */
export async function discoverTables(cfg: TaskConfig, meta: MetadataAccessor, logger: Logger, signal: AbortSignal): Promise<TableMeta[]> {
  const filter = createFilter(cfg.filter);
  const out: TableMeta[] = [];
  const dbs = (await meta.listDatabases(signal)).filter((db) => filter.dbIncluded(db)).sort();
  for (const db of dbs) {
    const tbs = (await meta.listTables(db, signal)).filter((tb) => filter.tableIncluded(db, tb)).sort();
    for (const tb of tbs) out.push(await meta.getTableMeta({ db, tb }, signal));
  }
  for (const p of cfg.filter.doTbs) {
    const literal = !/[*?]/.test(p.db.source + p.tb.source) && !p.db.source.startsWith('r#') && !p.tb.source.startsWith('r#');
    if (literal && !out.some((t) => p.db.regex.test(t.db) && p.tb.regex.test(t.tb))) {
      throw new FerryError('MD001', `filter.do_tbs: source table ${p.db.source}.${p.tb.source} does not exist`, {
        details: { key: 'filter.do_tbs', table: `${p.db.source}.${p.tb.source}` },
      });
    }
  }
  logger.info('tables discovered', { tables: out.length });
  return out;
}
