import { FerryError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { TableRef } from '../../core/table.ts';
import { tableId } from '../../core/table.ts';
import type { PgPool } from './pool.ts';
import { qualified, quoteIdent, quoteLiteral } from './sql.ts';

/**
 * DDL capture (ape-dts `ddl_meta_tb`): pgoutput carries no DDL, so an event trigger writes every DDL
 * statement into an ordinary "meta" table. Its INSERTs are replicated like any row, in the same transaction
 * as the DDL, and the decoder turns them into DdlChanges (cdc-decoder.ts) -- never into RowChanges.
 *
 * Two event triggers share one function:
 * - `ddl_command_end`: CREATE / ALTER / ... -- one row per statement; the object is the statement's table
 *   when it touched one (pg_event_trigger_ddl_commands()), else its first object;
 * - `sql_drop`: DROP ... (drops are not listed by pg_event_trigger_ddl_commands()).
 * Temporary objects, the meta table itself, publications and subscriptions (replication setup, as ferry's own
 * CREATE/ALTER PUBLICATION) and sessions that set `ferry.ddl_capture_skip = on` (ferry's
 * own installer) are not recorded. The statement text is `current_query()`: what the client sent. The
 * function is SECURITY DEFINER (its owner writes the meta table), so users running DDL need no privilege on it.
 */

/** Object names (at most 63 bytes) derived from the meta table's name. */
export function ddlCaptureNames(t: TableRef): { fn: string; endTrigger: string; dropTrigger: string } {
  const base = t.tb.slice(0, 50);
  return { fn: `${base}_capture`, endTrigger: `${base}_ddl_end`, dropTrigger: `${base}_sql_drop` };
}

/** The statements that install DDL capture for meta table `t`; idempotent. Documented in docs/connectors/pg.md. */
export function ddlCaptureSql(t: TableRef): string[] {
  const n = ddlCaptureNames(t);
  const fn = `${quoteIdent(t.db)}.${quoteIdent(n.fn)}`;
  const s = quoteLiteral(t.db);
  const tb = quoteLiteral(t.tb);
  return [
    `CREATE TABLE IF NOT EXISTS ${qualified(t)} (id bigserial PRIMARY KEY, ddl_text text, schema_name text, object_name text, command_tag text, created_at timestamptz DEFAULT now())`,
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS event_trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $ferry$
DECLARE
  r record;
  sch text;
  obj text;
BEGIN
  IF coalesce(current_setting('ferry.ddl_capture_skip', true), '') = 'on' THEN RETURN; END IF;
  IF TG_TAG LIKE '% PUBLICATION' OR TG_TAG LIKE '% SUBSCRIPTION' THEN RETURN; END IF; -- replication setup, not schema
  IF TG_EVENT = 'sql_drop' THEN
    IF TG_TAG NOT LIKE 'DROP %' THEN RETURN; END IF; -- ALTER TABLE ... DROP COLUMN: recorded at ddl_command_end
    SELECT d.schema_name, d.object_name, d.object_type INTO r FROM pg_event_trigger_dropped_objects() d
      WHERE d.original AND NOT d.is_temporary ORDER BY (d.object_type = 'table') DESC LIMIT 1;
    IF NOT FOUND THEN RETURN; END IF;
    sch := coalesce(r.schema_name, CASE WHEN r.object_type = 'schema' THEN r.object_name END);
    obj := r.object_name;
  ELSE
    IF TG_TAG LIKE 'DROP %' THEN RETURN; END IF; -- recorded at sql_drop
    SELECT c.schema_name, c.object_type, c.object_identity,
        CASE WHEN c.classid = 'pg_class'::regclass THEN (SELECT relname FROM pg_class WHERE oid = c.objid) END AS relname,
        CASE WHEN c.classid = 'pg_class'::regclass THEN (SELECT relpersistence FROM pg_class WHERE oid = c.objid) END AS persistence,
        CASE WHEN c.classid = 'pg_namespace'::regclass THEN (SELECT nspname FROM pg_namespace WHERE oid = c.objid) END AS nspname
      INTO r FROM pg_event_trigger_ddl_commands() c
      ORDER BY (c.object_type = 'table') DESC LIMIT 1;
    IF NOT FOUND THEN RETURN; END IF; -- nothing changed (CREATE ... IF NOT EXISTS of an existing object)
    IF r.persistence = 't' OR r.schema_name LIKE 'pg\\_temp%' THEN RETURN; END IF;
    sch := coalesce(r.schema_name, r.nspname);
    obj := coalesce(r.relname, r.nspname, r.object_identity);
  END IF;
  IF sch = ${s} AND obj = ${tb} THEN RETURN; END IF;
  INSERT INTO ${qualified(t)} (ddl_text, schema_name, object_name, command_tag) VALUES (current_query(), sch, obj, TG_TAG);
END
$ferry$`,
    `DROP EVENT TRIGGER IF EXISTS ${quoteIdent(n.endTrigger)}`,
    `CREATE EVENT TRIGGER ${quoteIdent(n.endTrigger)} ON ddl_command_end EXECUTE FUNCTION ${fn}()`,
    `DROP EVENT TRIGGER IF EXISTS ${quoteIdent(n.dropTrigger)}`,
    `CREATE EVENT TRIGGER ${quoteIdent(n.dropTrigger)} ON sql_drop EXECUTE FUNCTION ${fn}()`,
  ];
}

/**
 * Installs (install_ddl_trigger) or checks DDL capture. Installation is one implicit transaction with
 * `ferry.ddl_capture_skip` set locally, so re-installing records nothing. Without installation the meta table
 * must exist (PR001 otherwise): the publication cannot list a missing table.
 */
export async function prepareDdlCapture(pool: PgPool, t: TableRef, install: boolean, logger: Logger, signal: AbortSignal): Promise<void> {
  const ctx = `ddl capture ${tableId(t)}`;
  if (install) {
    const sql = [`SELECT set_config('ferry.ddl_capture_skip', 'on', true)`, ...ddlCaptureSql(t)].join(';\n');
    await pool.query({ text: sql }, signal, ctx);
    logger.info('ddl capture installed', { table: tableId(t) });
    return;
  }
  const rows = await pool.query({ text: 'SELECT (to_regclass($1) IS NOT NULL)::text', values: [qualified(t)] }, signal, ctx);
  if (rows[0]?.[0] !== 'true') {
    throw new FerryError(
      'PR001',
      `extractor.ddl_meta_tb: table ${tableId(t)} does not exist; set extractor.install_ddl_trigger=true or install the DDL capture SQL of docs/connectors/pg.md`,
      { details: { table: tableId(t) } },
    );
  }
}
