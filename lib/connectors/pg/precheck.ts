import { FerryError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { PgPool } from './pool.ts';

const SETTINGS_SQL = `
SELECT current_setting('wal_level'), current_setting('max_replication_slots'), current_setting('max_wal_senders'),
  (SELECT count(*) FROM pg_replication_slots)::text,
  (SELECT count(*) FROM pg_stat_replication)::text,
  r.rolsuper::text, r.rolreplication::text, current_user::text,
  EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)::text
FROM pg_roles r WHERE r.rolname = current_user`;

/** Tables a FOR ALL TABLES publication covers whose UPDATE/DELETE PostgreSQL refuses (no replica identity). */
const NO_IDENTITY_SQL = `
SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_%'
  AND (c.relreplident = 'n' OR (c.relreplident = 'd' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)))
ORDER BY 1 LIMIT 20`;

const pr001 = (message: string, details: Record<string, unknown> = {}) => new FerryError('PR001', message, { details });

/**
 * PostgreSQL CDC prerequisites, checked before a slot is created or streamed: `wal_level=logical`, a
 * superuser or a role with REPLICATION, a free replication slot (when `slot` must be created) and a free WAL
 * sender (when `streaming`). Each failure is one PR001 saying what to change. Tables without a replica
 * identity are only warned about: whether their UPDATE/DELETE matter depends on the task's filter.
 */
export async function precheckPgCdc(pool: PgPool, o: { slot: string; streaming: boolean }, signal: AbortSignal): Promise<void> {
  const rows = await pool.query<string[]>({ text: SETTINGS_SQL, values: [o.slot] }, signal, 'cdc precheck');
  if (!rows.length) throw pr001('cdc precheck: the current role is not visible in pg_roles');
  const [walLevel, maxSlots, maxSenders, usedSlots, usedSenders, superuser, replication, user, slotExists] = rows[0];
  const where = pool.target.label;
  if (walLevel !== 'logical') {
    throw pr001(`PostgreSQL at ${where} has wal_level=${walLevel}; CDC needs wal_level=logical (ALTER SYSTEM SET wal_level = logical, then restart the server)`, {
      setting: 'wal_level',
    });
  }
  if (superuser !== 'true' && replication !== 'true') {
    throw pr001(`role "${user}" at ${where} may not stream changes: it needs the REPLICATION attribute (ALTER ROLE "${user}" REPLICATION) or superuser`, {
      user,
    });
  }
  if (slotExists !== 'true' && Number(usedSlots) >= Number(maxSlots)) {
    throw pr001(
      `PostgreSQL at ${where} has no free replication slot (${usedSlots} of max_replication_slots=${maxSlots} in use): drop unused slots (SELECT pg_drop_replication_slot('name')) or raise max_replication_slots`,
      { setting: 'max_replication_slots' },
    );
  }
  if (o.streaming && Number(usedSenders) >= Number(maxSenders)) {
    throw pr001(`PostgreSQL at ${where} has no free WAL sender (${usedSenders} of max_wal_senders=${maxSenders} in use): raise max_wal_senders`, {
      setting: 'max_wal_senders',
    });
  }
}

/** Logs (once per call) the tables whose UPDATE/DELETE a FOR ALL TABLES publication will make PostgreSQL refuse. */
export async function warnNoReplicaIdentity(pool: PgPool, logger: Logger, signal: AbortSignal): Promise<void> {
  const rows = await pool.query<string[]>({ text: NO_IDENTITY_SQL }, signal, 'cdc precheck');
  if (!rows.length) return;
  logger.warn('tables without a replica identity: with a publication FOR ALL TABLES their UPDATE/DELETE fail on the source until you set REPLICA IDENTITY (a primary key, USING INDEX or FULL)', {
    tables: rows.map((r) => r[0]),
  });
}
