import { FerryError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { sleep } from '../../core/signal.ts';
import type { TableRef } from '../../core/table.ts';
import { tableId } from '../../core/table.ts';
import type { PgPool } from './pool.ts';
import { formatLsn, parseLsn } from './position.ts';
import { qualified, quoteIdent } from './sql.ts';

export interface SlotInfo {
  plugin: string;
  database: string;
  active: boolean;
  activePid: number | null;
  confirmedFlush: bigint | null;
  restartLsn: bigint | null;
}

const SLOT_SQL = `
SELECT plugin, database, active::text, active_pid::text, confirmed_flush_lsn::text, restart_lsn::text, current_database()::text
FROM pg_replication_slots WHERE slot_name = $1 AND slot_type = 'logical'`;

/** The logical slot `name`, or null. PR001 when it exists but cannot serve ferry (other plugin or database). */
export async function readSlot(pool: PgPool, name: string, signal: AbortSignal): Promise<SlotInfo | null> {
  const rows = await pool.query<Array<string | null>>({ text: SLOT_SQL, values: [name] }, signal, `slot ${name}`);
  if (!rows.length) return null;
  const [plugin, database, active, pid, confirmed, restart, current] = rows[0];
  if (plugin !== 'pgoutput') {
    throw new FerryError('PR001', `replication slot "${name}" uses plugin ${plugin}; ferry needs a pgoutput slot (drop it or choose another extractor.slot_name)`, {
      details: { slot: name },
    });
  }
  if (database !== current) {
    throw new FerryError('PR001', `replication slot "${name}" belongs to database "${database}", not "${current}" (choose another extractor.slot_name)`, {
      details: { slot: name },
    });
  }
  return {
    plugin: plugin!,
    database: database!,
    active: active === 'true',
    activePid: pid ? Number(pid) : null,
    confirmedFlush: confirmed ? parseLsn(confirmed, `slot ${name} confirmed_flush_lsn`) : null,
    restartLsn: restart ? parseLsn(restart, `slot ${name} restart_lsn`) : null,
  };
}

/**
 * Creates the logical slot (pgoutput) and returns its consistent point: every transaction committing after
 * it will be decoded. The server waits for transactions running at this moment to finish first.
 */
export async function createSlot(pool: PgPool, name: string, signal: AbortSignal): Promise<bigint> {
  const rows = await pool.query<string[]>(
    { text: `SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')`, values: [name] },
    signal,
    `create replication slot ${name}`,
  );
  return parseLsn(rows[0][0], `slot ${name} consistent point`);
}

/** Drops the slot; PR001 naming the holder when a walsender still uses it. */
export async function dropSlot(pool: PgPool, name: string, signal: AbortSignal): Promise<void> {
  const slot = await readSlot(pool, name, signal);
  if (!slot) return;
  if (slot.active) {
    throw new FerryError('PR001', `replication slot "${name}" is in use by process ${slot.activePid}; stop that consumer before recreating the slot`, {
      details: { slot: name },
    });
  }
  await pool.query({ text: 'SELECT pg_drop_replication_slot($1)', values: [name] }, signal, `drop replication slot ${name}`);
}

/**
 * Confirms `lsn` on a slot nobody is streaming from (pg_replication_slot_advance: never backwards, never past
 * the WAL insert point). The walsender of a stream that was just closed can hold the slot a moment longer,
 * so "in use" is retried briefly.
 */
export async function advanceSlot(pool: PgPool, name: string, lsn: bigint, signal: AbortSignal, attempts = 50): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await pool.query({ text: 'SELECT pg_replication_slot_advance($1, $2::pg_lsn)', values: [name, formatLsn(lsn)] }, signal, `advance replication slot ${name}`);
      return;
    } catch (e) {
      const inUse = e instanceof FerryError && e.details.sqlstate === '55006';
      if (!inUse || i >= attempts) throw e;
      await sleep(100, signal);
    }
  }
}

const PUB_SQL = `SELECT puballtables::text, pubinsert::text, pubupdate::text, pubdelete::text, pubtruncate::text FROM pg_publication WHERE pubname = $1`;
export async function publicationExists(pool: PgPool, name: string, signal: AbortSignal): Promise<boolean> {
  return (await pool.query({ text: PUB_SQL, values: [name] }, signal, `publication ${name}`)).length > 0;
}

const PUB_TABLES_SQL = `SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1`;

/**
 * Makes sure publication `name` publishes `tables` (or, without a list, every table). Created FOR ALL TABLES
 * (as ape-dts does; needs superuser) or FOR TABLE list; an existing list publication gets the missing tables
 * added. Must run before the slot is created: pgoutput looks publications up as of each decoded change, so
 * changes older than the publication cannot be decoded with it.
 * Returns whether the publication was created.
 */
export async function ensurePublication(pool: PgPool, name: string, tables: TableRef[] | undefined, logger: Logger, signal: AbortSignal): Promise<boolean> {
  const ctx = `publication ${name}`;
  const pub = await pool.query<string[]>({ text: PUB_SQL, values: [name] }, signal, ctx);
  if (!pub.length) {
    // An empty list is an empty publication (the task's filter matched nothing yet), never all tables.
    const what = !tables ? ' FOR ALL TABLES' : tables.length ? ` FOR TABLE ${tables.map(qualified).join(', ')}` : '';
    await pool.query({ text: `CREATE PUBLICATION ${quoteIdent(name)}${what}` }, signal, ctx);
    logger.info('publication created', { publication: name, tables: tables ? tables.map(tableId) : 'all' });
    return true;
  }
  const [all, ins, upd, del, trunc] = pub[0];
  if ([ins, upd, del].some((x) => x !== 'true')) {
    logger.warn('publication does not publish every insert/update/delete; unpublished changes are not captured', {
      publication: name,
      insert: ins === 'true',
      update: upd === 'true',
      delete: del === 'true',
      truncate: trunc === 'true',
    });
  }
  if (all === 'true') return false;
  const have = new Set((await pool.query<string[]>({ text: PUB_TABLES_SQL, values: [name] }, signal, ctx)).map(([s, t]) => `${s}\u0000${t}`));
  const wanted = tables ?? [];
  if (!tables) {
    logger.warn('publication exists with an explicit table list; changes of other tables are not captured', { publication: name });
  }
  const missing = wanted.filter((t) => !have.has(`${t.db}\u0000${t.tb}`));
  if (missing.length) {
    await pool.query({ text: `ALTER PUBLICATION ${quoteIdent(name)} ADD TABLE ${missing.map(qualified).join(', ')}` }, signal, ctx);
    logger.info('tables added to the publication', { publication: name, tables: missing.map(tableId) });
  }
  return false;
}
