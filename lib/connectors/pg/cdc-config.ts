import { z } from 'zod';
import { bool, int, readSection, text, type Field } from '../../config/fields.ts';
import { scan } from '../../config/tokens.ts';
import { FerryError } from '../../core/errors.ts';
import type { TableRef } from '../../core/table.ts';
import { tryParseLsn } from './position.ts';

/**
 * The `[extractor]` keys of PostgreSQL CDC, named and defaulted as in ape-dts (`extractor_config.rs`,
 * `pg_cdc_client.rs`): `slot_name` (required), `pub_name` (default `<slot_name>_publication_for_all_tables`),
 * `start_lsn`, `recreate_slot_if_exists`, `keepalive_interval_secs` (10), `heartbeat_interval_secs` (10),
 * `heartbeat_tb` (`schema.table`, off when empty); and for DDL capture (ape-dts `ddl_meta_tb`) `ddl_meta_tb`
 * (`schema.table`, off when empty) and `install_ddl_trigger` (false).
 */
export interface PgCdcConfig {
  slotName: string;
  /** As PostgreSQL stores it: unquoted names fold to lower case, as ape-dts' unquoted CREATE PUBLICATION does. */
  pubName: string;
  /** An explicit start, 'X/Y'; only used when it is not behind the slot's confirmed_flush_lsn. */
  startLsn?: string;
  recreateSlotIfExists: boolean;
  keepaliveIntervalSecs: number;
  heartbeatIntervalSecs: number;
  heartbeatTable?: TableRef;
  /** `ddl_meta_tb`: the table an event trigger writes each DDL statement into (ddl-capture.ts); off when absent. */
  ddlMetaTable?: TableRef;
  /** `install_ddl_trigger`: ferry creates the meta table and the event trigger itself (needs superuser). */
  installDdlTrigger: boolean;
}

/** PostgreSQL's own rule for slot names (ReplicationSlotValidateName), at most NAMEDATALEN-1 bytes. */
const SLOT = /^[a-z0-9_]{1,63}$/;
/**
 * A publication name goes into START_REPLICATION's `publication_names '...'` option unquoted, where the
 * server folds it to lower case (SplitIdentifierString); so only plain identifiers are accepted, folded here.
 */
const PUB = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

const fields = {
  slot_name: { ...text('a replication slot name (lower-case letters, digits, _; at most 63)'), required: true, schema: z.string().trim().regex(SLOT) },
  pub_name: { ...text('a publication name (letters, digits, _, $; not starting with a digit)'), schema: z.string().trim().regex(PUB) },
  start_lsn: { ...text('an LSN like 16/B374D848'), schema: z.string().trim().refine((s) => tryParseLsn(s) !== null) },
  recreate_slot_if_exists: bool(),
  keepalive_interval_secs: int(1),
  heartbeat_interval_secs: int(1),
  heartbeat_tb: text('schema.table'),
  ddl_meta_tb: text('schema.table'),
  install_ddl_trigger: bool(),
} satisfies Record<string, Field<unknown>>;

/** `schema.table` with optional double quotes (`"My Schema"."t.1"`), as ape-dts' token parser reads it. */
export function parseSchemaTable(value: string, where: string): TableRef {
  const tokens = scan(value, { delims: '.', quotes: ['"'], regex: false, where });
  if (tokens.length !== 2 || tokens.some((t) => !t.value)) {
    throw new FerryError('CF001', `${where}: expected schema.table, got ${JSON.stringify(value)}`, { details: { key: where } });
  }
  return { db: tokens[0].value, tb: tokens[1].value };
}

/** Reads and validates the keys (CF002 for a missing slot_name, CF001 naming `extractor.<key>` otherwise). */
export function readPgCdcConfig(raw: Record<string, unknown>): PgCdcConfig {
  const v = readSection('extractor', fields, raw ?? {});
  const slotName = v.slot_name!;
  return {
    slotName,
    pubName: (v.pub_name ?? `${slotName}_publication_for_all_tables`).toLowerCase(),
    ...(v.start_lsn ? { startLsn: v.start_lsn } : {}),
    recreateSlotIfExists: v.recreate_slot_if_exists ?? false,
    keepaliveIntervalSecs: v.keepalive_interval_secs ?? 10,
    heartbeatIntervalSecs: v.heartbeat_interval_secs ?? 10,
    ...(v.heartbeat_tb ? { heartbeatTable: parseSchemaTable(v.heartbeat_tb, 'extractor.heartbeat_tb') } : {}),
    ...(v.ddl_meta_tb ? { ddlMetaTable: parseSchemaTable(v.ddl_meta_tb, 'extractor.ddl_meta_tb') } : {}),
    installDdlTrigger: v.install_ddl_trigger ?? false,
  };
}
